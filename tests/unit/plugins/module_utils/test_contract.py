"""The plan as a contract (module_utils/contract.py): the schema, the layout, the lock key, the units."""
import os
import re

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import contract
from helpers import ROOT, codes, task_params, write_tree

FLASK = {'requirements.txt': 'flask==3.1.3\ngunicorn==27.0.1\n',
         'wsgi.py': 'from flask import Flask\napplication = Flask(__name__)\n'}


def plan_of(rules, src, **inputs):
    return rules.run_task(task_params(rules, src=src, **inputs))['plan']


@pytest.mark.parametrize('example', sorted(os.listdir(os.path.join(ROOT, 'examples'))))
def test_every_example_keeps_the_schema(rules, example):
    plan = plan_of(rules, os.path.join(ROOT, 'examples', example))
    assert plan['ok'], plan['errors']
    assert contract.check_schema(plan) == []
    assert plan['schema'] == contract.SCHEMA_VERSION


def test_a_failed_plan_keeps_the_schema_too(rules):
    plan = plan_of(rules, os.path.join(ROOT, 'tests', 'fixtures', 'bad-app'))
    assert not plan['ok'] and contract.check_schema(plan) == []
    assert plan['venv'] is None


def test_check_schema_names_what_breaks_it(rules, tmp_path):
    plan = plan_of(rules, write_tree(tmp_path / 'app', FLASK))
    plan['surprise'] = 1
    plan['units'] = []
    del plan['layout']
    assert sorted(contract.check_schema(plan)) == ['missing key layout', 'undeclared key surprise',
                                                   'units is list, not dict']


def test_readme_documents_every_key_of_the_plan():
    with open(os.path.join(ROOT, 'README.md')) as fh:
        readme = fh.read()
    section = readme[readme.index('## The plan'):]
    section = section[:section.index('\n## ', 4)]
    assert 'schema %d' % contract.SCHEMA_VERSION in section
    missing = [k for k in contract.SCHEMA if '| `%s` |' % k not in section]
    assert not missing, 'the README\'s "The plan" lacks %s' % missing


def test_layout_and_interpreter_derive_from_the_name_and_the_roots(rules, tmp_path):
    src = write_tree(tmp_path / 'My_Shop.v2', FLASK)
    plan = plan_of(rules, src, pyenv_root='/usr/local/pyenv', apps_root='/opt/apps', release_cache=str(tmp_path / 'c'))
    assert plan['name'] == 'my-shop-v2'
    layout = plan['layout']
    assert layout['root'] == '/opt/apps/my-shop-v2' and layout['current'] == '/opt/apps/my-shop-v2/current'
    assert layout['env_file'] == '/etc/pyfleet/my-shop-v2/env'
    assert layout['target'] == 'pyfleet-my-shop-v2.target' and layout['nft_table'] == 'pyfleet_my_shop_v2'
    assert layout['build_unit'] == 'pyfleet-my-shop-v2-build.service'
    assert layout['release_cache'] == str(tmp_path / 'c' / 'my-shop-v2')
    assert layout['slots'] == '/opt/apps/my-shop-v2/slots'
    assert layout['upstream_conf'] == '/etc/nginx/pyfleet/my-shop-v2.upstream.conf'
    # a "-" in a slice's name nests it in another: escaped, app "my-shop-v2" is never inside app "my"'s slice
    assert layout['slice'] == 'pyfleet-my\\x2dshop\\x2dv2.slice'
    assert contract.layout('shop')['slice'] == 'pyfleet-shop.slice'
    version = plan['python']['version']
    assert plan['python']['interpreter'] == '/usr/local/pyenv/versions/%s/bin/python3' % version
    assert plan['python']['minor'] == '.'.join(version.split('.')[:2])
    assert plan['venv']['path'].startswith('/opt/apps/my-shop-v2/venvs/')


