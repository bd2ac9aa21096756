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


@pytest.mark.parametrize('module,parts', [
    ('pyfleet_app_plan', ('Reads an app source directory', 'catalogue_file', 'available_versions')),
    ('pyfleet_pack', ('Packs the app source directory', 'links', 'exclude', 'created')),
])
def test_ansible_doc_renders_modules(module, parts):
    res = run([os.path.join(BIN, 'ansible-doc'), '-t', 'module', module])
    assert res.returncode == 0, res.stderr
    for part in parts + ('EXAMPLES', 'RETURN VALUES'):
        assert part in res.stdout


def test_app_env_refuses_bad_names_multiline_values_and_port():
    res = run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', '--check',
               'tests/playbooks/env_refused.yml'])
    out = res.stdout + res.stderr
    assert res.returncode != 0
    for part in ('the names bad-name must match', 'the values of MULTI must be one line',
                 'PORT is set by pyfleet for each web instance', 'app_service_web_port'):
        assert part in ' '.join(out.split()), out[-3000:]
    assert 'GOOD' not in out and 'one\\ntwo' not in out


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
