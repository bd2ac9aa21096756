"""module_utils/platforms.py: the platforms' own files read in full (health, memory, services, notes)."""

import json
import textwrap

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import platforms
from ansible_collections.pyfleet.deploy.plugins.module_utils.findings import Findings
from helpers import codes, finding, with_files

CF_APP = 'import os\n'


def manifest(**app):
    body = {'applications': [dict({'name': 'shop', 'command': 'python app.py'}, **app)]}
    return json.dumps(body)      # JSON is YAML


@pytest.mark.parametrize('app, path, statuses', [
    ({}, '/', platforms.ANY_ANSWER),                                      # port: it answers at all
    ({'health-check-type': 'process'}, '/', platforms.ANY_ANSWER),
    ({'health-check-type': 'http'}, '/', [200]),
    ({'health-check-type': 'http', 'health-check-http-endpoint': '/health'}, '/health', [200]),
    ({'health-check-type': 'http', 'health-check-http-endpoint': 'ready'}, '/ready', [200]),
])
def test_cloud_foundrys_health_check_feeds_the_gate(app, path, statuses):
    out = platforms.cloudfoundry(manifest(**app), Findings())
    assert (out['health']['path'], out['health']['status_codes']) == (path, statuses)


def test_a_web_process_entry_and_timeouts_are_read():
    text = manifest(timeout=120, processes=[{'type': 'web', 'health-check-type': 'http',
                                              'health-check-http-endpoint': '/up', 'health-check-invocation-timeout': 9}])
    health = platforms.cloudfoundry(text, Findings())['health']
    assert (health['path'], health['timeout'], health['request_timeout']) == ('/up', 120, 9)


@pytest.mark.parametrize('memory, mb', [('128M', 128), ('1G', 1024), ('512MB', 512), ('256', 256), ('2g', 2048)])
def test_memory_becomes_megabytes(memory, mb):
    assert platforms.cloudfoundry(manifest(memory=memory), Findings())['memory_mb'] == mb


def test_instances_routes_and_services_are_named_with_what_pyfleet_does_instead():
    findings = Findings()
    platforms.cloudfoundry(manifest(instances=3, routes=[{'route': 'shop.example.com'}], services=['db'],
                                    **{'health-check-type': 'bogus'}), findings)
    notes = [d for d in findings if d.code == 'cf-manifest-note']
    assert len(notes) == 1 and 'instances, routes, services' in notes[0].message
    assert 'nginx_site_server_names' in notes[0].message and 'pyfleet_services' in notes[0].message
    assert [d.code for d in findings.errors()] == ['cf-manifest-invalid']


APP_JSON = textwrap.dedent('''\
    {
      "name": "shop",
      "cron": [{"command": "python manage.py clear", "schedule": "0 1 * * *"}],
      "formation": {"web": {"quantity": 1}},
      "healthchecks": {
        "web": [
          {"type": "startup", "name": "web check", "path": "/health/ready", "content": "ok.",
           "attempts": 4, "timeout": 3, "wait": 2, "initialDelay": 5},
          {"type": "liveness", "path": "/health/live"}
        ]
      }
    }
    ''')


def test_app_json_healthchecks_feed_the_gate_and_every_other_key_is_noted_once():
    findings = Findings()
    health = platforms.app_json(APP_JSON, findings)['health']
    assert (health['path'], health['body'], health['timeout'], health['request_timeout']) == \
        ('/health/ready', r'ok\.', 5 + 4 * (3 + 2), 3)
    said = [d.message for d in findings if d.code == 'app-json-ignored']
    assert len(said) == 3 and not any('sets cron' in m for m in said) and any('sets formation' in m for m in said)
    assert any('sets name' in m for m in said) and any('1 more web check' in m for m in said)


@pytest.mark.parametrize('text, said', [('{', 'not valid JSON'), ('[]', 'not a JSON object'),
                                        ('{"healthchecks": {"web": {}}}', 'must be a list')])
def test_a_bad_app_json_is_an_error(text, said):
    findings = Findings()
    platforms.app_json(text, findings)
    assert [d.code for d in findings.errors()] == ['app-json-invalid'] and said in findings.errors()[0].message