def test_an_unusable_name_is_an_error_that_says_how_to_set_one(rules, tmp_path):
    plan = plan_of(rules, write_tree(tmp_path / '2fast', FLASK))
    assert codes(plan, 'error') == ['app-name-invalid'] and 'pyfleet_name=' in plan['errors'][0]['fix']
    assert 'source directory' in plan['errors'][0]['message']
    assert plan_of(rules, str(tmp_path / '2fast'), name='fast')['ok']
    assert codes(plan_of(rules, str(tmp_path / '2fast'), name='Root'), 'error') == ['app-name-invalid']


def test_the_lock_key_follows_the_inputs_and_not_the_code(rules, tmp_path):
    src = write_tree(tmp_path / 'app', dict(FLASK, **{'requirements.txt': 'flask==3.1.3\n-r more.txt\n',
                                                      'more.txt': 'gunicorn==27.0.1\n'}))
    key = plan_of(rules, src)['venv']['key']
    assert re.match(r'^[0-9a-f]{16}$', key)
    assert plan_of(rules, src)['venv']['key'] == key                     # the same inputs, the same key
    write_tree(src, {'wsgi.py': FLASK['wsgi.py'] + '# a code change\n'})
    assert plan_of(rules, src)['venv']['key'] == key                     # code is not a lock input
    write_tree(src, {'more.txt': 'gunicorn==27.0.0\n'})                  # an included file is
    moved = plan_of(rules, src)
    assert moved['venv']['key'] != key and set(moved['venv']['lock']['files']) == {'requirements.txt', 'more.txt'}
    assert plan_of(rules, src, pip_spec='pip==26.3')['venv']['key'] != moved['venv']['key']
    assert plan_of(rules, src, pyenv_root='/elsewhere')['venv']['key'] != moved['venv']['key']


def test_the_values_of_the_variables_requirements_name_are_lock_inputs_as_a_digest(rules, tmp_path):
    src = write_tree(tmp_path / 'app', dict(FLASK, **{'requirements.txt': 'flask==3.1.3\n${PRIVATE_WHEEL}\n'}))
    one = plan_of(rules, src, env={'PRIVATE_WHEEL': 'https://u:s3cret@example.invalid/a.whl', 'OTHER': '1'})
    two = plan_of(rules, src, env={'PRIVATE_WHEEL': 'https://u:s3cret@example.invalid/b.whl', 'OTHER': '1'})
    three = plan_of(rules, src, env={'PRIVATE_WHEEL': 'https://u:s3cret@example.invalid/a.whl', 'OTHER': '2'})
    assert one['venv']['key'] != two['venv']['key'] and one['venv']['key'] == three['venv']['key']
    assert 's3cret' not in repr(one['venv'])


def test_extra_packages_are_pinned_by_the_operators_specs(rules, tmp_path):
    src = write_tree(tmp_path / 'app', dict(FLASK, **{'requirements.txt': 'flask==3.1.3\n'}))
    plan = plan_of(rules, src, extra_specs={'gunicorn': 'gunicorn==23.0.0'})
    assert plan['venv']['lock']['extra'] == ['gunicorn==23.0.0']


PKG = {'pkg/pyproject.toml': '[project]\nname = "pkg"\nversion = "1"\n', 'pkg/pkg/__init__.py': 'X = 1\n'}


def test_a_local_package_is_a_lock_input_by_its_content(rules, tmp_path):
    src = write_tree(tmp_path / 'app', dict(FLASK, **PKG, **{'requirements.txt': 'flask==3.1.3\n-e ./pkg\n'}))
    plan = plan_of(rules, src)
    assert set(plan['venv']['lock']['files']) == {'requirements.txt', 'pkg/'}
    # the install runs in a copy inside the virtualenv: the requirement files and the package
    assert plan['venv']['stage'] == ['pkg', 'requirements.txt']
    key = plan['venv']['key']
    write_tree(src, {'pkg/pkg/__pycache__/x.pyc': b'junk', 'pkg/pkg.egg-info/PKG-INFO': 'x'})   # not content
    assert plan_of(rules, src)['venv']['key'] == key
    write_tree(src, {'pkg/pkg/__init__.py': 'X = 2\n'})
    assert plan_of(rules, src)['venv']['key'] != key
    write_tree(src, {'wsgi.py': FLASK['wsgi.py'] + '# the app\'s code is not\n'})
    assert plan_of(rules, src)['venv']['key'] == plan_of(rules, src)['venv']['key']


