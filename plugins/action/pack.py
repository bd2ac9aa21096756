# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for pyfleet.deploy.pack: the work is done in the controller's own process.

The app source lives on the controller, so a module shipped through a
connection would only cost time. The module file holds the documentation
(ansible-doc pyfleet.deploy.pack); the rules live in module_utils/pack.py.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.pyfleet.deploy.plugins.module_utils import pack as rules


class ActionModule(ActionBase):
    """Run the rules on the controller; check mode is the same run (see the module's documentation)."""

    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, params = self.validate_argument_spec(argument_spec=rules.ARGUMENT_SPEC,
                                                    **getattr(rules, 'ARGUMENT_RULES', {}))
        result.update(rules.run_task(params))
        return result
