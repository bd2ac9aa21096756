"""Every molecule scenario, end to end, on real test machines."""
import os
import re
import subprocess
import sys

import pytest
import yaml

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
    # molecule's closing summary: every step of the shared test_sequence ran and succeeded
    with open(os.path.join(ROOT, '.config', 'molecule', 'config.yml')) as fh:
        steps = len(yaml.safe_load(fh)['scenario']['test_sequence'])
    m = re.search(r'^%s\s*: actions=(\d+)\s+successful=(\d+)\s+disabled=0\s+skipped=0\s+missing=0\s+failed=0\s*$'
                  % re.escape(scenario), out, re.M)
    assert m, 'no clean summary line for %s:\n%s' % (scenario, out[-3000:])
    assert int(m.group(1)) == int(m.group(2)) == steps, m.group(0)