def test_an_app_without_local_packages_installs_in_the_release():
    assert contract.local_packages({'requirements': {'local': []}}) == {}


@pytest.mark.parametrize('spec, path', [('./pkg', 'pkg'), ('pkg/', 'pkg'), ('.', '.'), ('./pkg[extra]', 'pkg'),
                                        ('file:./pkg#egg=pkg', 'pkg'), ('./dist/pkg-1.tar.gz', 'dist/pkg-1.tar.gz'),
                                        ('/opt/pkg', None), ('../pkg', None), ('~/pkg', None), ('file:///opt/pkg', None)])
def test_local_paths_are_read_as_pip_resolves_them(spec, path):
    from ansible_collections.pyfleet.deploy.plugins.module_utils.requirements import local_path
    assert local_path(spec) == path


def test_a_pipenv_path_dependency_is_a_local_package_too(rules, lockfiles):
    import json
    pipenv = lockfiles.read_pipenv({'Pipfile.lock': json.dumps({'_meta': {}, 'default': {
        'pkg': {'editable': True, 'path': './pkg'}, 'flask': {'version': '==3.1.3'}}}, indent=4)})
    assert pipenv['local'] == [{'path': './pkg', 'editable': True, 'file': 'Pipfile.lock', 'line': 4}]
    assert contract.local_packages({'requirements': {'local': pipenv['local']}}) == {'pkg': True}


def test_units_web_instance_and_build_steps(rules, tmp_path):
    src = write_tree(tmp_path / 'shop', dict(FLASK, Procfile='web: gunicorn wsgi:application\nworker: python w.py\n'
                                                       'clock: python c.py\nrelease: python migrate.py\n'))
    plan = plan_of(rules, src, web_port=8100, process_counts={'worker': 2, 'clock': 0})
    # blue/green: two web instances, on the port and the next
    assert plan['units']['web'] == ['pyfleet-shop-web@8100.service', 'pyfleet-shop-web@8101.service']
    assert plan['units']['others'] == ['pyfleet-shop-worker@1.service', 'pyfleet-shop-worker@2.service']
    assert plan['units']['instances'] == plan['units']['web'] + plan['units']['others']
    assert plan['web']['slots'][1] == {'port': 8101, 'unit': 'pyfleet-shop-web@8101.service',
                                       'socket': '/run/pyfleet-shop/web-8101.sock',
                                       'upstream': 'unix:/run/pyfleet-shop/web-8101.sock', 'url': 'http://localhost'}
    assert plan['units']['templates'] == ['pyfleet-shop-web@.service', 'pyfleet-shop-worker@.service',
                                          'pyfleet-shop-clock@.service']
    assert plan['web']['socket'] == '/run/pyfleet-shop/web-8100.sock'
    assert plan['web']['upstream'] == 'unix:/run/pyfleet-shop/web-8100.sock'
    assert plan['build'].pop('ask_gunicorn')['app'] == 'wsgi:application'
    assert plan['build'] == {'collectstatic': False, 'migrate': False, 'import_check': 'wsgi:application',
                             'release': 'python migrate.py', 'pre_compile': None, 'post_compile': None}
    write_tree(src, {'bin/pre_compile': 'echo pre\n', 'bin/post_compile': 'echo post\n'})
    build = plan_of(rules, src)['build']
    assert (build['pre_compile'], build['post_compile']) == ('bin/pre_compile', 'bin/post_compile')
    assert plan_of(rules, src, import_check=False)['build']['import_check'] is None


