"""The collection's filter (plugins/filter/pyfleet.py): the plan's rule for a version's minor."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.pyfleet.deploy.plugins.filter.pyfleet import FilterModule, python_minor
from ansible_run import run


@pytest.mark.parametrize('version,minor', [('3.13.5', '3.13'), ('3.11', '3.11'), ('3.10.12', '3.10')])
def test_python_minor(version, minor):
    assert python_minor(version) == minor


@pytest.mark.parametrize('bad', ['3', '3.x', '03.11.2', 'python-3.11.2', ''])
def test_python_minor_refuses_what_is_not_a_version(bad):
    with pytest.raises(AnsibleFilterError, match='not a CPython version'):
        python_minor(bad)


def test_the_filter_is_registered_and_documented():
    assert set(FilterModule().filters()) == {'python_minor'}
    res = run(['ansible-doc', '-t', 'filter', 'pyfleet.deploy.python_minor'])
    assert res.returncode == 0 and 'python_minor' in res.stdout, res.stderr
