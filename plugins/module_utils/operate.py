# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an operator asks of an app on a host, without a shell on it: its journal, and how it runs.

Read-only. Plain Python (the standard library, journalctl and systemctl): pyfleet.deploy.app_logs and
pyfleet.deploy.app_status run it on the host, each in one round-trip. An app is known on a host when it has a
live release there (``current``) or units; otherwise the answer names the apps the host has.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import time

from ansible_collections.pyfleet.deploy.plugins.module_utils import slots as slots_
from ansible_collections.pyfleet.deploy.plugins.module_utils.releases import link_id

COMMON_SPEC = dict(
    name=dict(type='str', required=True),
    unit_prefix=dict(type='str', required=True),
    current=dict(type='path', required=True),
    config_root=dict(type='path', default='/etc/pyfleet'),
    host=dict(type='str', default=''),
)

LOGS_SPEC = dict(
    COMMON_SPEC,
    lines=dict(type='int', default=100),
    since=dict(type='str', default=''),
    process=dict(type='str', default=''),
)

STATUS_SPEC = dict(
    COMMON_SPEC,
    releases=dict(type='path', required=True),
    slots=dict(type='path', default=''),
    upstream_conf=dict(type='path', default=''),
    site_conf=dict(type='path', default=''),
)

PROCESS_RE = re.compile(r'^[a-z0-9][a-z0-9_-]*$')
# what runs as a transient unit: the build steps (the release phase among them), and one-off commands
# (playbooks/run.yml, pyfleet-<app>-run-<time>)
TRANSIENT = frozenset(('build', 'run'))
_PROPS = ('ActiveState', 'SubState', 'NRestarts', 'MemoryCurrent', 'ActiveEnterTimestampMonotonic', 'MainPID',
          'NextElapseUSecRealtime', 'LastTriggerUSec')


def units_of(prefix, run=subprocess.run):
    """The app's loaded units (``<prefix>.target``, ``<prefix>-*``), sorted."""
    try:
        res = run(['systemctl', 'list-units', '--all', '--plain', '--no-legend', '--full', '--',
                   prefix + '.target', prefix + '-*'], capture_output=True, text=True, check=False)
    except OSError:
        return []
    names = [line.split()[0] for line in (res.stdout or '').splitlines() if line.split()]
    return sorted(n for n in names if n == prefix + '.target' or n.startswith(prefix + '-'))


def apps_here(config_root):
    """The apps pyfleet deployed on this host, by their configuration directories."""
    try:
        return sorted(d for d in os.listdir(config_root) if os.path.isfile(os.path.join(config_root, d, 'env')))
    except OSError:
        return []


def unknown(p, units):
    """The failure for an app this host does not have, or None."""
    if os.path.lexists(p['current']) or units:
        return None
    others = apps_here(p['config_root'])
    return dict(failed=True, msg='pyfleet: no app named %s is deployed on %s. %s' % (
        p['name'], p['host'] or 'this host',
        ('The apps here: %s; give one with -e app_name=NAME.' % ', '.join(others)) if others
        else 'This host has no pyfleet app.'))


def process_of(unit, prefix):
    """'pyfleet-shop-web@8001.service' -> 'web@8001'; a scheduled job's timer 'pyfleet-shop-cron_x.timer' ->
    'cron_x.timer' (its unit, 'cron_x'); the target -> 'target'; another unit as it is."""
    if unit == prefix + '.target':
        return 'target'
    if unit.startswith(prefix + '-'):
        name = unit[len(prefix) + 1:]
        return name if name.endswith('.timer') else name.rsplit('.', 1)[0]
    return unit


def _text(value):
    if isinstance(value, list):  # journalctl gives a message that is not UTF-8 as its bytes
        return bytes(v & 0xff for v in value if isinstance(v, int)).decode('utf-8', 'replace')
    return '' if value is None else str(value)


