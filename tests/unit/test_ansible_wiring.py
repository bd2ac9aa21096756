"""ansible-doc renders the module, and a playbook runs it through ansible.cfg."""
import os
import re
import subprocess
import sys

import pytest

from helpers import ROOT

BIN = os.path.dirname(sys.executable)


def run(cmd, **kw):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, **kw)


def test_ansible_doc_renders_module():
    res = run([os.path.join(BIN, 'ansible-doc'), '-t', 'module', 'pyfleet_app_plan'])
    assert res.returncode == 0, res.stderr
    for part in ('Reads an app source directory', 'catalogue_file', 'available_versions', 'EXAMPLES', 'RETURN VALUES'):
        assert part in res.stdout


def test_ansible_doc_renders_filters():
    for name in ('pyfleet_resolve_python', 'pyfleet_python_minor'):
        res = run([os.path.join(BIN, 'ansible-doc'), '-t', 'filter', name])
        assert res.returncode == 0, res.stderr
        assert name in res.stdout


def test_fixture_playbook_runs_module_and_filters():
    res = run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
               'tests/playbooks/plan_fixture.yml'])
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert re.search(r'localhost\s*:\s*ok=\d+\s+changed=0\s+unreachable=0\s+failed=0', res.stdout)


def test_readme_documents_every_code(rules):
    with open(os.path.join(ROOT, 'README.md')) as fh:
        readme = fh.read()
    missing = [c for c in rules.CODES if '`%s`' % c not in readme]
    assert not missing, 'README lacks: %s' % missing
