"""The collection's filters (plugins/filter/pyfleet.py): the plan's rule for a version's minor, and an app's
layout from its name (for the rollback and the release list, which have no source)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.pyfleet.deploy.plugins.filter import pyfleet as F
from ansible_collections.pyfleet.deploy.plugins.filter.pyfleet import (FilterModule, app_layout, health_path, lb_server,
                                                                     python_minor, rollout, site_host, slice_limits)
from ansible_run import run


@pytest.mark.parametrize('version,minor', [('3.13.5', '3.13'), ('3.11', '3.11'), ('3.10.12', '3.10')])
def test_python_minor(version, minor):
    assert python_minor(version) == minor


@pytest.mark.parametrize('bad', ['3', '3.x', '03.11.2', 'python-3.11.2', ''])
def test_python_minor_refuses_what_is_not_a_version(bad):
    with pytest.raises(AnsibleFilterError, match='not a CPython version'):
        python_minor(bad)


def test_the_filters_are_registered_and_documented():
    assert set(FilterModule().filters()) == {'python_minor', 'app_layout', 'plan_on_port', 'gunicorn_answer', 'vcap_services', 'vcap_application', 'fingerprint', 'env_text', 'run_line', 'lb_server', 'health_path', 'site_host', 'rollout', 'slice_limits', 'env_file',
                                            'kept_scale', 'scale_units', 'process_counts', 'batches', 'input_problems'}
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


@pytest.mark.parametrize('web,setting,path', [
    ({'health': {'path': '/healthz'}}, '', '/healthz'),
    ({'health': {'path': '/healthz'}}, '/ping', '/ping'),
    ({'health': {}}, '', '/'), ({}, '', '/'), (None, '', '/'), ({'health': None}, '', '/')])
def test_health_path_is_the_setting_else_the_apps_else_root(web, setting, path):
    assert health_path(web, setting) == path


@pytest.mark.parametrize('names,host', [(['_', 'shop.example.com', 'www'], 'shop.example.com'), (['_'], 'localhost'),
                                        ([], 'localhost'), (None, 'localhost')])
def test_site_host_is_the_first_real_server_name(names, host):
    assert site_host(names) == host


def test_rollout_reads_each_hosts_report_and_failure_from_hostvars():
    hostvars = {'a': {'pyfleet__reported': {'outcome': 'deployed', 'batch': ['a'], 'switched': True, 'serves': 'r2',
                                            'served_before': 'r1'}},
                'b': {'pyfleet__reported': {'outcome': 'failed', 'batch': ['b'], 'switched': False},
                      'pyfleet__failed': {'task': 'Switch', 'msg': 'did not answer'}},
                'c': {'pyfleet__reported': {}},     # planned, in a batch that never started
                'left-out': {}}                     # left out of the run (--limit): not part of the rollout
    state = rollout(['a', 'b', 'c', 'left-out'], hostvars)
    assert state['stopped'] and state['back'] == {'a': 'r1'} and state['not_reached'] == ['c']
    assert "b at 'Switch'" in state['said'] and 'a (r1)' in state['said'] and 'Never reached' in state['said']
    assert 'left-out' not in state['said'] and 'left-out' not in state['failed']


@pytest.mark.parametrize('limits,mb,pct', [
    ({'memory_max': '768M', 'cpu_quota': '150%', 'tasks_max': 512}, 768, 0),
    ({'memory_max': '1.5G'}, 1536, 0), ({'memory_max': '512K'}, 0, 0), ({'memory_max': '2147483648'}, 2048, 0),
    ({'memory_max': '40%'}, 0, 40), ({'memory_max': 'infinity'}, 0, 0), ({}, 0, 0), (None, 0, 0)])
def test_slice_limits_give_the_memory_limit_in_mib_or_percent(limits, mb, pct):
    out = slice_limits(limits)
    assert (out['memory_mb'], out['memory_percent'], out['error']) == (mb, pct, '')


@pytest.mark.parametrize('limits', [{'memory_max': '768MB'}, {'memory_max': '768m'}, {'memory_max': 'lots'},
                                    {'cpu_quota': '1.5'}, {'tasks_max': 0}, {'tasks_max': 'many'}, {'tasks_max': ''}])
def test_slice_limits_name_what_systemd_would_not_read(limits):
    assert slice_limits(limits)['error'].startswith("pyfleet: the app's limits are not systemd's")


def test_env_file_writes_the_environment_with_what_config_yml_kept_applied():
    env = {'A': 'inventory', 'DEBUG': True, 'Q': 'say "hi"'}
    assert F.env_file(env) == 'A="inventory"\nDEBUG="true"\nQ="say \\"hi\\""\n'
    kept = '{"set": {"A": "operator"}, "unset": ["DEBUG"]}'
    assert F.env_file(env, kept) == F.env_file(env, {'set': {'A': 'operator'}, 'unset': ['DEBUG']}) == \
        'A="operator"\nQ="say \\"hi\\""\n'
    with pytest.raises(AnsibleFilterError, match='config.json is not'):
        F.env_file(env, '[1, 2]')
