# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of pyfleet's action plugins: a module whose work is done on the controller, in Ansible's process.

The app source lives on the controller, so a module shipped through a connection would only cost time.
Each module file holds the documentation (ansible-doc pyfleet.deploy.<name>); its rules live in a
module_utils file that has ARGUMENT_SPEC (and ARGUMENT_RULES), and run_task(params) -> the result.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.pyfleet.deploy.plugins.plugin_utils.said_once import said_once_here


class ControllerTask(ActionBase):
    """Validate the arguments by the rules' spec and run their task; check mode is the same run. A failure of
    several lines (the plan's findings) is said once, as lines."""

    _requires_connection = False
    _supports_check_mode = True
    rules = None  # the module_utils module with ARGUMENT_SPEC and run_task

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, params = self.validate_argument_spec(argument_spec=self.rules.ARGUMENT_SPEC,
                                                    **getattr(self.rules, 'ARGUMENT_RULES', {}))
        result.update(self.rules.run_task(params))
        return said_once_here(result)
