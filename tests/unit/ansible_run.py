"""Run Ansible's commands as a user of a checkout does: ansible.cfg, the venv's binaries."""
import os
import subprocess
import sys

from helpers import ROOT

BIN = os.path.dirname(sys.executable)


def run(cmd, env=None, **kw):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               PATH=BIN + os.pathsep + os.environ.get('PATH', ''), **(env or {}))
    env.pop('ANSIBLE_COLLECTIONS_PATH', None)   # ansible.cfg's, as for a user
    return subprocess.run([os.path.join(BIN, cmd[0])] + list(cmd[1:]), cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, **kw)
