"""The modules by FQCN from a checkout: ansible-doc renders them, and a playbook runs them."""
import re

import pytest

from ansible_run import run


@pytest.mark.parametrize('module,parts', [
    ('pyfleet.deploy.app_plan', ('Reads an app source directory', 'catalogue_file', 'available_versions', 'pyenv_root',
                                 'layout', 'schema')),
    ('pyfleet.deploy.pack', ('Packs the app source directory', 'links', 'exclude', 'created')),
])
def test_ansible_doc_renders_modules(module, parts):
    res = run(['ansible-doc', '-t', 'module', module])
    assert res.returncode == 0, res.stderr
    for part in parts + ('EXAMPLES', 'RETURN VALUES'):
        assert part in res.stdout, part


def test_fixture_playbook_runs_the_module_and_the_filter_by_fqcn():
    res = run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', 'tests/playbooks/plan_fixture.yml'])
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert re.search(r'localhost\s*:\s*ok=\d+\s+changed=0\s+unreachable=0\s+failed=0', res.stdout)
    # the failing plan's findings: data in the failed result (each with its code, file, line, message and fix),
    # printed there once, and nowhere else
    out = res.stdout + res.stderr
    for text in ("Process 'web' is declared on line 1 and again on line 2.", "Process 'worker' has no command.",
                 'procfile-duplicate', 'procfile-empty-command'):
        assert out.count(text) == 1, (text, out[-4000:])


@pytest.mark.parametrize('result_format', ['json', 'yaml'])
def test_a_failed_build_step_is_said_once_as_lines(result_format):
    res = run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', 'tests/playbooks/said_once.yml'],
              env={'ANSIBLE_CALLBACK_RESULT_FORMAT': result_format})
    out = res.stdout + res.stderr
    assert res.returncode == 2, out[-4000:]
    # the report, each line on a line of its own, once
    for line in ('pyfleet: the build step "Import the WSGI app" failed (exit 3).',
                 'Nothing was started: nothing served before this release.',
                 'Traceback (most recent call last):', 'RuntimeError: boom on import', "Hint: look at the app's import."):
        assert len(re.findall('^(.*: )?%s$' % re.escape(line), out, re.M)) == 1, (line, out[-4000:])
    # the result beside it says only what failed, and not the output again
    assert out.count('boom on import') == 1, out[-4000:]
    assert 'stdout_lines' not in out


# the modules whose task arguments are their module_utils' ARGUMENT_SPEC (deploy_lock's action plugin takes other
# ones): ansible-doc, with its fragments, must document exactly those options, with the same types and defaults,
# as ansible-test's validate-modules asks
HOST_MODULES = {'app_cutover': 'cutover', 'build_step': 'steps', 'http_check': 'health', 'app_releases': 'releases',
                'app_ports': 'ports', 'cpython_install': 'interpreter'}


def test_each_host_module_documents_its_argument_spec():
    import importlib
    import json
    res = run(['ansible-doc', '--json', '-t', 'module'] + ['pyfleet.deploy.' + m for m in HOST_MODULES])
    assert res.returncode == 0, res.stderr
    docs = json.loads(res.stdout)
    for module, utils in HOST_MODULES.items():
        spec = importlib.import_module('ansible_collections.pyfleet.deploy.plugins.module_utils.' + utils).ARGUMENT_SPEC
        options = docs['pyfleet.deploy.' + module]['doc']['options']
        assert set(options) == set(spec), (module, set(options) ^ set(spec))
        for name, arg in spec.items():
            doc = options[name]
            assert doc.get('type', 'str') == arg.get('type', 'str'), (module, name)
            assert doc.get('elements') == arg.get('elements'), (module, name)
            assert bool(doc.get('required')) == bool(arg.get('required')), (module, name)
            assert doc.get('choices') == arg.get('choices'), (module, name)
            assert doc.get('default') == arg.get('default'), (module, name, doc.get('default'), arg.get('default'))
