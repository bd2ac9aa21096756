#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: app_ports
short_description: Check that an app's web ports are its alone on the host, naming the holder of each that is not
description:
  - For an app whose web process listens on ports (a command that binds C($PORT), or gunicorn whose config sets
    C(reuse_port)). Each of O(ports) must have no listener but the app's own units (found by the listening socket's
    process and its cgroup) - not ssh, nginx, a database, another app - and no other app's claim (the first lines of
    that app's port filter, C(<config_root>/<app>/ports.nft)).
  - With O(auto), the host chooses the pair (see O(auto)), so two apps on a host never overlap without anyone choosing
    ports two apart; the deploy puts the app's web instances on it (the filter C(pyfleet.deploy.plan_on_port)).
  - Otherwise the task fails before anything changes, naming each port and its holder (command, pid and unit), and
    a free pair of ports to set C(pyfleet_web_port) to.
  - Read-only; one round-trip.
version_added: "1.2.0"
author: pyfleet contributors
options:
  app:
    description: The app's name; listeners in its units (C(pyfleet-<app>-<process>@<n>.service)) are its own.
    type: str
    required: true
  ports:
    description: Its web ports (the web port and the next one).
    type: list
    elements: int
    required: true
  config_root:
    description: Where the apps' configuration lives on the host (their port filters claim their ports).
    type: path
    default: /etc/pyfleet
  auto:
    description:
      - C(pyfleet_web_port) was not set - the host gives the app its pair - the one it has here already (the names of
        O(slots_dir)), else O(ports) when they are free, else the first free pair from 8000 on - and checks it.
    type: bool
    default: false
  slots_dir:
    description: The app's web instances' links (the plan's C(layout.slots)), named by their ports.
    type: path
    default: ""
attributes:
  check_mode:
    support: full
    description: It only reads.
  diff_mode:
    support: none
    description: Nothing to show a diff of.
'''

EXAMPLES = r'''
- name: Check that ports 8010 and 8011 are the app's alone
  pyfleet.deploy.app_ports:
    app: shop
    ports: [8010, 8011]
'''

RETURN = r'''
port:
  description: The app's first web port on this host (the second instance has the next).
  returned: success
  type: int
ports:
  description: The ports checked.
  returned: always
  type: list
  elements: int
msg:
  description: Why the ports cannot be the app's, naming each holder and a free pair.
  returned: failure
  type: str
'''

from ansible_collections.pyfleet.deploy.plugins.module_utils import entry
from ansible_collections.pyfleet.deploy.plugins.module_utils.ports import ARGUMENT_SPEC, run_task


def main():
    entry.run(ARGUMENT_SPEC, run_task)


if __name__ == '__main__':
    main()