def test_a_command_web_process_is_proxied_on_loopback_and_not_import_checked(rules):
    plan = plan_of(rules, os.path.join(ROOT, 'examples', 'leanengine'), web_port=8300)
    assert plan['web']['mode'] == 'command' and plan['web']['upstream'] == '127.0.0.1:8300'
    assert [(slot['upstream'], slot['url'], slot['socket']) for slot in plan['web']['slots']] == [
        ('127.0.0.1:8300', 'http://127.0.0.1:8300', None), ('127.0.0.1:8301', 'http://127.0.0.1:8301', None)]
    assert plan['build']['import_check'] is None
    assert plan['web']['listens'] is True


def test_a_worker_only_app_has_no_web_instance(rules, tmp_path):
    src = write_tree(tmp_path / 'jobs', {'requirements.txt': 'rq==2.6.0\n', 'Procfile': 'worker: rq worker\n'})
    plan = plan_of(rules, src)
    assert plan['web'] is None and plan['units']['instances'] == ['pyfleet-jobs-worker@1.service']
    assert plan['units']['web'] == []


def test_scheduled_jobs_are_a_timer_and_a_service_each_on_the_host_that_runs_them(rules, tmp_path):
    src = write_tree(tmp_path / 'shop', dict(FLASK, Procfile='web: gunicorn wsgi:application\nworker: python w.py\n'
                                                       'cron_mail: */5 * * * * python mail.py\n',
                                             **{'app.json': '{"cron": [{"command": "worker", "schedule": "@daily"}]}'}))
    plan = plan_of(rules, src, web_port=8100)
    assert [(j['name'], j['command'], j['calendar']) for j in plan['jobs']] == [
        ('cron_mail', 'python mail.py', ['*-*-* *:00/5:00']), ('cron-1', 'python w.py', ['*-*-* 00:00:00'])]
    timers = ['pyfleet-shop-cron_mail.timer', 'pyfleet-shop-cron-1.timer']
    assert plan['units']['jobs'] == timers
    assert plan['units']['others'] == ['pyfleet-shop-worker@1.service'] + timers
    assert plan['units']['templates'] == ['pyfleet-shop-web@.service', 'pyfleet-shop-worker@.service',
                                          'pyfleet-shop-cron_mail.service', 'pyfleet-shop-cron_mail.timer',
                                          'pyfleet-shop-cron-1.service', 'pyfleet-shop-cron-1.timer']
    # every other host: no job, no timer, no job unit file; the plan itself is left as it was
    elsewhere = contract.on_port(plan, 8200, None, jobs=False)
    assert elsewhere['jobs'] == [] and elsewhere['units']['jobs'] == []
    assert elsewhere['units']['others'] == ['pyfleet-shop-worker@1.service']
    assert elsewhere['units']['instances'] == ['pyfleet-shop-web@8200.service', 'pyfleet-shop-web@8201.service',
                                               'pyfleet-shop-worker@1.service']
    assert elsewhere['units']['templates'] == ['pyfleet-shop-web@.service', 'pyfleet-shop-worker@.service']
    assert len(plan['jobs']) == 2 and contract.on_port(plan, 8100, None, jobs=True) is plan


def test_scale_yml_counts_give_the_units_the_plan_gives_for_those_counts(rules, tmp_path):
    files = dict(FLASK, Procfile='web: gunicorn wsgi:application\nworker: python w.py\nclock: python c.py\n'
                                 'cron_mail: */5 * * * * python mail.py\n')
    plan = plan_of(rules, write_tree(tmp_path / 'shop', files), web_port=8100)
    counted = plan_of(rules, write_tree(tmp_path / 'x' / 'shop', files), web_port=8100,
                      process_counts={'worker': 3, 'clock': 0})
    scaled = contract.on_port(plan, 8100, None, scale={'worker': 3, 'clock': 0, 'web': 5, 'gone': 2})
    assert scaled['units'] == counted['units']
    assert scaled['units']['others'] == ['pyfleet-shop-worker@1.service', 'pyfleet-shop-worker@2.service',
                                         'pyfleet-shop-worker@3.service', 'pyfleet-shop-cron_mail.timer']
    assert scaled['units']['instances'][:2] == ['pyfleet-shop-web@8100.service', 'pyfleet-shop-web@8101.service']
    # back up from none, on another host's ports, and no scale is the plan itself
    again = contract.on_port(scaled, 8200, None, scale={'clock': 1})
    assert 'pyfleet-shop-clock@1.service' in again['units']['others']
    assert again['units']['others'].index('pyfleet-shop-clock@1.service') == 3
    assert contract.counts(scaled['units'], 'pyfleet-shop') == {'worker': 3, 'clock': 0}
    assert contract.counts(again['units'], 'pyfleet-shop') == {'worker': 3, 'clock': 1}
    assert contract.on_port(plan, 8100, None, scale={}) is plan
    assert contract.on_port(plan, 8100, None, scale={'worker': 1}) is plan


