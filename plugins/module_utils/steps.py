# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A build step on the host (the module pyfleet.deploy.build_step): run one command line; when it fails, say
so once, readably: the step, what serves now, the last lines of its output and a hint, and nothing else.

The output is read as it comes, line by line, and only its last lines (``tail`` lines, at most ``tail_bytes``
bytes, each line at most ``LINE_MAX`` characters) are kept: an app that prints 50 MB costs the host and the
controller a few kilobytes. The whole of it goes to the journal (``journal``, a syslog identifier), and the
patterns (``fail_on``, the hints) are searched in every line as it passes.

A step has a time limit (``timeout``, seconds): a C(systemd-run) command line gets ``RuntimeMaxSec=`` on its
unit, so systemd ends the step by itself even when the deploy that started it is gone; and past the limit the
module stops the unit (``unit``) itself. The failure then names the step and the setting that limits it.

The command's output is returned only when it succeeded (a later task may read its last lines); a failure's
output is in its message, once, and not again as stdout/stderr/stdout_lines beside it.

A step that is a release's last check may mark it checked once it passed (``checked``: the release and its state
directory), in the same round-trip; what the mark holds is gunicorn's answer in the step's output (module_utils/
gunicorn.py), or else the one the mark held before. module_utils/releases.py writes the mark.
"""

from __future__ import annotations

import collections
import os
import re
import selectors
import subprocess
import time

from ansible_collections.pyfleet.deploy.plugins.module_utils import gunicorn, native as nativelib, releases, report

LINE_MAX = 4096         # characters of one line that are kept
TAIL_BYTES = 65536      # bytes of a stream's last lines that are kept

ARGUMENT_SPEC = dict(
    argv=dict(type='list', elements='str', required=True),
    step=dict(type='str', required=True),
    current=dict(type='path'),
    fail_on=dict(type='str', default=''),
    hints=dict(type='list', elements='dict', default=[]),
    native_build_hints=dict(type='list', elements='dict', default=[]),
    native_build=dict(type='bool', default=False),
    tail=dict(type='int', default=report.TAIL),
    tail_bytes=dict(type='int', default=TAIL_BYTES),
    timeout=dict(type='int', default=0),
    timeout_setting=dict(type='str', default='pyfleet_step_timeout'),
    unit=dict(type='str', default=''),
    journal=dict(type='str', default=''),
    changed=dict(type='bool', default=True),
    heartbeat=dict(type='float', default=0),    # the action's (plugin_utils/said_once.py); never reaches the host
    show=dict(type='str', default=''),          # the action's too: the output shown after the step passed
    # once it passed, mark release ``release`` checked in ``state`` (holding gunicorn's answer: the step's, else ``gunicorn``)
    checked=dict(type='dict', options=dict(
        release=dict(type='path', required=True), state=dict(type='path', required=True),
        gunicorn=dict(type='dict', default={}))),
)


class Scan(object):
    """What is kept of a command's output: each stream's last lines (by count and by bytes), how many lines it
    had, and the first line each pattern matched."""

    def __init__(self, patterns, lines=report.TAIL, max_bytes=TAIL_BYTES, collect=None, collect_max=200):
        self.patterns = [(p, re.compile(p, re.M)) for p in patterns if p]
        # every line that matches ``collect`` (what a native build lacks), wherever it is: the first and the
        # last collect_max / 2 of them
        self.collect = re.compile(collect) if collect else None
        self.collect_max = collect_max
        self.collect_head = []
        self.collect_tail = collections.deque(maxlen=max(collect_max - collect_max // 2, 1))
        self.lines = max(lines, 1)
        self.max_bytes = max_bytes
        self.kept = {'out': collections.deque(), 'err': collections.deque()}
        self.size = {'out': 0, 'err': 0}
        self.count = {'out': 0, 'err': 0}
        self.first = {}     # pattern -> (what it matched, the line) the first time

    def feed(self, stream, line):
        line = line.rstrip('\r\n')
        if len(line) > LINE_MAX:
            line = line[:LINE_MAX] + ' [... %d more characters]' % (len(line) - LINE_MAX)
        if self.collect is not None and self.collect.search(line):
            if len(self.collect_head) < self.collect_max // 2:
                self.collect_head.append(line)
            else:
                self.collect_tail.append(line)
        for pattern, regex in self.patterns:
            if pattern not in self.first:
                found = regex.search(line)
                if found:
                    self.first[pattern] = (found.group(0), line)
        kept = self.kept[stream]
        kept.append(line)
        self.count[stream] += 1
        self.size[stream] += len(line) + 1
        while len(kept) > self.lines or (self.size[stream] > self.max_bytes and len(kept) > 1):
            self.size[stream] -= len(kept.popleft()) + 1

    @property
    def collected(self):
        """The telling lines kept (the first and the last of them), in order."""
        return self.collect_head + list(self.collect_tail)

    def text(self, stream):
        """The stream's kept lines, as text."""
        kept = self.kept[stream]
        return ''.join(line + '\n' for line in kept)

    def tail(self, stream):
        """The kept lines, with a line that says how many came before them."""
        return report.tail(self.text(stream), self.lines, self.count[stream] - len(self.kept[stream]))

    def matched(self):
        """The first line each pattern matched, one per line: every pattern that matched the output matches it."""
        return '\n'.join(line for _, line in self.first.values())

    def said(self, pattern):
        """What ``pattern`` matched first, or None."""
        return self.first[pattern][0] if pattern in self.first else None


