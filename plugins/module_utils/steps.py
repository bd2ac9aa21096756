# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A build step on the host (the module pyfleet.deploy.build_step): run one command line; when it fails, say
so once, readably: the step, what serves now, the last lines of its output and a hint, and nothing else.

The command's output is returned only when it succeeded (a later task may read it); a failure's output is
in its message, once, and not again as stdout/stderr/stdout_lines beside it.
"""

from __future__ import annotations

import os
import re
import subprocess

from ansible_collections.pyfleet.deploy.plugins.module_utils import report

ARGUMENT_SPEC = dict(
    argv=dict(type='list', elements='str', required=True),
    step=dict(type='str', required=True),
    current=dict(type='path'),
    fail_on=dict(type='str', default=''),
    hints=dict(type='list', elements='dict', default=[]),
    native_build_hints=dict(type='list', elements='dict', default=[]),
    tail=dict(type='int', default=report.TAIL),
    changed=dict(type='bool', default=True),
    heartbeat=dict(type='float', default=0),    # the action's (plugin_utils/said_once.py); never reaches the host
)


def execute(argv):
    """(rc, stdout, stderr) of ``argv``, run without a shell and without stdin."""
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              check=False)
    except OSError as exc:
        return 127, '', '%s: %s' % (argv[0], exc.strerror or exc)
    return (proc.returncode, proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace'))


def run_task(p, run=execute, exists=os.path.lexists):
    """The module's result for validated parameters ``p``."""
    bad = report.bad_pattern([('fail_on', p['fail_on'])] + [('hints', h.get('match')) for h in p['hints']]
                             + [('native_build_hints', h.get('match')) for h in p['native_build_hints']])
    if bad:
        return dict(failed=True, msg=bad)
    rc, out, err = run(p['argv'])
    output = out + '\n' + err
    said = re.search(p['fail_on'], output, re.M) if p['fail_on'] else None
    if rc == 0 and not said:
        return dict(changed=p['changed'], rc=rc, stdout=out, stderr=err)
    why = 'exit %d' % rc if rc else 'its output says %r' % said.group(0)
    return dict(
        failed=True, changed=p['changed'], rc=rc,
        msg=report.compose('pyfleet: %s failed (%s).' % (p['step'], why),
                           report.serving(p['current'], exists) if p['current'] else '',
                           report.tail(out, p['tail']), report.tail(err, p['tail']),
                           report.packages_hint(output, p['native_build_hints']),
                           report.first_hint(output, p['hints'])))
