"""ansible-lint with the production profile passes on the whole repository."""
import os
import subprocess
import sys

from helpers import ROOT


def test_ansible_lint_production():
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get('PATH', ''), NO_COLOR='1',
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))
    res = subprocess.run([os.path.join(bin_dir, 'ansible-lint'), '--profile', 'production', '--offline'],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, (res.stdout + res.stderr)[-8000:]