class Journal(object):
    """Every line of the output into the journal, under ``identifier`` (systemd-cat; stdout at info, stderr at
    error level). Without systemd-cat, or with no identifier, nothing."""

    def __init__(self, identifier):
        self.proc = None
        if identifier:
            try:
                self.proc = subprocess.Popen(['systemd-cat', '--identifier=' + identifier], stdin=subprocess.PIPE,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except OSError:
                self.proc = None

    def write(self, stream, line):
        if self.proc is not None:
            try:
                self.proc.stdin.write(('<%d>%s\n' % (6 if stream == 'out' else 3, line.rstrip('\r\n')))
                                      .encode('utf-8', 'replace'))
            except OSError:
                self.proc = None

    def close(self):
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()


def limited(argv, timeout):
    """``argv``, with ``RuntimeMaxSec=`` on its unit when it is a systemd-run command line and there is a limit."""
    if timeout > 0 and argv and os.path.basename(argv[0]) == 'systemd-run':
        return [argv[0], '--property=RuntimeMaxSec=%d' % timeout] + list(argv[1:])
    return list(argv)


def stop_unit(unit):
    """Stop a step's unit (past its time limit): systemd ends everything it started."""
    if unit:
        subprocess.run(['systemctl', 'stop', '--', unit if '.' in unit else unit + '.service'],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120, check=False)


def execute(argv, scan, timeout=0, unit='', journal=None, grace=15):
    """Run ``argv`` without a shell and without stdin, feeding each line of its output to ``scan`` (and
    ``journal``) as it comes. (rc, timed_out): past ``timeout`` seconds (0: none) and ``grace`` more, its unit
    is stopped and it is killed."""
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        scan.feed('err', '%s: %s' % (argv[0], exc.strerror or exc))
        return 127, False
    # systemd's own limit (RuntimeMaxSec) ends a systemd-run step first; this one is for the rest
    clock = time.monotonic
    began = clock()
    deadline = began + timeout + grace if timeout > 0 else None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, 'out')
    sel.register(proc.stderr, selectors.EVENT_READ, 'err')
    partial = {'out': b'', 'err': b''}
    timed_out = False
    while sel.get_map():
        wait = None if deadline is None else max(deadline - clock(), 0)
        events = sel.select(wait)
        if not events and deadline is not None and clock() >= deadline:
            timed_out = True
            stop_unit(unit)
            proc.kill()
            break
        for key, _ in events:
            chunk = os.read(key.fileobj.fileno(), 65536)
            stream = key.data
            if not chunk:
                sel.unregister(key.fileobj)
                chunk, partial[stream] = partial[stream], b''
                if not chunk:
                    continue
                chunk += b'\n'
            else:
                chunk, partial[stream] = partial[stream] + chunk, b''
            lines = chunk.split(b'\n')
            partial[stream] = lines.pop()
            if len(partial[stream]) > LINE_MAX * 4:     # a line with no end: keep its start, count it once
                lines.append(partial[stream])
                partial[stream] = b''
            for raw in lines:
                line = raw.decode('utf-8', 'replace')
                scan.feed(stream, line)
                if journal is not None:
                    journal.write(stream, line)
    sel.close()
    rc = proc.wait()
    if timeout > 0 and clock() - began >= timeout:
        timed_out = True
    return rc, timed_out


def run_task(p, run=execute, exists=os.path.lexists):
    """The module's result for validated parameters ``p``."""
    bad = report.bad_pattern([('fail_on', p['fail_on'])] + [('hints', h.get('match')) for h in p['hints']]
                             + [('native_build_hints', h.get('match')) for h in p['native_build_hints']])
    if bad:
        return dict(failed=True, msg=bad)
    hints, native = p['hints'] or [], p['native_build_hints'] or []
    scan = Scan([p['fail_on']] + [h.get('match') for h in hints + native], p['tail'], p['tail_bytes'],
                collect=nativelib.LINE if p['native_build'] else None)
    ident = p['journal'] or p['unit'].rsplit('.service', 1)[0]
    journal = Journal(ident)
    try:
        rc, timed_out = run(limited(p['argv'], p['timeout']), scan, p['timeout'], p['unit'], journal)
    finally:
        journal.close()
    said = scan.said(p['fail_on'])
    if rc == 0 and not said and not timed_out:
        res = dict(changed=p['changed'], rc=rc, stdout=scan.text('out'), stderr=scan.text('err'))
        if p['checked']:
            answer = gunicorn.read(res['stdout']) or p['checked']['gunicorn']
            res['marked'] = releases.mark(p['checked']['state'], p['checked']['release'], 'checked',
                                          data={'gunicorn': answer} if answer else None)
            res['changed'] = res['changed'] or res['marked']
        return res
    if timed_out:
        head = ('pyfleet: %s did not finish within %s (%d s), and was stopped. If it needs longer, raise %s; '
                'if it hangs, its last lines are below.' % (p['step'], p['timeout_setting'], p['timeout'],
                                                            p['timeout_setting']))
    else:
        head = 'pyfleet: %s failed (%s).' % (p['step'], 'exit %d' % rc if rc else 'its output says %r' % said)
    dropped = scan.count['out'] + scan.count['err'] - len(scan.kept['out']) - len(scan.kept['err'])
    whole = ('Its whole output is in the journal: journalctl -t %s' % ident
             if dropped and journal.proc is not None else '')
    matched = scan.matched()
    return dict(
        failed=True, changed=p['changed'], rc=rc, timed_out=timed_out,
        msg=report.compose(head,
                           report.serving(p['current'], exists) if p['current'] else '',
                           scan.tail('out'), scan.tail('err'), whole,
                           report.packages_hint(matched, native),
                           nativelib.hint(scan.collected) if p['native_build'] else None,
                           nativelib.pin_hint(scan.collected) if p['native_build'] else None,
                           report.first_hint(matched, hints)))
