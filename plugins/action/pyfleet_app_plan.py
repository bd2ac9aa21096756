# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for pyfleet_app_plan: the plan is made in the controller's own process.

The app source lives on the controller, so shipping the module there through
a connection (a new Python, ansible.module_utils imported from a zip) only
costs time. The rules are the module's, loaded by path from module_utils.
Documentation: plugins/modules/pyfleet_app_plan.py (ansible-doc pyfleet_app_plan).
"""

from __future__ import annotations

import importlib.util
import os

from ansible.plugins.action import ActionBase

_SPEC = importlib.util.spec_from_file_location(
    'pyfleet_plan_rules', os.path.join(os.path.dirname(__file__), '..', 'module_utils', 'pyfleet_plan.py'))
rules = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(rules)


class ActionModule(ActionBase):
    """Run the plan's rules on the controller; read-only, so check mode is the same run."""

    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, params = self.validate_argument_spec(argument_spec=rules.ARGUMENT_SPEC, **rules.ARGUMENT_RULES)
        result.update(rules.run_task(params))
        return result
