#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: app_config
short_description: An app's environment on a host - its names, and what an operator set or unset without a deploy
description:
  - C(show) - the names in the app's environment file (never a value), and which of them C(playbooks/config.yml)
    set or unset (kept in C(config.json) beside the file, which every deploy applies over the inventory's
    environment). Read-only.
  - C(change) - the environment file with C(set) and C(unset) applied, written whole; the blue/green switch then
    starts the app on it, and a failure puts the live release's file back (its snapshot).
  - C(keep) - C(set) and C(unset) added to C(config.json), once the switch went through, so every later deploy
    keeps them.
  - One round-trip each; the rules are C(plugins/module_utils/appconfig.py).
version_added: "1.2.0"
author: pyfleet contributors
options:
  action:
    description: What to do.
    type: str
    choices: [show, change, keep]
    default: show
  env_dir:
    description: The app's configuration directory (the layout's C(env_dir)), which holds C(env) and C(config.json).
    type: path
    required: true
  set:
    description: Names to set, with their values (strings, numbers, booleans). Never logged.
    type: dict
    default: {}
  unset:
    description: Names to remove.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: It says what it would change and writes nothing.
  diff_mode:
    support: none
    description: Values are secrets; no diff is shown.
'''

EXAMPLES = r'''
- name: Set a name and remove another
  pyfleet.deploy.app_config:
    action: change
    env_dir: /etc/pyfleet/shop
    set: {FEATURE_X: "on"}
    unset: [OLD_FLAG]
'''

RETURN = r'''
names:
  description: The names in the environment file, after the action.
  returned: success
  type: list
  elements: str
operator_set:
  description: The names config.yml set (kept in config.json).
  returned: success
  type: list
  elements: str
operator_unset:
  description: The names config.yml unset (kept in config.json).
  returned: success
  type: list
  elements: str
lines:
  description: Each name, and whether config.yml set or unset it, as lines to read.
  returned: success
  type: list
  elements: str
'''

from ansible_collections.pyfleet.deploy.plugins.module_utils import entry
from ansible_collections.pyfleet.deploy.plugins.module_utils.appconfig import ARGUMENT_SPEC, run_task


def main():
    entry.run(ARGUMENT_SPEC, run_task, pass_check_mode=True)


if __name__ == '__main__':
    main()
