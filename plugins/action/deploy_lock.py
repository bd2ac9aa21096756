# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for pyfleet.deploy.deploy_lock: it waits on the controller, where it can tell whether a
holder's process is gone, and tries the lock on the host with one short module call at a time.

The module file documents it (ansible-doc pyfleet.deploy.deploy_lock).
"""

from __future__ import annotations

import time

from ansible.utils.display import Display

from ansible_collections.pyfleet.deploy.plugins.module_utils import deploy_lock
from ansible_collections.pyfleet.deploy.plugins.plugin_utils.kept_payloads import KeptPayloads
from ansible_collections.pyfleet.deploy.plugins.plugin_utils.run_token import this_run
from ansible_collections.pyfleet.deploy.plugins.plugin_utils.said_once import said_once_here

MODULE = 'pyfleet.deploy.deploy_lock'


class ActionModule(KeptPayloads):
    _supports_check_mode = True
    _display = Display()

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            timeout=dict(type='int', default=600),
            lease=dict(type='int', default=3600),
            interval=dict(type='float', default=2.0),
            host_work=dict(type='list', elements='str', default=[]),
            look=dict(type='dict', default={}),
            settled_first=dict(type='bool', default=False)))
        token, holder = this_run()
        call = dict(path=args['path'], state=args['state'], token=token, holder=holder, lease=args['lease'],
                    host_work=args['host_work'], look=args['look'], settled_first=args['settled_first'])
        if args['state'] == 'absent':
            result.update(self._execute_module(MODULE, module_args=call, task_vars=task_vars))
            return result
        start = time.monotonic()
        took_over = ''
        told = False
        while True:
            res = self._execute_module(MODULE, module_args=call, task_vars=task_vars)
            if res.get('failed'):
                result.update(res)
                return result
            if res.get('settled'):      # settled_first: the host is done; the lock was not taken (or was let go)
                result.update(changed=False, taken=False, settled=True, look=res['look'],
                              waited=round(time.monotonic() - start, 1))
                return result
            if res.get('taken'):
                result.update(changed=False, taken=True, settled=False, holder=res['holder'],
                              waited=round(time.monotonic() - start, 1),
                              took_over=took_over, **({'look': res['look']} if 'look' in res else {}))
                if took_over:
                    result['warnings'] = ['pyfleet: took over a stale deploy lock held by %s.' % took_over]
                return result
            other = res.get('holder') or {}
            running = other.pop('running', None) or []
            if other.get('token') and other['token'] != call.get('take_over') and (
                    other.get('expired') or deploy_lock.holder_is_gone(other, holder['controller'])):
                took_over = deploy_lock.describe(other) + (' (its lease ran out)' if other.get('expired')
                                                           else ' (its process is gone)')
                call['take_over'] = other['token']
                continue
            steps = ', '.join('%s (running since %s)' % (r['unit'], r['since'] or 'an unknown time') for r in running)
            if time.monotonic() - start >= args['timeout']:
                if running:
                    msg = ('pyfleet: a build step of an earlier deploy of this app still runs on this host; waited %d s.\n'
                           '%s.\nA deploy that was killed, or lost its connection, leaves its step running to its end, '
                           'and no other deploy starts before it ends.\nWait longer with pyfleet_lock_timeout, or stop '
                           'it: systemctl stop %s' % (args['timeout'], steps, ' '.join(r['unit'] for r in running)))
                else:
                    msg = ('pyfleet: another deploy of this app holds %s on this host; waited %d s.\nIt is %s.\nRun '
                           'again when it is done, or wait longer with pyfleet_lock_timeout; a lock whose holder is gone '
                           'is taken over by itself.' % (args['path'], args['timeout'], deploy_lock.describe(other)))
                result.update(failed=True, holder=other, running=running, msg=msg)
                return said_once_here(result)
            if running and not told:
                told = True
                self._display.display('[%s] waiting for a build step of an earlier deploy that still runs on the host: %s'
                                      % ((task_vars or {}).get('inventory_hostname', ''), steps))
            time.sleep(args['interval'])
