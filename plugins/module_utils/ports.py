# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who holds a TCP port on a host, and whether an app may have its web ports there.

An app whose web process listens on ports (a command that binds $PORT, or gunicorn whose config sets
reuse_port) has two: its web port and the next one (blue and green). They must be its alone: no listener of
another process (ssh, nginx, a database, another app), and no other app's claim (the first line of that app's
port filter, ``# ports: 8000 8001``). A listener is the app's own when its process runs in one of the app's
units (its cgroup).

When ``pyfleet_web_port`` is not set (``auto``), the host gives the app its pair: the one it has there already
(its slots' names), else 8000 and 8001 when they are free, else the first free pair from 8000 on, so two apps on
a host never overlap without anyone choosing ports two apart.

``holders`` reads the kernel's tables (/proc/net/tcp and tcp6: the listening sockets, by inode) and finds each
socket's process (/proc/<pid>/fd) and its unit (/proc/<pid>/cgroup). Plain Python (the standard library):
the module pyfleet.deploy.app_ports and the cutover (module_utils/cutover.py) run it on the host.
"""

from __future__ import annotations

import glob
import os
import re

ARGUMENT_SPEC = dict(
    app=dict(type='str', required=True),
    ports=dict(type='list', elements='int', required=True),
    config_root=dict(type='path', default='/etc/pyfleet'),
    auto=dict(type='bool', default=False),
    slots_dir=dict(type='path', default=''),
)

CLAIM_RE = re.compile(r'^# ports: ([0-9 ]+)$', re.M)
FIRST, LAST = 8000, 9998        # where a free pair is looked for, for the message


def listening(proc='/proc'):
    """[(port, socket inode)] of every listening TCP socket (IPv4 and IPv6) in the host's tables."""
    out = []
    for table in ('tcp', 'tcp6'):
        try:
            with open(os.path.join(proc, 'net', table)) as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == '0A':
                out.append((int(cols[1].rsplit(':', 1)[1], 16), cols[9]))
    return out


def unit_of(pid, proc='/proc'):
    """The systemd unit (a .service or .scope) a process runs in, from its cgroup; '' when none."""
    try:
        with open(os.path.join(proc, str(pid), 'cgroup')) as fh:
            text = fh.read()
    except OSError:
        return ''
    for line in text.splitlines():
        if line.startswith('0::'):
            for part in reversed(line[3:].split('/')):
                if part.endswith(('.service', '.scope')):
                    return part.replace('\\x2d', '-')
    return ''


def holders(port, proc='/proc'):
    """Every process that listens on TCP ``port`` (any address): [{pid, command, unit}]; a socket whose process
    cannot be found (another namespace) is one row with pid 0."""
    return holders_of([port], proc)[port]


def holders_of(ports, proc='/proc', sockets=None):
    """{port: its holders, as ``holders`` says} for each of ``ports``, from one look at the kernel's tables
    (``sockets``, ``listening``'s, when the caller has them already) and one pass over the processes."""
    sockets = listening(proc) if sockets is None else sockets
    port_of = {inode: number for number, inode in sockets if number in ports}
    found = {port: [] for port in ports}
    if not port_of:
        return found
    seen = set()
    for fd_dir in glob.glob(os.path.join(proc, '[0-9]*', 'fd')):
        pid = int(fd_dir.split(os.sep)[-2])
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        mine = set()
        for fd in fds:
            try:
                link = os.readlink(os.path.join(fd_dir, fd))
            except OSError:     # closed meanwhile (the listing's own descriptor, for one)
                continue
            if link.startswith('socket:[') and link[8:-1] in port_of:
                mine.add(link[8:-1])
        if mine:
            seen |= mine
            try:
                with open(os.path.join(proc, str(pid), 'comm')) as fh:
                    command = fh.read().strip()
            except OSError:
                command = '?'
            row = {'pid': pid, 'command': command, 'unit': unit_of(pid, proc)}
            for port in sorted({port_of[inode] for inode in mine}):
                found[port].append(dict(row))
    for port in sorted({port_of[inode] for inode in set(port_of) - seen}):
        found[port].append({'pid': 0, 'command': '?', 'unit': ''})
    return found


def listened_by(unit, proc='/proc'):
    """The TCP ports processes of ``unit`` listen on, sorted (one look at the kernel's tables)."""
    sockets = listening(proc)
    found = holders_of(sorted({number for number, _ in sockets}), proc, sockets)
    return sorted(port for port, rows in found.items() if any(row['unit'] == unit for row in rows))


def describe(holder):
    """A holder, in words: 'sshd (pid 812, ssh.service)'."""
    if not holder['pid']:
        return 'a process pyfleet cannot see'
    return '%s (pid %d%s)' % (holder['command'], holder['pid'], ', ' + holder['unit'] if holder['unit'] else '')


def own(holder, app):
    """Whether ``holder`` runs in one of ``app``'s units (pyfleet-<app>-<process>@<n>.service)."""
    return holder['unit'].startswith('pyfleet-%s-' % app) and '@' in holder['unit'] \
        and holder['unit'][len('pyfleet-%s-' % app):].split('@')[0] not in ('', 'ports', 'build')


def claims(config_root, app):
    """{port: other app} for every port another app's filter claims."""
    out = {}
    for path in glob.glob(os.path.join(config_root, '*', 'ports.nft')):
        other = os.path.basename(os.path.dirname(path))
        if other == app:
            continue
        try:
            with open(path) as fh:
                m = CLAIM_RE.search(fh.read(4096))
        except OSError:
            continue
        for word in (m.group(1).split() if m else []):
            out[int(word)] = other
    return out


def free_pair(taken, first=FIRST, last=LAST):
    """The first port of the range whose pair (it and the next) is not in ``taken``, or None."""
    for port in range(first, last + 1, 2):
        if port not in taken and port + 1 not in taken:
            return port
    return None


def check(p, proc='/proc', sockets=None, others=None):
    """The task's result: refused, naming each port and its holder, when a port is not the app's to take.
    ``sockets`` and ``others`` (``listening``'s and ``claims``') when the caller has read them already."""
    sockets = listening(proc) if sockets is None else sockets
    others = claims(p['config_root'], p['app']) if others is None else others
    problems, taken = [], set(others)
    held = holders_of(p['ports'], proc, sockets)
    for port in p['ports']:
        foreign = [h for h in held[port] if not own(h, p['app'])]
        if foreign:
            taken.add(port)
            problems.append('port %d is taken by %s' % (port, ', '.join(describe(h) for h in foreign)))
        elif port in others:
            problems.append('port %d is the app %s\'s (its web instances use it)' % (port, others[port]))
    if not problems:
        return dict(changed=False, ports=p['ports'])
    pair = free_pair(taken | {number for number, _ in sockets})
    return dict(changed=False, failed=True, ports=p['ports'], msg=(
        'pyfleet: the app %s cannot have its web ports %s here: %s. Each app that listens on ports needs two of '
        'its own, which nothing else on the host listens on. Set pyfleet_web_port%s.'
        % (p['app'], ' and '.join(str(x) for x in p['ports']), '; '.join(problems),
           ' to %d (it and %d are free here)' % (pair, pair + 1) if pair else ' to a free pair')))


def own_pair(slots_dir):
    """The first port of the pair the app's web instances have on this host (its slots' names), or None."""
    try:
        names = sorted(int(n) for n in os.listdir(slots_dir) if n.isdigit())
    except OSError:
        return None
    return names[0] if names else None


def allocate(p, proc='/proc'):
    """The app's pair on this host, when pyfleet_web_port was not set: the one it has here already, else the
    plan's (8000) when it is free, else the first free pair; then checked as ``check`` does."""
    sockets, others = listening(proc), claims(p['config_root'], p['app'])
    port = own_pair(p['slots_dir']) if p['slots_dir'] else None
    if port is None:
        first = p['ports'][0]
        taken = set(others) | {n for n, _ in sockets}
        port = first if first not in taken and first + 1 not in taken else free_pair(taken)
        if port is None:
            return dict(changed=False, failed=True, ports=p['ports'],
                        msg='pyfleet: no pair of free ports is left between %d and %d on this host for the app %s; '
                            'set pyfleet_web_port.' % (FIRST, LAST + 1, p['app']))
    res = check(dict(p, ports=[port, port + 1]), proc, sockets, others)
    res['port'] = port
    return res


def run_task(p):
    """The module's result for validated parameters ``p``: the app's first web port on this host (``port``)."""
    if p['auto']:
        return allocate(p)
    res = check(p)
    res['port'] = p['ports'][0]
    return res