def test_a_missing_source_is_one_error_not_two(rules, tmp_path):
    plan = plan_of(rules, str(tmp_path / 'missing'))
    assert codes(plan, 'error') == ['src-missing'] and contract.check_schema(plan) == []


@pytest.mark.parametrize('files, config', [
    ({}, None),
    ({'gunicorn.conf.py': 'workers = 3\n'}, 'gunicorn.conf.py'),
    ({'Procfile': 'web: gunicorn -c config/gunicorn.py wsgi:application\n', 'config/gunicorn.py': 'x = 1\n'},
     'config/gunicorn.py'),
])
def test_a_gunicorn_config_is_asked_about_on_the_host_and_its_ports_kept_meanwhile(rules, tmp_path, files, config):
    plan = plan_of(rules, write_tree(tmp_path / 'shop', dict(FLASK, **files)), web_port=8100)
    web = plan['web']
    assert web['config'] == config and web['bind'] == ('ask' if config else 'unix')
    # until gunicorn answers, its ports are its own (it may listen on them), and the slots are the socket's
    assert web['listens'] is bool(config) and web['slots'][1]['upstream'] == 'unix:/run/pyfleet-shop/web-8101.sock'
    ask = plan['build']['ask_gunicorn']
    assert (ask['app'], ask['config'], ask['load']) == ('wsgi:application', config, True)
    assert 'WSGIApplication' in ask['script']


def test_gunicorn_cmd_args_in_the_environment_is_a_config_too(rules, tmp_path):
    plan = plan_of(rules, write_tree(tmp_path / 'shop', FLASK), env={'GUNICORN_CMD_ARGS': '--reuse-port'})
    assert plan['web']['bind'] == 'ask'


@pytest.mark.parametrize('answer, bind, own, stop', [
    ({'reuse_port': True, 'set': ['reuse_port', 'bind'], 'bind': ['[::]:8100']}, 'tcp', [], None),
    ({'reuse_port': False, 'set': ['timeout', 'graceful_timeout'], 'graceful_timeout': 45}, 'unix',
     ['graceful_timeout', 'timeout'], 45),
    ({'reuse_port': False, 'set': []}, 'unix', [], None),
])
def test_gunicorns_answer_settles_the_web_instances(rules, tmp_path, answer, bind, own, stop):
    plan = plan_of(rules, write_tree(tmp_path / 'shop', dict(FLASK, **{'gunicorn.conf.py': 'x = 1\n'})), web_port=8100)
    settled = contract.on_port(plan, 0, answer)
    web = settled['web']
    assert web['bind'] == bind and web['gunicorn']['own'] == own and web['gunicorn']['graceful_timeout'] == stop
    assert web['listens'] is (bind == 'tcp')
    slot = web['slots'][1]
    if bind == 'tcp':
        assert (slot['upstream'], slot['url'], slot['socket']) == ('127.0.0.1:8101', 'http://127.0.0.1:8101', None)
        assert [n['code'] for n in web['gunicorn']['notes']] == ['gunicorn-reuse-port', 'gunicorn-bind-ignored']
    else:
        assert slot['upstream'] == 'unix:/run/pyfleet-shop/web-8101.sock'
    assert plan['web']['bind'] == 'ask'                 # the plan itself is left as it was
    assert contract.on_port(settled, 0, answer) is settled  # and settling again changes nothing


