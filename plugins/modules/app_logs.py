#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: app_logs
short_description: An app's journal on a host, each line prefixed by the host and the process
description:
  - Reads the last O(lines) lines of the journal of the app's units (C(<unit_prefix>.target) and
    C(<unit_prefix>-*) - its web instances, other processes, build steps and port filter, and systemd's own word
    about them), oldest first, in one round-trip. Each line is the time, the host and the process (as the unit
    names it - C(web@8001), C(worker@1), C(build)), a colon and the message.
  - An app that has neither a live release nor units on the host is refused, naming the apps the host has.
  - Read-only.
version_added: "1.2.0"
author: pyfleet contributors
extends_documentation_fragment: [pyfleet.deploy.operate]
options:
  lines:
    description: How many lines, the newest.
    type: int
    default: 100
  since:
    description: Only lines from then on, as journalctl's C(--since) takes it (C(1 hour ago), C(today), C(2026-12-04 10:00)).
    type: str
    default: ""
  process:
    description:
      - Only this process's lines (C(web), C(worker), ...; C(build), the build steps; C(run), one-off commands); empty,
        all of them.
    type: str
    default: ""
'''

EXAMPLES = r'''
- name: The web process's last 50 lines
  pyfleet.deploy.app_logs:
    name: shop
    unit_prefix: pyfleet-shop
    current: /srv/shop/current
    host: "{{ inventory_hostname }}"
    lines: 50
    process: web
  register: shop_logs
'''

RETURN = r'''
lines:
  description: The lines, oldest first, each the time, the host and the process, a colon and the message.
  returned: success
  type: list
  elements: str
entries:
  description: The same as data - time (UTC), host, process, priority (syslog's, 0-7) and message.
  returned: success
  type: list
  elements: dict
'''

from ansible_collections.pyfleet.deploy.plugins.module_utils import entry
from ansible_collections.pyfleet.deploy.plugins.module_utils.operate import LOGS_SPEC, logs


def main():
    entry.run(LOGS_SPEC, logs)


if __name__ == '__main__':
    main()