def journal_entry(record, prefix, host):
    """One journal record (journalctl -o json) as {time, host, process, priority, message, line}."""
    unit = record.get('_SYSTEMD_UNIT') or ''
    if unit == 'init.scope' or not unit.startswith(prefix):  # systemd's own word about the unit
        unit = record.get('UNIT') or record.get('_SYSTEMD_UNIT') or ''
    process = process_of(unit, prefix)
    try:
        stamp = datetime.datetime.fromtimestamp(int(record.get('__REALTIME_TIMESTAMP')) / 1e6,
                                                datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    except (TypeError, ValueError):
        stamp = '-'
    message = _text(record.get('MESSAGE')).rstrip('\n')
    return dict(time=stamp, host=host, process=process, priority=int(record.get('PRIORITY') or 6),
                message=message, line='%s %s %s: %s' % (stamp, host, process, message))


def logs(p, run=subprocess.run):
    """The app's last ``lines`` journal lines on this host (``since``, of one ``process``), oldest first."""
    if p['process'] and not PROCESS_RE.match(p['process']):
        return dict(failed=True, msg='pyfleet: process=%r is not a process name (web, worker, release, ...).'
                    % p['process'])
    if p['lines'] < 1:
        return dict(failed=True, msg='pyfleet: lines=%d; give 1 or more.' % p['lines'])
    prefix = p['unit_prefix']
    units = units_of(prefix, run)
    bad = unknown(p, units)
    if bad:
        return bad
    if p['process']:
        # (build steps and one-off commands run as transient units: known even when none runs now)
        matches = [prefix + '-' + p['process'] + '.service', prefix + '-' + p['process'] + '@*.service',
                   prefix + '-' + p['process'] + '-*.service']
        names = sorted({process_of(u, prefix).split('@')[0] for u in units if u.endswith('.service')} | TRANSIENT)
        if p['process'] not in names:
            return dict(failed=True, msg='pyfleet: the app %s has no process %s on %s; its processes: %s.'
                        % (p['name'], p['process'], p['host'] or 'this host', ', '.join(names) or 'none'))
    else:
        matches = [prefix + '.target', prefix + '-*']
    argv = ['journalctl', '--no-pager', '--output=json', '--lines=%d' % p['lines']]
    if p['since']:
        argv.append('--since=' + p['since'])
    for m in matches:
        argv += ['--unit', m]
    res = run(argv, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return dict(failed=True, msg='pyfleet: journalctl refused this: %s. since takes what journalctl takes '
                                     '("1 hour ago", "today", "2026-12-04 10:00").' % (res.stderr or '').strip())
    entries = []
    for line in (res.stdout or '').splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        entries.append(journal_entry(record, prefix, p['host']))
    return dict(changed=False, entries=entries, lines=[e['line'] for e in entries])


def _age(seconds):
    seconds = max(0, int(seconds))
    for unit, size in (('d', 86400), ('h', 3600), ('min', 60)):
        if seconds >= size:
            return '%d %s' % (seconds // size, unit)
    return '%d s' % seconds


def _memory(value):
    if not str(value).isdigit():
        return '-'
    n = int(value)
    for unit, size in (('GiB', 1 << 30), ('MiB', 1 << 20), ('KiB', 1 << 10)):
        if n >= size:
            return '%.1f %s' % (n / size, unit)
    return '%d B' % n


def certificate_expiry(site_conf, run=subprocess.run):
    """The expiry (notAfter, as openssl says it) of the certificate the site serves, or '' without TLS."""
    try:
        with open(site_conf) as fh:
            m = re.search(r'^\s*ssl_certificate\s+([^;\s]+)\s*;', fh.read(), re.M)
    except OSError:
        return ''
    if not m:
        return ''
    try:
        res = run(['openssl', 'x509', '-noout', '-enddate', '-in', m.group(1)], capture_output=True, text=True,
                  check=False)
    except OSError:
        return 'unreadable (no openssl)'
    out = (res.stdout or '').strip()
    return out.split('=', 1)[1] if res.returncode == 0 and '=' in out else 'unreadable (%s)' % m.group(1)


def status(p, run=subprocess.run, now=None):
    """How the app runs on this host: the live release and how long it has been live, which web instance nginx
    sends requests to, each unit's state, restarts, memory and uptime, and the certificate's expiry."""
    prefix = p['unit_prefix']
    units = units_of(prefix, run)
    bad = unknown(p, units)
    if bad:
        return bad
    now = time.time() if now is None else now
    live = link_id(p['current'])
    try:  # the current link is made when its release goes live
        age = _age(now - os.lstat(p['current']).st_mtime) if live else '-'
    except OSError:
        age = '-'
    props = slots_.unit_props(units, _PROPS, run)
    up_now = time.monotonic()
    rows = []
    for unit in units:
        pr = props.get(unit, {})
        entered = pr.get('ActiveEnterTimestampMonotonic') or ''
        active = pr.get('ActiveState') == 'active'
        rows.append(dict(unit=unit, process=process_of(unit, prefix), state='%s (%s)' % (pr.get('ActiveState') or
                                                                                        'unknown', pr.get('SubState') or '-'),
                         active=active, restarts=int(pr['NRestarts']) if str(pr.get('NRestarts')).isdigit() else 0,
                         memory=_memory(pr.get('MemoryCurrent')) if active else '-',
                         uptime=_age(up_now - int(entered) / 1e6) if active and entered.isdigit() and int(entered) else '-'))
        if unit.endswith('.timer'):     # a scheduled job's: when it runs next, and when it last ran
            rows[-1].update(next_run=pr.get('NextElapseUSecRealtime') or '-', last_run=pr.get('LastTriggerUSec') or '-')
    web = {}
    if p['upstream_conf'] and p['slots']:
        ports = {process_of(u, prefix).split('@', 1)[1]: u for u in units if process_of(u, prefix).startswith('web@')}
        where = slots_.read(p['upstream_conf'], p['slots'], ports, run)
        web = dict(live_port=where['live'], runs={k: os.path.basename(v.rstrip('/')) for k, v in where['runs'].items()})
    cert = certificate_expiry(p['site_conf'], run) if p['site_conf'] else ''
    lines = ['%s: release %s (live for %s)%s%s' % (
        p['host'] or 'host', live or 'none', age,
        ', nginx sends requests to port %s' % web['live_port'] if web.get('live_port') else '',
        ', certificate valid until %s' % cert if cert else '')]
    lines += [('  %-12s %-18s next run %s, last run %s' % (r['process'], r['state'], r['next_run'], r['last_run']))
              if 'next_run' in r else
              '  %-12s %-18s restarts %d, memory %s, up %s' % (r['process'], r['state'], r['restarts'], r['memory'],
                                                              r['uptime']) for r in rows]
    return dict(changed=False, release=live, age=age, web=web, units=rows, certificate_expiry=cert, lines=lines)
