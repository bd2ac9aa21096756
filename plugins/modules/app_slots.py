#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: app_slots
short_description: Where an app's blue/green web instances stand on a host, in one look
description:
  - "Reads which web instance nginx proxies to (the live one - the upstream file names it with C(# live: PORT) once
    it passed its health check), which release each instance's link (C(slots/PORT)) points to, and which instances
    run. app_switch decides from it whether the release starts beside the live one, and on which instance."
  - Read-only; one round-trip.
version_added: "1.1.0"
author: pyfleet contributors
options:
  upstream_conf:
    description: The app's nginx upstream file (the plan's C(layout.upstream_conf)).
    type: path
    required: true
  slots_dir:
    description: The directory of the instances' links (the plan's C(layout.slots)).
    type: path
    required: true
  units:
    description: 'Each web instance''s port to its unit, e.g. C({"8000": pyfleet-shop-web@8000.service}).'
    type: dict
    required: true
attributes:
  check_mode:
    support: full
    description: It only reads.
  diff_mode:
    support: none
    description: Nothing to show a diff of.
'''

EXAMPLES = r'''
- name: Read where blue/green stands
  pyfleet.deploy.app_slots:
    upstream_conf: /etc/nginx/pyfleet/shop.upstream.conf
    slots_dir: /srv/shop/slots
    units: {"8000": pyfleet-shop-web@8000.service, "8001": pyfleet-shop-web@8001.service}
  register: slots
'''

RETURN = r'''
live:
  description: The live instance's port, or empty when none is (no release passed its check yet, or its link is gone).
  returned: always
  type: str
named:
  description: The port the upstream file names, whether or not its link exists.
  returned: always
  type: str
runs:
  description: Port to the release directory its link points to, for each instance that has a link.
  returned: always
  type: dict
running:
  description: The instances' units that are active (or activating, or reloading).
  returned: always
  type: list
  elements: str
states:
  description: Each unit's ActiveState.
  returned: always
  type: dict
upstream_text:
  description: The upstream file as it is (empty when there is none), to put back if a switch fails.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.deploy.plugins.module_utils.slots import ARGUMENT_SPEC, run_task


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.exit_json(**run_task(module.params))


if __name__ == '__main__':
    main()
