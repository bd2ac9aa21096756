# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for pyfleet.deploy.app_plan: its rules (module_utils/plan.py) run on the controller.

The plan is published as the fact app_plan_result (with run_once, on every host of the play), and the plan's
notes are said once, as lines (its warnings are Ansible's warnings); both are in the task's result too, as data.
The module file documents it (ansible-doc pyfleet.deploy.app_plan).
"""

from __future__ import annotations

from ansible_collections.pyfleet.deploy.plugins.module_utils import plan
from ansible_collections.pyfleet.deploy.plugins.plugin_utils.controller_task import ControllerTask


class ActionModule(ControllerTask):
    rules = plan

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if not result.get('failed') and 'plan' in result:
            result['ansible_facts'] = {'app_plan_result': result['plan']}
            if result.get('notes'):
                self._display.display(result['notes'])
        return result