CRON_JSON = textwrap.dedent('''\
    {
      "cron": [
        {"command": "python manage.py clearsessions", "schedule": "@daily"},
        {
          "command": "worker",
          "schedule": "*/10 * * * *",
          "concurrency_policy": "replace"
        },
        {"command": "echo off", "schedule": "0 0 * * *", "maintenance": true},
        {"command": "echo on", "schedule": "5 4 * * sun", "maintenance": false, "concurrency_policy": "forbid"}
      ]
    }
    ''')


def test_app_json_cron_jobs_as_dokku_runs_them():
    findings = Findings()
    jobs = platforms.app_json(CRON_JSON, findings, {'worker': {'command': 'python worker.py --once'}})['jobs']
    assert jobs == [
        {'name': 'cron-1', 'command': 'python manage.py clearsessions', 'schedule': '@daily',
         'calendar': ['*-*-* 00:00:00'], 'source': 'app.json', 'line': 3},
        # a command that names a Procfile process runs that process's command
        {'name': 'cron-2', 'command': 'python worker.py --once', 'schedule': '*/10 * * * *',
         'calendar': ['*-*-* *:00/10:00'], 'source': 'app.json', 'line': 6},
        {'name': 'cron-4', 'command': 'echo on', 'schedule': '5 4 * * sun', 'calendar': ['Sun *-*-* 04:05:00'],
         'source': 'app.json', 'line': 10}]
    said = sorted((d.line, d.message) for d in findings)
    assert not findings.errors()
    assert [line for line, _ in said] == [6, 9]
    assert 'concurrency_policy "replace"; pyfleet never starts a job while its last run goes on' in said[0][1]
    assert 'cron job 3 sets maintenance true; a job in maintenance (true) gets no timer' in said[1][1]


@pytest.mark.parametrize('cron, said, line', [
    ('{"a": 1}', 'cron must be a list of jobs', 2),
    ('[{"command": "x"}]', 'cron job 1 needs a command and a schedule', 2),
    ('[\n  {"command": "x", "schedule": "0 0 * * *"},\n  {"command": "y", "schedule": "0 25 * * *"}]',
     'app.json line 4, cron job 2 (0 25 * * *): the hour field has 25, outside 0-23', 4),
])
def test_a_bad_app_json_cron_is_an_error_naming_the_line(cron, said, line):
    findings = Findings()
    platforms.app_json('{\n  "cron": %s\n}\n' % cron, findings)
    errors = findings.errors()
    assert len(errors) == 1 and said in errors[0].message and errors[0].line == line, [(d.message, d.line) for d in errors]
    assert errors[0].code in ('app-json-invalid', 'job-schedule-invalid')


def test_jobs_from_the_procfile_and_app_json_each_need_a_name_of_their_own(make_plan):
    plan = make_plan(with_files(Procfile='web: gunicorn hello:app\ncron-1: @hourly echo a\n',
                                **{'app.json': '{"cron": [{"command": "echo b", "schedule": "@daily"}]}'}))
    d = finding(plan, 'job-name-taken')
    assert (d['file'], d['line']) == ('Procfile', 2) and [j['name'] for j in plan['jobs']] == ['cron-1']


def test_the_plan_gives_the_web_process_its_platforms_check_and_the_app_its_memory(make_plan):
    plan = make_plan(with_files(**{'manifest.yml': manifest(memory='256M', **{'health-check-type': 'http',
                                                                             'health-check-http-endpoint': '/health'}),
                                   'app.py': CF_APP}))
    assert plan['platform'] == 'cloudfoundry' and plan['limits'] == {'memory_mb': 256, 'source': 'manifest.yml'}
    assert plan['web']['health']['path'] == '/health'


def test_a_leanengine_app_is_probed_as_leanengine_probes_it(make_plan):
    plan = make_plan(with_files(**{'leanengine.yaml': 'run: python app.py\n', 'app.py': CF_APP}))
    assert plan['platform'] == 'leanengine' and plan['web']['health']['path'] == '/__engine/1/ping'
    assert plan['web']['health']['also'] == ['/'] and plan['web']['health']['status_codes'] == list(range(200, 300))


