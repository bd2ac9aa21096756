#!/usr/bin/env python3
"""Build once, start everywhere: what a host after the first pays for its interpreter and its virtualenv.

Goal (issue "The fleet"): on a host after the first, the interpreter step and the virtualenv step each <= 10 s,
printed beside the compile and pip figures they replace; and the store (a packed virtualenv, unpacked at the same
path) measured against a wheelhouse (pip wheel once, pip install --no-index --find-links on each other host).

Three fresh test machines boot. examples/flask is deployed to them in one run (a canary, then one host at a time)
with a store of its own (pyfleet_artifacts_dir) that has the interpreter artifact and no virtualenv: every host
unpacks the interpreter, the canary builds the virtualenv (pip, against the index) and packs it, and the other two
unpack it. Each batch is one host, so each task's time in Ansible's JSON output is that host's. Then, by hand over
ssh on the third host: the same requirements into a new virtualenv from a wheelhouse built on the first, and the
packed virtualenv unpacked again, each timed (the floor of each way).
Run as root:   .venv/bin/python bench/fleet.py
"""
import json
import os
import shutil
import sys
import tempfile
import time

from common import ENV, ROOT, TESTBED, sh, testbed_up  # bench/common.py

GOAL = 10.0


def seconds(duration):
    """A task's duration in Ansible's JSON output (ISO start and end), in seconds."""
    from datetime import datetime
    start, end = (datetime.fromisoformat(duration[k].replace('Z', '+00:00')) for k in ('start', 'end'))
    return (end - start).total_seconds()


def steps(out):
    """Per host (each batch is one host): the seconds of its interpreter step (the pyenv role and the store's
    tasks it calls) and of its virtualenv step (app_venv and the store's tasks it calls), and the summary."""
    per_host, summary, tasks = {}, [], {}
    # the JSON document, after what the run printed itself (the build steps' lines, the polls)
    data = json.JSONDecoder().raw_decode(out[out.index('{\n    "custom_stats"') if '{\n    "custom_stats"' in out
                                             else out.index('{\n'):])[0]
    for play in data['plays']:
        role = None
        for task in play['tasks']:
            name = task['task']['name']
            if name.startswith('pyfleet.deploy.pyenv : '):
                role = 'interpreter'
            elif name.startswith('pyfleet.deploy.app_venv : '):
                role = 'virtualenv'
            elif not name.startswith('pyfleet.deploy.artifacts : '):
                role = None
            if 'Say what each app host serves now' in name:
                # (said once, by the first app host still in the run)
                summary = next(iter(task['hosts'].values()), {}).get('msg', [])
            if role:
                for host in task['hosts']:
                    took = seconds(task['task']['duration'])
                    per_host.setdefault(host, {'interpreter': 0.0, 'virtualenv': 0.0})[role] += took
                    tasks.setdefault((host, role), []).append((took, name))
    return per_host, summary, tasks


