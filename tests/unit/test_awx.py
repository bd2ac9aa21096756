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
