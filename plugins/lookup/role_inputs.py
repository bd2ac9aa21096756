# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role variables this run sets, for the deploy's fingerprint."""

from __future__ import annotations

DOCUMENTATION = r'''
name: role_inputs
version_added: 1.2.0
author: pyfleet contributors
short_description: The pyfleet role variables this run sets, name and value
description:
  - Every option of the collection's roles (their C(meta/argument_specs.yml), each entry point) that this run sets,
    in the inventory, group_vars, host_vars, with C(-e) or as a play's vars, with its value.
  - Left out are a role's own defaults (a variable whose value is its default as written) and what the collection's
    tasks set as a fact or register (a role's published results, such as C(app_release_dir), which an earlier deploy
    of another app in the same run leaves behind), so that equal runs give equal inputs.
  - The deploy's fingerprint (C(pyfleet.deploy.fingerprint)) covers them.
options: {}
'''

EXAMPLES = r'''
- name: The role variables this run sets
  ansible.builtin.debug:
    msg: "{{ lookup('pyfleet.deploy.role_inputs') }}"  # {nginx_site_server_names: [shop.example.com], ...}
'''

RETURN = r'''
_raw:
  description: One mapping, variable name -> its value as this run has it.
  type: list
  elements: dict
'''

import os

from ansible.plugins.lookup import LookupBase

from ansible_collections.pyfleet.deploy.plugins.module_utils import contract

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        defaults = contract.role_defaults(_ROOT)
        found = {}
        for name in contract.role_inputs_cached(_ROOT, os.path.expanduser('~/.cache/pyfleet')):
            if name not in variables:
                continue
            raw = variables[name]
            if name in defaults and raw == defaults[name]:
                continue
            found[name] = self._templar.template(raw)
        return [found]