def test_inputs_that_cannot_work_are_errors_that_name_them(rules, tmp_path):
    src = write_tree(tmp_path / 'shop', FLASK)
    for kw, said in ((dict(web_port=80), 'pyfleet_web_port is 80'), (dict(web_port=22), 'pyfleet_web_port is 22'),
                     (dict(web_port=65535), 'pyfleet_web_port is 65535'), (dict(keep=0), 'pyfleet_keep is 0'),
                     (dict(step_timeout=0), 'pyfleet_step_timeout is 0')):
        plan = plan_of(rules, src, **kw)
        assert codes(plan, 'error') == ['input-invalid'], kw
        assert plan['errors'][0]['message'].startswith(said)
    assert plan_of(rules, src, web_port=1024, keep=1, step_timeout=1)['ok']
    assert plan_of(rules, src, web_port=65534)['ok']


def test_a_host_puts_the_web_instances_on_its_own_pair(rules):
    plan = plan_of(rules, os.path.join(ROOT, 'examples', 'leanengine'))
    assert plan['web']['port'] == 8000 and plan['web']['port_auto'] is True
    moved = contract.on_port(plan, 8002)
    assert [s['port'] for s in moved['web']['slots']] == [8002, 8003]
    assert moved['web']['upstream'] == '127.0.0.1:8002'
    assert moved['units']['web'] == ['pyfleet-leanengine-web@8002.service', 'pyfleet-leanengine-web@8003.service']
    assert moved['units']['instances'][:2] == moved['units']['web']
    # the plan itself is left as it was; 0, or the same port, is the plan
    assert plan['web']['port'] == 8000 and contract.on_port(plan, 0) is plan and contract.on_port(plan, 8000) is plan
    assert plan_of(rules, os.path.join(ROOT, 'examples', 'leanengine'), web_port=8300)['web']['port_auto'] is False


def _collection(tmp_path):
    for rel, text in {'galaxy.yml': 'version: 1\n', 'roles/r/tasks/main.yml': '---\n',
                      'plugins/modules/m.py': 'x = 1\n'}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path)


def test_a_fingerprint_covers_the_values_in_any_order_and_the_collections_own_files(tmp_path):
    root = _collection(tmp_path)
    one = contract.fingerprint({'plan': {'a': 1, 'b': [1, 2]}, 'release': 'r1'}, root)
    assert len(one) == 64
    assert contract.fingerprint({'release': 'r1', 'plan': {'b': [1, 2], 'a': 1}}, root) == one
    assert contract.fingerprint({'plan': {'a': 1, 'b': [2, 1]}, 'release': 'r1'}, root) != one
    assert contract.fingerprint({'plan': {'a': 1, 'b': [1, 2]}, 'release': 'r2'}, root) != one
    # a cache beside the collection's files changes nothing; a template or a module does
    (tmp_path / 'plugins' / 'modules' / '__pycache__').mkdir()
    (tmp_path / 'plugins' / 'modules' / '__pycache__' / 'm.cpython-311.pyc').write_bytes(b'\0')
    (tmp_path / 'README.md').write_text('words\n')
    assert contract.fingerprint({'plan': {'a': 1, 'b': [1, 2]}, 'release': 'r1'}, root) == one
    (tmp_path / 'roles' / 'r' / 'templates').mkdir()
    (tmp_path / 'roles' / 'r' / 'templates' / 'unit.j2').write_text('[Service]\n')
    assert contract.fingerprint({'plan': {'a': 1, 'b': [1, 2]}, 'release': 'r1'}, root) != one


def test_role_inputs_are_the_options_less_what_the_tasks_publish(tmp_path):
    for rel, text in {
            'roles/r/meta/argument_specs.yml': 'argument_specs:\n  main:\n    options:\n      r_port: {type: int}\n'
                                               '      r_dir: {type: path}\n  cleanup:\n    options:\n'
                                               '      r_keep: {type: int}\n',
            'roles/r/defaults/main.yml': 'r_port: 80\nr_conf: "/etc/{{ r_port }}"\n',
            'roles/r/tasks/main.yml': '- name: Publish\n  ansible.builtin.set_fact:\n    r_dir: /srv\n    cacheable: false\n',
            'roles/r/handlers/main.yml': '- name: Run\n  block:\n    - name: Inner\n      ansible.builtin.command: true\n'
                                         '      register: r_keep\n',
            'roles/r/tests/test.yml': '- name: Not read\n  ansible.builtin.set_fact: {r_port: 1}\n'}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert contract.role_inputs(str(tmp_path)) == ['r_port']
    assert contract.role_defaults(str(tmp_path)) == {'r_port': 80, 'r_conf': '/etc/{{ r_port }}'}


