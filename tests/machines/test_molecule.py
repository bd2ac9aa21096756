"""Every molecule scenario, end to end, on real test machines.

The scenarios run on several test beds at once (``PYFLEET_TEST_BEDS``, default 3; 1 runs them one after
the other on the bed the environment names, as before). Each bed has a state dir, bridge, subnet and
machine prefix of its own, and every check looks only at its own bed. Each scenario is still one test here,
with its own verdict and output.

What the beds share is built once: the CPython mirror and the test bed's roots (both under a lock), and the
interpreter artifacts. A Python version is compiled by the first scenario of its Debian release alone; the
other scenarios of that release start once it has finished, so they unpack the artifact instead of
compiling it again beside it.
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import yaml

from bed import ROOT

SCENARIOS = sorted(d for d in os.listdir(os.path.join(ROOT, 'molecule'))
                   if os.path.isfile(os.path.join(ROOT, 'molecule', d, 'molecule.yml')))
BEDS = max(1, int(os.environ.get('PYFLEET_TEST_BEDS', '3')))
# Scheduling hints only, never correctness: the longest scenarios start first, so that they do not end last
# alone; the first of a release (the one that compiles its Python) should be a short one.
LONGEST_FIRST = ('zero-downtime', 'fleet', 'bad-input', 'isolation', 'django', 'procfile')
FIRST_OF_RELEASE = ('default', 'trixie')
# (zero-downtime, the longest, runs 16 cases under load: about 40 minutes beside two other beds on 2 cores)
TIMEOUT = 3300
# each scenario's whole output, and what a scenario keeps (zero-downtime's figures), kept after the run
LOGS = os.environ.get('PYFLEET_TEST_LOGS') or os.path.join(ROOT, '.cache', 'molecule-logs')


def release_of(scenario):
    with open(os.path.join(ROOT, 'molecule', scenario, 'molecule.yml')) as fh:
        platforms = (yaml.safe_load(fh) or {}).get('platforms') or [{}]
    return platforms[0].get('release', 'bookworm')


def bed_env(index):
    """The environment of bed ``index``: its own state dir, bridge, subnet and machine prefix."""
    env = dict(os.environ)
    if BEDS > 1:
        env.update(PYFLEET_TESTBED_STATE='/var/lib/pyfleet-testbed-mol%d' % index,
                   PYFLEET_TESTBED_BRIDGE='pf-mol%d' % index,
                   PYFLEET_TESTBED_SUBNET='10.231.%d.0/24' % (100 + index),
                   PYFLEET_TESTBED_PREFIX='mol%d' % index)
    bin_dir = os.path.dirname(sys.executable)
    env.update(PATH=bin_dir + os.pathsep + env.get('PATH', ''), ANSIBLE_FORCE_COLOR='0', NO_COLOR='1',
               PY_COLORS='0', PYFLEET_TEST_LOGS=LOGS)
    return env


class Runner:
    """Runs every scenario on BEDS beds at once; a test waits for its scenario's outcome."""

    def __init__(self, scenarios):
        self.release = {s: release_of(s) for s in scenarios}
        firsts = {}
        for s in sorted(scenarios, key=lambda s: (s not in FIRST_OF_RELEASE, s)):
            firsts.setdefault(self.release[s], s)
        self.first = firsts
        rank = {s: i for i, s in enumerate(LONGEST_FIRST)}
        self.pending = sorted(scenarios, key=lambda s: (s not in firsts.values(), rank.get(s, len(rank)), s))
        self.outcome = {}
        self.timing = {}
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._work, args=(i + 1,), daemon=True) for i in range(BEDS)]

    def start(self):
        self._prepare()
        for t in self.threads:
            t.start()

    def _prepare(self):
        """The mirror, built once before any bed needs it (each scenario's create would build it otherwise)."""
        os.makedirs(LOGS, exist_ok=True)
        mirror = os.environ.get('PYFLEET_CPYTHON_MIRROR') or '/var/cache/pyfleet/cpython-mirror'
        subprocess.run([sys.executable, os.path.join(ROOT, 'testbed', 'cpython_mirror.py'), 'build', mirror],
                       check=True, capture_output=True, timeout=1800)

    def _ready(self, scenario):
        first = self.first[self.release[scenario]]
        return first == scenario or first in self.outcome

    def _next(self):
        with self.cond:
            while self.pending:
                for s in self.pending:
                    if self._ready(s):
                        self.pending.remove(s)
                        return s
                self.cond.wait()
            return None

    def _work(self, index):
        while True:
            scenario = self._next()
            if scenario is None:
                return
            t0 = time.time()
            # in a session of its own: a scenario that times out is ended with everything it started (its
            # ansible-playbook runs, a load client), which would otherwise go on loading the next scenarios' beds
            proc = None
            try:
                proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), 'molecule'), 'test', '-s', scenario],
                                        cwd=ROOT, env=bed_env(index), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, start_new_session=True)
                out, err = proc.communicate(timeout=TIMEOUT)
                outcome = (proc.returncode, out + err)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
                outcome = (None, 'timed out after %d s\n%s' % (TIMEOUT, (out + err)[-12000:]))
            except Exception as exc:  # a runner failure is this scenario's failure, never a hang
                outcome = (None, 'runner: %r' % exc)
            if BEDS > 1:  # molecule destroys its machines; this makes sure no bed is left behind
                try:
                    subprocess.run([sys.executable, os.path.join(ROOT, 'testbed', 'nspawn.py'), 'down'],
                                   env=bed_env(index), capture_output=True, timeout=300)
                except Exception as exc:
                    outcome = (None, '%s\nrunner: the bed did not go down: %r' % (outcome[1], exc))
            with open(os.path.join(LOGS, scenario + '.log'), 'w') as fh:
                fh.write(outcome[1])
            with self.cond:
                self.timing[scenario] = (index, t0, time.time())
                self.outcome[scenario] = outcome
                self.cond.notify_all()

    def wait(self, scenario):
        with self.cond:
            while scenario not in self.outcome:
                self.cond.wait()
            return self.outcome[scenario]


