# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of pyfleet.deploy.app_cutover: the module runs on the host; a failure's report is said once."""

from __future__ import annotations

from ansible_collections.pyfleet.deploy.plugins.plugin_utils.said_once import SaidOnce


class ActionModule(SaidOnce):
    pass
