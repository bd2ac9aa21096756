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
                 'PORT is set by pyfleet for each web instance', 'app_service_web_port',
                 'the values of HOSTS, NESTED, NOTHING are not a string, number or boolean',
                 'PATH, LD_PRELOAD, PYFLEET_APP is set by pyfleet or systemd for every process',
                 'use a name of your own'):
        assert part in ' '.join(out.split()), out[-3000:]
    assert 'GOOD' not in out and 'one\\ntwo' not in out and 'pyfleet-nested-secret' not in out


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


def test_every_boolean_variable_is_read_through_the_bool_filter():
    """`-e name=false` arrives as the string "false", which Jinja counts as true: every read of a role's
    boolean variable goes through `| bool` (argument_specs validate, they do not convert)."""
    import glob
    import yaml
    bare = []
    for spec in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml'))):
        role_dir = os.path.dirname(os.path.dirname(spec))
        with open(spec) as fh:
            options = yaml.safe_load(fh)['argument_specs']['main']['options']
        names = [k for k, v in options.items() if v.get('type') == 'bool']
        assert names or os.path.basename(role_dir) in ('app_env', 'app_release', 'app_service'), role_dir
        for path in glob.glob(os.path.join(role_dir, '**', '*'), recursive=True):
            if not os.path.isfile(path) or path in (spec, os.path.join(role_dir, 'defaults', 'main.yml')):
                continue
            with open(path) as fh:
                for number, line in enumerate(fh, 1):
                    if line.strip().startswith('#'):
                        continue
                    for name in names:
                        for m in re.finditer(r'\b%s\b(\s*\|\s*bool\b)?' % re.escape(name), line):
                            if not m.group(1):
                                bare.append('%s:%d: %s' % (os.path.relpath(path, ROOT), number, line.strip()))
    assert not bare, 'read without | bool:\n' + '\n'.join(bare)
