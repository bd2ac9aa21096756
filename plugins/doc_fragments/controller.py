# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every pyfleet module that works on the controller has in common."""

from __future__ import annotations


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    support: full
    description: The same run as without check mode; nothing on a managed host changes.
  diff_mode:
    support: none
    description: Nothing to show a diff of.
  action:
    support: full
    description: An action plugin of the same name does the work on the controller, in Ansible's own process.
'''
