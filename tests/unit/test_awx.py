"""pyfleet as AWX and ansible-builder take it: the execution environment's build context, the project's
collection requirements, and the versions the collection claims."""
import glob
import json
import os
import re
import subprocess
import sys

import yaml

from helpers import ROOT


def _pins():
    with open(os.path.join(ROOT, 'requirements.txt')) as fh:
        return dict(re.findall(r'^([A-Za-z0-9_.-]+)==([^\s#]+)', fh.read(), re.M))


def test_ansible_builder_writes_the_execution_environments_build_context(tmp_path):
    context = str(tmp_path / 'context')
    builder = os.path.join(os.path.dirname(sys.executable), 'ansible-builder')
    res = subprocess.run([builder, 'create', '--file', os.path.join(ROOT, 'execution-environment.yml'),
                          '--context', context], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    with open(os.path.join(context, 'Dockerfile')) as fh:
        containerfile = fh.read()
    pins = _pins()
    # the ansible-core and ansible-runner CI tests, on a Python that ansible-core supports
    assert 'ansible-core==%s ansible-runner==%s' % (pins['ansible-core'], pins['ansible-runner']) in containerfile
    assert re.search(r'^ARG PYCMD="/usr/bin/python3\.(1[1-9])"$', containerfile, re.M)
    with open(os.path.join(context, '_build', 'requirements.txt')) as fh:
        python = dict(re.findall(r'^([A-Za-z0-9_.-]+)==(\S+)', fh.read(), re.M))
    # every Python package the controller side imports, at the version CI tests
    for name in ('packaging', 'PyYAML', 'Jinja2'):
        assert python.get(name) == pins[name], (name, python)
    with open(os.path.join(context, '_build', 'bindep.txt')) as fh:
        assert 'openssh-clients' in fh.read()
    with open(os.path.join(context, '_build', 'requirements.yml')) as fh:
        assert yaml.safe_load(fh) == {'collections': [{'name': 'community.general', 'version': _community_general()}]}


def _community_general():
    """The community.general the ansible package of requirements.txt carries (the one CI tests)."""
    for base in sys.path:
        manifest = os.path.join(base, 'ansible_collections', 'community', 'general', 'MANIFEST.json')
        if os.path.isfile(manifest):
            with open(manifest) as fh:
                return json.load(fh)['collection_info']['version']
    raise AssertionError('community.general is not installed (requirements.txt: ansible)')


def test_the_collection_claims_the_ansible_ci_tests():
    tested = tuple(int(n) for n in _pins()['ansible-core'].split('.')[:2])
    with open(os.path.join(ROOT, 'meta', 'runtime.yml')) as fh:
        claim = yaml.safe_load(fh)['requires_ansible']
    assert claim == '>=%d.%d.0' % tested, claim
    for meta in glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'main.yml')):
        with open(meta) as fh:
            assert yaml.safe_load(fh)['galaxy_info']['min_ansible_version'] == '%d.%d' % tested, meta


def test_galaxy_yml_has_no_placeholder_and_its_license_ships():
    with open(os.path.join(ROOT, 'galaxy.yml')) as fh:
        text = fh.read()
    galaxy = yaml.safe_load(text)
    assert 'example.invalid' not in text and 'example.com' not in text
    assert galaxy['license'] == ['GPL-3.0-or-later'] and galaxy.get('license_file') is None
    with open(os.path.join(ROOT, 'LICENSE')) as fh:
        licence = fh.read()
    assert 'GNU GENERAL PUBLIC LICENSE' in licence and 'Version 3, 29 June 2007' in licence
    assert 'LICENSE' not in galaxy['build_ignore']


def test_a_failed_plan_reaches_ansible_runner_as_data(tmp_path):
    """As AWX runs a job: ansible-runner, a private data dir, the project's deploy.yml, an app that cannot be
    deployed. The plan fails on the controller before any host is reached (the inventory's host does not exist),
    and the failed task's event carries each finding's code, file, line and fix; the job's stdout says each once."""
    import ansible_runner
    data_dir = tmp_path / 'runner'
    (data_dir / 'env').mkdir(parents=True)
    (data_dir / 'env' / 'envvars').write_text(json.dumps(dict(
        ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
        PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))))
    inventory = tmp_path / 'inventory.yml'
    # (TEST-NET-1: nothing answers there, and nothing should be asked)
    inventory.write_text('all:\n  hosts:\n    web-1: {ansible_host: 192.0.2.1}\n')
    job = ansible_runner.run(private_data_dir=str(data_dir), project_dir=ROOT, playbook=os.path.join(ROOT, 'deploy.yml'),
                             inventory=str(inventory), ident='bad', quiet=True,
                             extravars={'pyfleet_src': os.path.join(ROOT, 'tests', 'fixtures', 'bad-app')})
    stdout = (data_dir / 'artifacts' / 'bad' / 'stdout').read_text()
    assert job.status == 'failed' and job.rc != 0, stdout[-3000:]
    failed = [e['event_data'] for e in job.events if e.get('event') == 'runner_on_failed']
    assert len(failed) == 1, stdout[-3000:]
    findings = failed[0]['res']['findings']
    errors = {e['code']: e for e in findings['errors']}
    assert set(errors) == {'requirements-invalid-line', 'procfile-duplicate', 'procfile-empty-command'}, findings
    assert errors['procfile-duplicate']['file'] == 'Procfile' and errors['procfile-duplicate']['line'] == 2
    assert all(e['fix'] for e in findings['errors'])
    assert [w['code'] for w in findings['warnings']].count('gunicorn-not-required') == 1
    for text in ("Process 'web' is declared on line 1 and again on line 2.", 'Keep one "web:" line.'):
        assert stdout.count(text) == 1, (text, stdout[-4000:])
    assert not [e for e in job.events if e.get('event') == 'runner_on_unreachable']
