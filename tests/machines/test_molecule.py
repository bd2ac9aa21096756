"""Every molecule scenario, end to end, on real test machines."""
import os
import subprocess
import sys

import pytest

from bed import ROOT

SCENARIOS = sorted(d for d in os.listdir(os.path.join(ROOT, 'molecule'))
                   if os.path.isfile(os.path.join(ROOT, 'molecule', d, 'molecule.yml')))


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_molecule_scenario(scenario):
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get('PATH', ''), ANSIBLE_FORCE_COLOR='0',
               NO_COLOR='1', PY_COLORS='0')
    res = subprocess.run([os.path.join(bin_dir, 'molecule'), 'test', '-s', scenario], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=2400)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-12000:]
    for step in ('create', 'converge', 'idempotence', 'check', 'verify', 'destroy'):
        assert '%s ➜ %s: Executed: Successful' % (scenario, step) in out, 'step %s did not succeed' % step
