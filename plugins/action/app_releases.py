# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for pyfleet.deploy.app_releases: with ``action: prepare`` and ``archive`` (the release packed on
the controller), the archive is copied into the task's temporary directory on the host, and the module makes the
release's directory and unpacks it there in the same round-trip; a release that is already checked is left as it
is. With ``unlock`` (the deploy lock's path), this run's token goes with it (plugin_utils/run_token.py). Any other
action runs the module as it is.

The module file documents it (ansible-doc pyfleet.deploy.app_releases).
"""

from __future__ import annotations

from ansible_collections.pyfleet.deploy.plugins.plugin_utils.kept_payloads import KeptPayloads
from ansible_collections.pyfleet.deploy.plugins.plugin_utils.run_token import this_run

MODULE = 'pyfleet.deploy.app_releases'


class ActionModule(KeptPayloads):
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        archive = args.get('archive') or ''
        shipped = archive and args.get('action') == 'prepare' and not self._task.check_mode
        if archive and not shipped:
            args.pop('archive')     # nothing is unpacked in check mode
        if isinstance(args.get('unlock'), dict) and 'token' not in args['unlock']:
            args['unlock'] = dict(args['unlock'], token=this_run()[0])
        try:
            if shipped:
                try:
                    local = self._loader.get_real_file(self._find_needle('files', archive), decrypt=False)
                except Exception as e:  # the pack step's file is gone: say which
                    result.update(failed=True, msg='pyfleet: the release archive %s is not on the controller: %s'
                                  % (archive, e))
                    return result
                tmpdir = self._connection._shell.tmpdir or self._make_tmp_path()
                args['archive'] = self._connection._shell.join_path(tmpdir, 'release.tar.gz')
                self._transfer_file(local, args['archive'])
                self._fixup_perms2((tmpdir, args['archive']))
            result.update(self._execute_module(MODULE, module_args=args, task_vars=task_vars))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
