# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of pyfleet.deploy.app_cutover: the module runs on the host; a failure's report is said once. With a
snapshot that lets the deploy lock go (``snapshot.unlock``), this run's token goes with it
(plugin_utils/run_token.py)."""

from __future__ import annotations

from ansible_collections.pyfleet.deploy.plugins.plugin_utils.run_token import this_run
from ansible_collections.pyfleet.deploy.plugins.plugin_utils.said_once import SaidOnce


class ActionModule(SaidOnce):

    def module_args(self, args):
        snap = args.get('snapshot')
        if isinstance(snap, dict) and isinstance(snap.get('unlock'), dict) and 'token' not in snap['unlock']:
            args['snapshot'] = dict(snap, unlock=dict(snap['unlock'], token=this_run()[0]))
        return args
