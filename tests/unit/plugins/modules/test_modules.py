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