RUNNER = {}


@pytest.fixture(scope='module')
def runner(request):
    chosen = [item.callspec.params['scenario'] for item in request.session.items
              if getattr(item, 'originalname', None) == 'test_molecule_scenario']
    RUNNER['runner'] = r = Runner(chosen or SCENARIOS)  # only what was selected (-k, a node id)
    r.start()
    yield r
    for t in r.threads:
        t.join(timeout=TIMEOUT)


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_molecule_scenario(runner, scenario):
    code, out = runner.wait(scenario)
    assert code == 0, out[-12000:]
    # molecule's closing summary: every step of the shared test_sequence ran and succeeded
    with open(os.path.join(ROOT, '.config', 'molecule', 'config.yml')) as fh:
        steps = len(yaml.safe_load(fh)['scenario']['test_sequence'])
    m = re.search(r'^%s\s*: actions=(\d+)\s+successful=(\d+)\s+disabled=0\s+skipped=0\s+missing=0\s+failed=0\s*$'
                  % re.escape(scenario), out, re.M)
    assert m, 'no clean summary line for %s:\n%s' % (scenario, out[-3000:])
    assert int(m.group(1)) == int(m.group(2)) == steps, m.group(0)
    # what the scenario's runs must have said (verify_output: regular expressions), e.g. a build hook's output
    with open(os.path.join(ROOT, 'molecule', scenario, 'molecule.yml')) as fh:
        said = (((yaml.safe_load(fh).get('provisioner') or {}).get('inventory') or {}).get('group_vars') or {}) \
            .get('all', {}).get('verify_output') or []
    for pattern in said:
        assert re.search(pattern, out, re.M), 'the run never said %r' % pattern
