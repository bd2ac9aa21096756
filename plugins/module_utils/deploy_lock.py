# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One deploy of an app at a time on a host: a lock file that names its holder.

The lock is a JSON file (under /run/lock: a reboot, which ends any deploy, clears it) naming the holder -
the controller's host name, the user, the pid of ansible-playbook and when it started - with a token and
a lease. Every change to it happens under flock(2) on a guard file beside it, so two deploys that race for
it (or to take over a stale one) never both win.

The host side (``run_task``, the module) tries once and says who holds it; the controller side (the
action plugin) waits, and judges staleness: a holder on the same controller whose process is gone, or a
holder whose lease ran out, is taken over.

A deploy's work on the host outlives its controller: a build step whose deploy was killed, or lost its
connection, runs on to its end (it is a systemd unit of the app's, ``host_work``). The lock is not taken,
from a stale holder or when it looks free, while such a unit still runs, so that two deploys' steps never
run at once (a virtualenv built twice into one directory, migrations run twice at once).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import subprocess
import time

from ansible_collections.pyfleet.deploy.plugins.module_utils import releases, slots

ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    token=dict(type='str', required=True, no_log=False),
    holder=dict(type='dict', default={}),
    lease=dict(type='int', default=3600),
    take_over=dict(type='str'),
    host_work=dict(type='list', elements='str', default=[]),
    look=dict(type='dict', default={}),
    settled_first=dict(type='bool', default=False),
)

# a unit in one of these states still does a deploy's work
_RUNNING = ('active', 'activating', 'deactivating', 'reloading')


class _Guard(object):
    """flock(2) on <path>.guard for the duration of a with block."""

    def __init__(self, path):
        self.path = path + '.guard'
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def read(path):
    """The lock's content, {} when there is none, or {'unreadable': text} when it is not JSON."""
    try:
        with open(path) as fh:
            text = fh.read()
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return {}
        raise
    try:
        data = json.loads(text)
        return data if isinstance(data, dict) else {'unreadable': text[:200]}
    except ValueError:
        return {'unreadable': text[:200]}


def _write(path, data):
    tmp = '%s.%d.tmp' % (path, os.getpid())
    with open(tmp, 'w') as fh:
        json.dump(data, fh, sort_keys=True)
        fh.write('\n')
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)


def still_running(units, run=subprocess.run):
    """The units of ``units`` that still run (or start, or stop), each with when it started."""
    props = slots.unit_props(units, ('ActiveState', 'ActiveEnterTimestamp'), run=run)
    return [{'unit': unit, 'since': p.get('ActiveEnterTimestamp', '')}
            for unit, p in sorted(props.items()) if p['ActiveState'] in _RUNNING]


def acquire(path, token, holder, lease, take_over=None, now=None, host_work=(), run=subprocess.run):
    """Take the lock if it is free, ours already, or held by ``take_over`` (a stale holder's token), and no
    unit of ``host_work`` still runs (unless it is ours already).

    Returns (taken, current): the holder now recorded (ours when taken), with ``expired`` when its lease
    ran out, and ``running`` (the units of host_work that still run) when that is what keeps it."""
    now = time.time() if now is None else now
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with _Guard(path):
        current = read(path)
        if current and current.get('token') not in (token, take_over) and 'unreadable' not in current:
            current['expired'] = float(current.get('expires') or 0) <= now
            return False, current
        running = still_running(host_work, run) if current.get('token') != token else []
        if running:
            current['running'] = running
            return False, current
        mine = dict(holder, token=token, acquired=now, expires=now + lease)
        _write(path, mine)
        return True, mine


def release(path, token):
    """Remove the lock when ``token`` holds it. Returns whether it did."""
    if not os.path.exists(path):
        return False
    with _Guard(path):
        current = read(path)
        if current.get('token') == token:
            os.unlink(path)
            return True
    return False


def describe(holder):
    """'alice@ci-7 (pid 4242, started 2026-11-23 19:02:11 UTC)'"""
    started = holder.get('started')
    when = time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(float(started))) if started else 'an unknown time'
    return '%s@%s (pid %s, started %s)' % (holder.get('user') or '?', holder.get('controller') or '?',
                                          holder.get('pid') or '?', when)


def process_started(pid):
    """When process ``pid`` started, in seconds since the epoch (from /proc), or None when it is gone."""
    try:
        with open('/proc/%d/stat' % int(pid)) as fh:
            fields = fh.read().rsplit(')', 1)[1].split()
        with open('/proc/stat') as fh:
            boot = next(float(line.split()[1]) for line in fh if line.startswith('btime '))
        return boot + float(fields[19]) / os.sysconf('SC_CLK_TCK')
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def holder_is_gone(holder, controller):
    """True when the holder ran on ``controller`` (this machine) and its process is gone, or is another
    process that took its pid since (it started later than the holder did)."""
    if not holder or holder.get('controller') != controller or not holder.get('pid'):
        return False
    started = process_started(holder['pid'])
    return started is None or (holder.get('started') is not None and started > float(holder['started']) + 2)


def run_task(p, settled=None):
    """The module's result: one try at the lock (or its release); never waits. Taking or releasing the
    lock changes nothing that is deployed, so neither is reported as a change. With ``look`` (the parameters
    of app_releases' ``settled``), once the lock is taken, that look too, as ``look``: what a deploy reads of
    the host under its lock, in the same round-trip. With ``settled_first`` too, a rerun's fast path: the look
    comes first, and a host that is settled (before the lock, or under it: another deploy just went through)
    is left without the lock (``taken`` false, ``settled`` true); else the lock is taken and the host looked at
    again under it."""
    if p['state'] == 'absent':
        return dict(changed=False, released=release(p['path'], p['token']))
    settled = settled or releases.settled
    look = {}
    if p['look']:
        look = {k: v.get('default') for k, v in releases.ARGUMENT_SPEC.items()}
        look.update(p['look'])
    if look and p['settled_first']:
        first = settled(look)
        if first['settled']:
            return dict(changed=False, taken=False, settled=True, look=first)
    taken, current = acquire(p['path'], p['token'], p['holder'], p['lease'], p['take_over'], host_work=p['host_work'])
    res = dict(changed=False, taken=taken, holder=current)
    if taken and look:
        res['look'] = settled(look)
        if p['settled_first'] and res['look']['settled']:
            release(p['path'], p['token'])
            return dict(changed=False, taken=False, settled=True, look=res['look'])
    return res
