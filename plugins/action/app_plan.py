# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for pyfleet.deploy.app_plan: its rules (module_utils/plan.py) run on the controller.

The module file documents it (ansible-doc pyfleet.deploy.app_plan).
"""

from __future__ import annotations

from ansible_collections.pyfleet.deploy.plugins.module_utils import plan
from ansible_collections.pyfleet.deploy.plugins.plugin_utils.controller_task import ControllerTask


class ActionModule(ControllerTask):
    rules = plan
