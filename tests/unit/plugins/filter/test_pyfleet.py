"""The collection's filters (plugins/filter/pyfleet.py): the plan's rule for a version's minor, and an app's
layout from its name (for the rollback and the release list, which have no source)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.pyfleet.deploy.plugins.filter.pyfleet import FilterModule, app_layout, lb_server, python_minor
from ansible_run import run


@pytest.mark.parametrize('version,minor', [('3.13.5', '3.13'), ('3.11', '3.11'), ('3.10.12', '3.10')])
def test_python_minor(version, minor):
    assert python_minor(version) == minor


@pytest.mark.parametrize('bad', ['3', '3.x', '03.11.2', 'python-3.11.2', ''])
def test_python_minor_refuses_what_is_not_a_version(bad):
    with pytest.raises(AnsibleFilterError, match='not a CPython version'):
        python_minor(bad)


def test_the_filters_are_registered_and_documented():
    assert set(FilterModule().filters()) == {'python_minor', 'app_layout', 'plan_on_port', 'gunicorn_answer', 'vcap_services', 'vcap_application', 'fingerprint', 'env_text', 'run_line', 'lb_server'}
    for name in FilterModule().filters():
        res = run(['ansible-doc', '-t', 'filter', 'pyfleet.deploy.' + name])
        assert res.returncode == 0 and name in res.stdout, res.stderr


def test_app_layout_is_the_plans_layout(rules, tmp_path):
    from helpers import FLASK_WSGI, task_params, write_tree
    src = write_tree(tmp_path / 'Shop', {'requirements.txt': 'flask==3.1.3\n', 'wsgi.py': FLASK_WSGI})
    plan = rules.run_task(task_params(rules, src=src, apps_root='/opt/apps'))['plan']
    mine = app_layout('', apps_root='/opt/apps', src=src)
    assert {k: v for k, v in mine.items() if k != 'release_cache'} == \
        {k: v for k, v in plan['layout'].items() if k != 'release_cache'}
    assert app_layout('shop')['lock'] == '/run/lock/pyfleet/shop.deploy'
    with pytest.raises(AnsibleFilterError, match='pyfleet_name'):
        app_layout('', src='')


def test_lb_server_is_the_hosts_address_and_nginxs_port():
    hostvars = {'web-1': {'ansible_host': '10.0.0.5'}, 'web-2': {}}
    assert lb_server('web-1', hostvars) == {'name': 'web-1', 'address': '10.0.0.5', 'port': 80}
    assert lb_server('web-2', hostvars, 8080) == {'name': 'web-2', 'address': 'web-2', 'port': 8080}
    with pytest.raises(AnsibleFilterError, match='not a host of the inventory'):
        lb_server('web-3', hostvars)
