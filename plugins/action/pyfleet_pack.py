# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for pyfleet_pack: the release is packed in the controller's own process.

The source and the archive cache are both on the controller, so no connection
is needed. The rules are the module's, loaded by path from module_utils.
Documentation: plugins/modules/pyfleet_pack.py (ansible-doc pyfleet_pack).
"""

from __future__ import annotations

import importlib.util
import os

from ansible.plugins.action import ActionBase

_SPEC = importlib.util.spec_from_file_location(
    'pyfleet_pack_rules', os.path.join(os.path.dirname(__file__), '..', 'module_utils', 'pyfleet_pack.py'))
rules = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(rules)


class ActionModule(ActionBase):
    """Pack once into the controller's cache; a cache write is never a change of the deploy."""

    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, params = self.validate_argument_spec(argument_spec=rules.ARGUMENT_SPEC)
        result.update(rules.run_task(params))
        return result