def test_role_inputs_are_kept_until_a_file_changes(tmp_path, monkeypatch):
    spec = tmp_path / 'roles/r/meta/argument_specs.yml'
    spec.parent.mkdir(parents=True)
    spec.write_text('argument_specs:\n  main:\n    options:\n      r_port: {type: int}\n')
    cache = tmp_path / 'cache'
    assert contract.role_inputs_cached(str(tmp_path), str(cache)) == ['r_port']
    # read from the cache while the files are as they were: the walk does not parse them again
    parsed = []
    monkeypatch.setattr(contract, 'role_inputs', lambda root: parsed.append(root) or ['parsed'])
    assert contract.role_inputs_cached(str(tmp_path), str(cache)) == ['r_port'] and not parsed
    # a file that changed (another size or time) is read again, and the old entry goes
    spec.write_text('argument_specs:\n  main:\n    options:\n      r_port: {type: int}\n      r_dir: {type: path}\n')
    assert contract.role_inputs_cached(str(tmp_path), str(cache)) == ['parsed'] and parsed
    assert len(os.listdir(str(cache))) == 1
    # a cache that cannot be written is left aside
    assert contract.role_inputs_cached(str(tmp_path), str(spec)) == ['parsed']


def test_the_collections_role_inputs_leave_out_its_published_results():
    inputs = contract.role_inputs(ROOT)
    assert {'app_switch_health_timeout', 'nginx_site_server_names', 'pyenv_root'} <= set(inputs)
    # facts a deploy of another app in the same run leaves behind
    assert not {'app_release_dir', 'app_switch_check', 'app_venv_built', 'pyenv_installed', 'app_plan_result'} & set(inputs)


@pytest.mark.parametrize('text,env', [
    ('A=1\nB=two words\n', {'A': '1', 'B': 'two words'}),
    ('# a comment\n\nexport DEBUG=0\n  GREETING="hello, you"  \n', {'DEBUG': '0', 'GREETING': 'hello, you'}),
    ("Q='x=y'\nEMPTY=\n", {'Q': 'x=y', 'EMPTY': ''}),
    ('', {}),
    ({'A': 1}, {'A': 1}),
])
def test_an_environment_given_as_lines(text, env):
    assert contract.env_text(text) == env


def test_a_line_that_is_not_name_value_is_named():
    with pytest.raises(ValueError, match=r"pyfleet_secrets, line 2: 'not a variable' is not NAME=value"):
        contract.env_text('A=1\nnot a variable\n', 'pyfleet_secrets')


