"""Drive testbed/nspawn.py from the machine tests."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTBED = os.path.join(ROOT, 'testbed', 'nspawn.py')


def run_testbed(*args, check=True, env=None, **kw):
    res = subprocess.run([sys.executable, TESTBED] + list(args), capture_output=True, text=True,
                         env=env or os.environ, **kw)
    if check and res.returncode != 0:
        raise AssertionError('testbed %s failed (%d):\n%s\n%s' % (' '.join(args), res.returncode, res.stdout, res.stderr))
    return res


def up(n, *extra):
    res = run_testbed('up', str(n), '--json', *extra, timeout=900)
    return json.loads(res.stdout.strip().splitlines()[-1])


def on(name, command, check=True):
    res = run_testbed('ssh', name, command, check=False, timeout=120)
    if check and res.returncode != 0:
        raise AssertionError('%s: %r failed (%d): %s %s' % (name, command, res.returncode, res.stdout, res.stderr))
    return res.stdout.strip()