def test_app_jsons_check_is_the_gates(make_plan):
    plan = make_plan(with_files(**{'app.json': APP_JSON}))
    assert plan['platform'] == 'heroku' and plan['web']['health']['path'] == '/health/ready'
    assert 'app-json-ignored' in codes(plan, 'note') and plan['limits'] is None


def test_vendor_is_used_as_cloud_foundry_uses_it(make_plan):
    files = with_files(**{'manifest.yml': manifest(), 'app.py': CF_APP, 'vendor/six-1.17.0-py2.py3-none-any.whl': 'x'})
    plan = make_plan(files)
    assert plan['requirements']['vendor'] == 'vendor' and 'vendor-used' in codes(plan, 'note')


def test_vendor_is_not_read_for_an_app_that_is_not_cloud_foundrys(make_plan):
    plan = make_plan(with_files(**{'vendor/six-1.17.0-py2.py3-none-any.whl': 'x'}))
    assert 'vendor' not in plan['requirements'] and 'vendor-ignored' in codes(plan, 'note')


def test_vcap_services_holds_the_operators_services_and_the_database():
    services = {'p.mysql': [{'name': 'orders', 'credentials': {'uri': 'mysql://u:p@db/orders'}}]}
    out = platforms.vcap_services(services, 'postgres://shop:s%40cret@db.example.com:5433/shopdb')
    assert out['p.mysql'][0]['label'] == 'p.mysql'
    db = out['user-provided'][0]
    assert db['name'] == 'database' and db['credentials'] == {
        'uri': 'postgres://shop:s%40cret@db.example.com:5433/shopdb', 'url': 'postgres://shop:s%40cret@db.example.com:5433/shopdb',
        'hostname': 'db.example.com', 'host': 'db.example.com', 'port': 5433, 'username': 'shop', 'user': 'shop',
        'password': 's@cret', 'name': 'shopdb'}
    assert 'postgres' in db['tags']
    # a declared "database" service wins over the URL
    out = platforms.vcap_services({'user-provided': [{'name': 'database', 'credentials': {}}]}, 'postgres://x/y')
    assert len(out['user-provided']) == 1


@pytest.mark.parametrize('services, said', [([1], 'must be a mapping'), ({'db': {}}, 'must be a list'),
                                            ({'db': [{'credentials': {}}]}, 'has no name')])
def test_a_services_value_not_of_vcap_services_form_is_refused(services, said):
    assert any(said in p for p in platforms.check_services(services))


def test_vcap_application_names_the_app():
    out = platforms.vcap_application('shop', ['shop.example.com', '_'], 256)
    assert out['application_name'] == 'shop' and out['uris'] == ['shop.example.com'] and out['limits']['mem'] == 256
    assert out['application_id'] == platforms.vcap_application('shop')['application_id']


SETUP_PY = 'from setuptools import setup\nsetup(name="shop", install_requires=["Flask==3.1.3", "gunicorn>=23"])\n'


@pytest.mark.parametrize('extra', [{'manifest.yml': manifest()}, {'vendor/flask-3.1.3-py3-none-any.whl': 'x'}])
def test_a_setup_py_app_is_built_as_cloud_foundry_builds_it(make_plan, extra):
    plan = make_plan(dict({'setup.py': SETUP_PY, 'wsgi.py': 'application = None\n'}, **extra))
    assert plan['ok'], plan['errors']
    reqs = plan['requirements']
    assert plan['package_manager'] == 'pip' and reqs['export'] == ['-e .'] and reqs['setup_py']
    assert 'setup-py-installed' in codes(plan, 'note') and 'gunicorn' not in plan['extra_packages']
    assert ('vendor' in reqs) is ('vendor/flask-3.1.3-py3-none-any.whl' in extra)


def test_a_setup_py_app_without_either_is_refused_as_heroku_refuses_it(make_plan):
    plan = make_plan({'setup.py': SETUP_PY, 'wsgi.py': 'application = None\n'})
    assert codes(plan, 'error') == ['not-python-app'] and 'as Cloud Foundry does' in plan['errors'][0]['fix']