def test_the_run_line_runs_the_apps_code_as_its_processes_run():
    spec = {'user': 'shop', 'env_file': '/etc/pyfleet/shop/env', 'state_dir': 'pyfleet/shop',
            'django_settings': 'mysite.settings', 'sandbox': {'ProtectSystem': 'strict', 'NoNewPrivileges': 'yes'}}
    argv = contract.run_line(spec, 'pyfleet-shop-build.service', '/srv/shop/venvs/k')
    assert argv == ['systemd-run', '--quiet', '--wait', '--pipe', '--collect', '--service-type=exec',
                    '--unit=pyfleet-shop-build.service', '--uid=shop', '--gid=shop',
                    '--property=EnvironmentFile=/etc/pyfleet/shop/env', '--setenv=HOME=/var/lib/pyfleet/shop',
                    '--property=StateDirectory=pyfleet/shop', '--property=StateDirectoryMode=0700',
                    '--setenv=PATH=/srv/shop/venvs/k/bin:/usr/local/bin:/usr/bin:/bin',
                    '--setenv=DJANGO_SETTINGS_MODULE=mysite.settings', '--property=ProtectSystem=strict',
                    '--property=NoNewPrivileges=yes']
    # a one-off: where it starts, and what it may write (a path that does not exist is skipped)
    argv = contract.run_line(dict(spec, django_settings=''), 'pyfleet-shop-run-1.service', '/srv/shop/current/.venv',
                             workdir='/srv/shop/current/.', writable=['/srv/shop/shared', '/data'])
    assert argv[-4:] == ['--property=ProtectSystem=strict', '--property=NoNewPrivileges=yes',
                         '--property=ReadWritePaths=-/srv/shop/shared -/data', '--working-directory=/srv/shop/current/.']
    assert '--setenv=DJANGO_SETTINGS_MODULE=' in argv
    # in the app's slice, under its limits
    argv = contract.run_line(dict(spec, slice='pyfleet-shop.slice'), 'pyfleet-shop-build.service', '/v')
    assert '--slice=pyfleet-shop.slice' in argv and argv.index('--slice=pyfleet-shop.slice') < argv.index('--property=ProtectSystem=strict')


GOOD_INPUTS = {'slice': {'memory_max': '', 'cpu_quota': '', 'tasks_max': 1024}, 'tls': '', 'jobs_host': 'web-1',
               'artifacts_url': '', 'artifacts_url_auth': {}}


@pytest.mark.parametrize('change, batches, names, lb, said', [
    ({}, [['web-1'], ['web-2']], [], False, []),
    ({'tls': 'acme'}, [['web-1']], ['shop.example.com', 'www.shop.example.com'], True, []),
    ({'artifacts_url': 'https://store.example.com/p/', 'artifacts_url_auth': {'username': 'u', 'password': 'p'}},
     [['web-1']], [], False, []),
    ({'slice': {'memory_max': 'lots'}}, [['web-1']], [], False, ["pyfleet: the app's limits are not systemd's"]),
    ({}, "pyfleet_batch is 'some': ...", [], False, ["pyfleet_batch is 'some': ..."]),
    ({'tls': 'yes'}, [['web-1']], [], False, ['pyfleet_tls is "yes"; say "acme"']),
    ({'tls': 'acme'}, [['web-1']], [], True, ["pyfleet_tls: acme needs the site's DNS names, each pointing at the lb "
                                               'hosts: set nginx_site_server_names, e.g. ["shop.example.com"] (it is ["_"]).']),
    ({'tls': 'acme'}, [['web-1']], ['localhost'], False, ['each pointing at the app host', 'it is ["localhost"]']),
    ({'jobs_host': 'web-9'}, [['web-1']], [], False, ['pyfleet_jobs_host is web-9, which is not an app host of the '
                                                      'inventory; name one of web-1, web-2.']),
    ({'artifacts_url': 'ftp://s/'}, [['web-1']], [], False, ['pyfleet_artifacts_url is "ftp://s/" and '
                                                             'pyfleet_artifacts_url_auth has []']),
    ({'artifacts_url_auth': {'password': 'x'}}, [['web-1']], [], False, ['pyfleet_artifacts_url_auth has ["password"]']),
    ({'artifacts_url_auth': 'u:p'}, [['web-1']], [], False, ['pyfleet_artifacts_url_auth has no mapping']),
])
def test_input_problems_say_each_input_that_cannot_work(change, batches, names, lb, said):
    out = contract.input_problems(dict(GOOD_INPUTS, **change), batches, names, ['web-1', 'web-2'], lb)
    assert len(out) == (1 if said else 0), out
    for part in said:
        assert part in out[0], out


def test_input_problems_are_said_all_at_once():
    out = contract.input_problems(dict(GOOD_INPUTS, tls='yes', jobs_host='web-9'), 'bad batch', [], ['web-1'])
    assert [o[:18] for o in out] == ['bad batch', 'pyfleet_tls is "ye', 'pyfleet_jobs_host ']
