# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of a pyfleet module whose failure is a report of several lines (build_step, http_check).

ansible-core 2.19 prints a failed task twice: its error (the module's ``msg``, as lines) and then its result,
``msg`` included. A report of forty lines would be read twice. This action runs the module as Ansible's own
``normal`` action does (async included) and, when the error was already taken from the message, leaves only
the message's first line in the result: the report is said once, as lines. With an older ansible-core, which
prints only the result, the message is left whole.
"""

from __future__ import annotations

import os
import time

from ansible.utils.display import Display

from ansible_collections.pyfleet.deploy.plugins.plugin_utils.kept_payloads import KeptPayloads

try:    # ansible-core 2.19 on: what a task's error is made of
    from ansible.module_utils._internal._messages import ErrorSummary, Event
except ImportError:  # pragma: no cover - an older ansible-core prints the result only
    ErrorSummary = Event = None


def said_once(result):
    """``result``, with a failure's ``msg`` cut to its first line when ansible-core already holds the whole of it as
    the task's error (a 2.19 error summary under ``exception``, not an older traceback string)."""
    msg = result.get('msg')
    exception = result.get('exception')
    if result.get('failed') and isinstance(msg, str) and '\n' in msg and exception is not None \
            and not isinstance(exception, str):
        result['msg'] = msg.split('\n', 1)[0]
    return result


def said_once_here(result):
    """The same for a failure found on the controller (an action's own result, which ansible-core turns into the
    task's error after the action returns): the whole report becomes the error, printed as lines, and ``msg`` its
    first line. Without ansible-core 2.19's error summaries, ``result`` is left as it is."""
    msg = result.get('msg')
    if ErrorSummary is not None and result.get('failed') and isinstance(msg, str) and '\n' in msg \
            and 'exception' not in result:
        result['exception'] = ErrorSummary(event=Event(msg=msg))
    return said_once(result)


def shown(name, host, result):
    """A passed step's output, as Heroku shows a build hook's: a line naming it (and the host), then its lines
    indented (stdout, then stderr; what the module kept of them: its last lines). Empty when it printed nothing."""
    lines = [line for line in (result.get('stdout') or '').splitlines() + (result.get('stderr') or '').splitlines()]
    if not any(line.strip() for line in lines):
        return ''
    return '\n'.join(['-----> %s [%s]' % (name, host)] + ['       ' + line for line in lines])


class SaidOnce(KeptPayloads):
    """Run the module of the task's name on the host; say a failure's report once. With ``heartbeat`` (seconds,
    an argument of the action, not of the module), the module runs in the background on the host and a line says
    every so many seconds that it still runs, as ``async``/``poll`` would, but its failure is still said once
    (Ansible's own polling hands back a result this action never sees)."""

    _supports_check_mode = True
    _supports_async = True
    _display = Display()

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        heartbeat = float(args.pop('heartbeat', 0) or 0)
        show = args.pop('show', '') or ''
        args = self.module_args(args)
        if heartbeat > 0 and not self._task.async_val and not self._task.check_mode:
            result.update(self._with_heartbeat(args, task_vars, heartbeat))
        else:
            wrap_async = self._task.async_val and not self._connection.has_native_async
            result.update(self._execute_module(module_args=args, task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
        if show and not result.get('failed'):
            said = shown(show, (task_vars or {}).get('inventory_hostname', ''), result)
            if said:
                self._display.display(said)
        return said_once(result)

    def module_args(self, args):
        """The module's arguments from the task's (a subclass adds what only the controller knows)."""
        return args

    def _with_heartbeat(self, args, task_vars, heartbeat):
        # the background job's own limit, for the wrapper only: ansible-core must not poll the task itself
        self._task.async_val = 86400
        try:
            started = self._execute_module(module_args=args, task_vars=task_vars, wrap_async=True)
        finally:
            self._task.async_val = 0
        if started.get('failed') or not started.get('ansible_job_id'):
            return started
        status_args = {'jid': started['ansible_job_id'], '_async_dir': os.path.dirname(started.get('results_file', ''))}
        host = (task_vars or {}).get('inventory_hostname', '')
        began = time.monotonic()
        while True:
            time.sleep(heartbeat)
            status = self._execute_module(module_name='ansible.legacy.async_status', module_args=status_args,
                                          task_vars=task_vars)
            if status.get('finished') or status.get('failed'):
                break
            self._display.display('[%s] still running after %d s' % (host, time.monotonic() - began))
        self._execute_module(module_name='ansible.legacy.async_status', module_args=dict(status_args, mode='cleanup'),
                             task_vars=task_vars)
        self._remove_tmp_path(self._connection._shell.tmpdir)
        for key in ('ansible_job_id', 'finished', 'started', 'results_file', 'invocation'):
            status.pop(key, None)
        return status
