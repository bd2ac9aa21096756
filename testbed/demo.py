#!/usr/bin/env python3
"""The main job: boot one local test machine and deploy an example app to it, then print its URL.

    ./pyfleet demo [--app examples/flask] [--release bookworm] [--down]
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTBED = os.path.join(ROOT, 'testbed', 'nspawn.py')
BIN = os.path.dirname(sys.executable)


def step(msg):
    print('\033[1m==> %s\033[0m' % msg, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--app', default=os.path.join(ROOT, 'examples', 'flask'))
    ap.add_argument('--release', default='bookworm', choices=['bookworm', 'trixie'])
    ap.add_argument('--down', action='store_true', help='remove the machine afterwards')
    args = ap.parse_args()
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
    mirror = os.environ.get('PYFLEET_CPYTHON_MIRROR', '/var/cache/pyfleet/cpython-mirror')
    step('CPython sources: a pyenv mirror made from Debian\'s source packages (%s)' % mirror)
    if subprocess.run([sys.executable, os.path.join(ROOT, 'testbed', 'cpython_mirror.py'), 'build', mirror],
                      stdout=subprocess.DEVNULL, env=env).returncode != 0:
        return 1
    pyenv_root = subprocess.run(['pyenv', 'root'], capture_output=True, text=True).stdout.strip()
    step('booting a local test machine (testbed/nspawn.py up 1)')
    cmd = [sys.executable, TESTBED, 'up', '1', '--release', args.release, '--json', '--mirror-dir', mirror]
    if pyenv_root:
        cmd += ['--pyenv-root', pyenv_root]   # ship the controller's pyenv; without one, the host clones it
    res = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
    if res.returncode != 0:
        return res.returncode
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    host = summary['machines'][0]['address']
    inventory = summary['inventory']
    t0 = time.time()
    rc = 1
    try:
        step('deploying %s to %s' % (os.path.relpath(args.app, ROOT), host))
        cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, os.path.join(ROOT, 'deploy.yml'),
               '-e', 'app_src=%s' % os.path.abspath(args.app)]
        rc = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        if rc != 0:
            print('pyfleet demo: the deploy failed (see above); the machine is still up: ./pyfleet testbed ssh pf1')
            return rc
        url = 'http://%s/' % host
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = resp.read().decode('utf-8', 'replace').strip()
        step('deployed in %.0f s; %s answers %d: %s' % (time.time() - t0, url, resp.status, body[:200]))
        print(url)
        if not args.down:
            print('(the machine stays up; remove it with: ./pyfleet testbed down)')
        return 0
    finally:
        if args.down:
            subprocess.run([sys.executable, TESTBED, 'down'], env=env)


if __name__ == '__main__':
    sys.exit(main())
