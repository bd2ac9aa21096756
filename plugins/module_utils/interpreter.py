# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A CPython under pyenv's versions/ is complete or absent: installed (unpacked from an artifact, or compiled)
under one host-wide lock, and marked done (``<prefix>/.pyfleet-complete``) only as its last step.

- ``unpack``: the artifact is unpacked beside its place (``versions/.pyfleet-unpack-<version>``), marked, and
  renamed into place; an unmarked prefix there (an unpack or a compile cut off half-way, or an interpreter
  from before the mark) is moved aside first. A run cut off at any point leaves no marked prefix that is not
  whole, and the next one does it again.
- ``compile``: ``pyenv install --force`` (a cut-off prefix is built again, not skipped), then the test
  suite and the static libpython are removed (``slim``), then the mark.
- ``who``: what holds the lock now (the install another deploy runs), without waiting for it.

Whoever holds the lock says so in ``<lock>.what`` (what, version, pid, since), for a deploy that waits.
Everything is checked again under the lock: two deploys (two apps, or a rerun beside a killed deploy's
compile) never install one version twice, and the second finds it done.

Plain Python (the standard library, tar and pyenv): the module pyfleet.deploy.cpython_install runs it.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import shutil
import subprocess
import time

MARK = '.pyfleet-complete'

ARGUMENT_SPEC = dict(
    method=dict(type='str', choices=['unpack', 'compile', 'who'], required=True),
    root=dict(type='path', required=True),
    version=dict(type='str', required=True),
    artifact=dict(type='path', default=''),
    sha256=dict(type='str', default=''),
    lock=dict(type='path', default='/run/lock/pyfleet-pyenv-install.lock'),
    environment=dict(type='dict', default={}),
    slim=dict(type='bool', default=True),
    for_app=dict(type='str', default=''),
)


def prefix(p):
    return os.path.join(p['root'], 'versions', p['version'])


def complete(path):
    """The mark's text when ``path`` is a complete install, else None."""
    try:
        with open(os.path.join(path, MARK)) as fh:
            return fh.read().strip()
    except OSError:
        return None


def _rmtree(path):
    if os.path.lexists(path):
        shutil.rmtree(path, ignore_errors=True)


def _mark(path, text):
    tmp = os.path.join(path, MARK + '.part')
    with open(tmp, 'w') as fh:
        fh.write(text + '\n')
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, os.path.join(path, MARK))


def _aside(path):
    """Move an unmarked prefix out of the way (whatever still runs from it keeps its open files)."""
    if os.path.lexists(path):
        old = '%s.pyfleet-old-%d' % (path, os.getpid())
        os.rename(path, old)
        _rmtree(old)


def who(lock):
    """What holds ``lock`` now: its ``.what`` file, or {} when it is free."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return {}
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return {}
    except OSError:
        try:
            with open(lock + '.what') as fh:
                return json.load(fh)
        except (OSError, ValueError):
            return {'what': 'an install'}
    finally:
        os.close(fd)


def _unpack(p, run):
    dest = prefix(p)
    stage = os.path.join(p['root'], 'versions', '.pyfleet-unpack-' + p['version'])
    _rmtree(stage)
    os.makedirs(stage)
    proc = run(['tar', '-C', stage, '-xzf', p['artifact']])
    if proc.returncode != 0:
        _rmtree(stage)
        return 'tar could not unpack %s (exit %d): %s' % (p['artifact'], proc.returncode, proc.stderr.strip()[-2000:])
    got = os.path.join(stage, p['version'])
    if not os.path.isfile(os.path.join(got, 'bin', 'python3')):
        _rmtree(stage)
        return '%s holds no %s/bin/python3: it is not an interpreter artifact of CPython %s.' % (
            p['artifact'], p['version'], p['version'])
    _mark(got, 'unpacked %s' % (p['sha256'] or os.path.basename(p['artifact'])))
    _aside(dest)
    os.rename(got, dest)
    _rmtree(stage)
    return None


def _compile(p, run):
    dest = prefix(p)
    env = dict(os.environ, PYENV_ROOT=p['root'], **{k: str(v) for k, v in p['environment'].items()})
    proc = run([os.path.join(p['root'], 'bin', 'pyenv'), 'install', '--force', p['version']], env=env)
    if proc.returncode != 0:
        return 'pyenv install %s failed (exit %d):\n%s' % (p['version'], proc.returncode,
                                                          '\n'.join((proc.stdout + proc.stderr).splitlines()[-40:]))
    if p['slim']:
        minor = '.'.join(p['version'].split('.')[:2])
        _rmtree(os.path.join(dest, 'lib', 'python' + minor, 'test'))
        for static in glob.glob(os.path.join(dest, 'lib', '**', 'libpython*.a'), recursive=True):
            os.unlink(static)
    _mark(dest, 'compiled')
    return None


def _run(argv, env=None):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, check=False)


def run_task(p, run=_run, check_mode=False, clock=time.time):
    """The module's result for validated parameters ``p``."""
    if p['method'] == 'who':
        return dict(changed=False, holder=who(p['lock']), complete=complete(prefix(p)) is not None)
    if complete(prefix(p)) is not None:
        return dict(changed=False, prefix=prefix(p), mark=complete(prefix(p)))
    if check_mode:
        return dict(changed=True, prefix=prefix(p))
    os.makedirs(os.path.join(p['root'], 'versions'), exist_ok=True)
    fd = os.open(p['lock'], os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # under the lock: another deploy may have installed it while this one waited
        if complete(prefix(p)) is not None:
            return dict(changed=False, prefix=prefix(p), mark=complete(prefix(p)))
        with open(p['lock'] + '.what', 'w') as fh:
            json.dump({'what': '%s CPython %s%s' % ('compiling' if p['method'] == 'compile' else 'unpacking',
                                                    p['version'], ' for ' + p['for_app'] if p['for_app'] else ''),
                       'pid': os.getpid(), 'since': int(clock())}, fh)
        why = (_compile if p['method'] == 'compile' else _unpack)(p, run)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    if why:
        return dict(changed=True, failed=True, msg='pyfleet: CPython %s was not installed: %s' % (p['version'], why))
    return dict(changed=True, prefix=prefix(p), mark=complete(prefix(p)))
