"""What the benches share: where things are, and a command that must succeed (its whole output kept when it does
not). Each bench boots its own test machines (testbed/nspawn.py, the default bed) and takes them down."""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
TESTBED = [sys.executable, os.path.join(ROOT, 'testbed', 'nspawn.py')]
MIRROR = os.environ.get('PYFLEET_CPYTHON_MIRROR', '/var/cache/pyfleet/cpython-mirror')
ENV = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), PATH=BIN + os.pathsep + os.environ['PATH'])


def sh(cmd, env=None, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, env=env or ENV, **kw)
    if res.returncode != 0:
        fd, kept = tempfile.mkstemp(prefix='pyfleet-bench-', suffix='.out')
        with os.fdopen(fd, 'w') as fh:
            fh.write(res.stdout + '\n' + res.stderr)
        sys.exit('%s failed (its whole output: %s):\n%s\n%s' % (' '.join(cmd), kept, res.stdout[-3000:],
                                                                  res.stderr[-3000:]))
    return res.stdout


def testbed_up(count):
    """``count`` fresh machines with the CPython mirror and the controller's pyenv; the testbed's JSON summary."""
    import json
    pyenv_root = subprocess.run(['pyenv', 'root'], capture_output=True, text=True).stdout.strip()
    sh([sys.executable, os.path.join(ROOT, 'testbed', 'cpython_mirror.py'), 'build', MIRROR])
    sh(TESTBED + ['down'])
    up = TESTBED + ['up', str(count), '--json', '--mirror-dir', MIRROR] + (['--pyenv-root', pyenv_root] if pyenv_root else [])
    return json.loads(sh(up).strip().splitlines()[-1])