def main():
    summary = testbed_up(3)
    inventory, machines = summary['inventory'], summary['machines']
    interpreters = summary['vars']['pyenv_artifacts_dir']
    work = tempfile.mkdtemp(prefix='pyfleet-bench-fleet-')
    try:
        # a store of this run's own: the interpreter artifacts (linked), no virtualenv
        store = os.path.join(work, 'store')
        os.makedirs(store)
        for name in os.listdir(interpreters):
            if name.startswith('cpython-'):
                os.symlink(os.path.join(interpreters, name), os.path.join(store, name))
        app = os.path.join(work, 'flask')
        shutil.copytree(os.path.join(ROOT, 'examples', 'flask'), app)
        t0 = time.perf_counter()
        out = sh([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory, os.path.join(ROOT, 'deploy.yml'),
                  '-e', 'app_src=%s' % app, '-e', 'app_name=flask', '-e', 'pyfleet_artifacts_dir=%s' % store],
                 env=dict(ENV, ANSIBLE_STDOUT_CALLBACK='ansible.posix.json'), cwd=ROOT)
        took = time.perf_counter() - t0
        per_host, said, tasks = steps(out)
        venvs = [n for n in os.listdir(store) if n.startswith('venv-') and n.endswith('.tar.gz')]
        print('first deploy to 3 hosts, one batch each: %.1f s; the store now has %s' % (took, venvs or 'no virtualenv'))
        for line in said:
            print('  ' + line)
        names = [m['name'] for m in machines]
        first = per_host.get(names[0], {})
        for name in names:
            s = per_host.get(name, {})
            print('%-6s interpreter step %5.1f s   virtualenv step %5.1f s' % (name, s.get('interpreter', 0),
                                                                              s.get('virtualenv', 0)))
        for role in ('interpreter', 'virtualenv'):   # where the last host's step went
            print('%s, %s step, its longest tasks: %s' % (names[-1], role, '; '.join(
                '%.1f s %s' % (took, name.split(' : ', 1)[-1]) for took, name in
                sorted(tasks.get((names[-1], role), []), reverse=True)[:4])))
        later = [per_host.get(n, {}) for n in names[1:]]
        worst = (max([s.get('interpreter', 0) for s in later] or [0]), max([s.get('virtualenv', 0) for s in later] or [0]))
        print('a host after the first: interpreter step <= %.1f s, virtualenv step <= %.1f s; goal <= %d s each (%s); '
              'the first host\'s virtualenv step (pip against the index) %.1f s'
              % (worst[0], worst[1], GOAL, 'MET' if max(worst) <= GOAL else 'MISSED', first.get('virtualenv', 0)))

        # by hand on the third host: a wheelhouse built on the first, against the packed virtualenv
        key = summary['key']
        ssh = lambda m: ['ssh', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
                         '-o', 'LogLevel=ERROR', 'root@' + m['address']]
        py = '"$(readlink -f /srv/flask/current/.venv/bin/python)"'   # the interpreter the app's virtualenv is made from
        t = time.perf_counter()
        sh(ssh(machines[0]) + ['rm -rf /tmp/wh && %s -m pip wheel -q --disable-pip-version-check -w /tmp/wh '
                               '-r /srv/flask/current/requirements.txt && tar -C /tmp -czf /tmp/wh.tgz wh' % py])
        wheel_once = time.perf_counter() - t
        sh(['scp', '-q', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
            'root@%s:/tmp/wh.tgz' % machines[0]['address'], os.path.join(work, 'wh.tgz')])
        sh(['scp', '-q', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
            os.path.join(work, 'wh.tgz'), 'root@%s:/tmp/wh.tgz' % machines[2]['address']])
        t = time.perf_counter()
        sh(ssh(machines[2]) + ['rm -rf /tmp/wh /tmp/v && tar -C /tmp -xzf /tmp/wh.tgz && %s -m venv /tmp/v && '
                               '/tmp/v/bin/pip install -q --disable-pip-version-check --no-index --find-links /tmp/wh '
                               '-r /srv/flask/current/requirements.txt' % py])
        wheelhouse = time.perf_counter() - t
        sh(['scp', '-q', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
            os.path.join(store, venvs[0]), 'root@%s:/tmp/venv.tgz' % machines[2]['address']])
        t = time.perf_counter()
        sh(ssh(machines[2]) + ['rm -rf /tmp/u && mkdir /tmp/u && tar -C /tmp/u -xzf /tmp/venv.tgz'])
        unpack = time.perf_counter() - t
        print('by hand on %s: a virtualenv from a wheelhouse (built once on %s in %.1f s) %.1f s; the packed '
              'virtualenv unpacked %.1f s; wheelhouse/unpack %.1f'
              % (names[2], names[0], wheel_once, wheelhouse, unpack, wheelhouse / max(unpack, 0.01)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        sh(TESTBED + ['down'])


if __name__ == '__main__':
    main()
