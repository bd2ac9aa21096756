# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module that reads an app on a host for an operator takes (module_utils/operate.py, COMMON_SPEC)."""

from __future__ import annotations


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options:
  name:
    description: The app's name.
    type: str
    required: true
  unit_prefix:
    description: The app's units' prefix (the layout's C(unit_prefix), C(pyfleet-<app>)).
    type: str
    required: true
  current:
    description: The app's C(current) link (the layout's C(current)).
    type: path
    required: true
  config_root:
    description: Where the apps' configuration directories are, to name the apps the host has.
    type: path
    default: /etc/pyfleet
  host:
    description: The host's name, for what the answer says.
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    description: It only reads.
  diff_mode:
    support: none
    description: Nothing to show a diff of.
'''
