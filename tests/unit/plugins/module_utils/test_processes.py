"""Processes and Django (module_utils/processes.py), through the plan. One fixture app per rule."""
import pytest

from helpers import codes, finding, FLASK_WSGI, with_files

# ---------------------------------------------------------------- processes
def test_procfile_processes(make_plan):
    plan = make_plan(with_files(Procfile='# processes\nweb: gunicorn hello:app --workers 3\n'
                                        'worker: python worker.py\nrelease: python manage.py migrate\n'
                                        'clock_2: python clock.py\n'))
    assert set(plan['processes']) == {'web', 'worker', 'clock_2'}
    assert plan['release']['command'] == 'python manage.py migrate'
    assert plan['web']['wsgi_app'] == 'hello:app' and plan['web']['gunicorn_args'] == ['--workers', '3']
    assert plan['processes']['worker']['mode'] == 'command'


def test_worker_only_app_is_fine(make_plan):
    plan = make_plan({'requirements.txt': '', 'Procfile': 'worker: python worker.py\n'})
    assert plan['ok'] and plan['web'] is None


@pytest.mark.parametrize('text,code,line', [
    ('web: gunicorn a:app\nweb: gunicorn b:app\n', 'procfile-duplicate', 2),
    ('web:\n', 'procfile-empty-command', 1),
    ('web:   \n', 'procfile-empty-command', 1),
    ('web gunicorn a:app\n', 'procfile-invalid-line', 1),
    ('web.1: gunicorn a:app\n', 'procfile-invalid-name', 1),
    ('my web: gunicorn a:app\n', 'procfile-invalid-line', 1),
    ('wéb: gunicorn a:app\n', 'procfile-invalid-name', 1),
    ('# nothing\n\n', 'procfile-empty', None),
])
def test_procfile_errors(make_plan, text, code, line):
    d = finding(make_plan(with_files(Procfile=text)), code)
    assert d['line'] == line and d['file'] == 'Procfile'


def test_procfile_crlf(make_plan):
    plan = make_plan(with_files(Procfile='web: gunicorn hello:app\r\nworker: python w.py\r\n'))
    assert plan['ok'] and plan['processes']['worker']['command'] == 'python w.py'


def test_gunicorn_bind_is_replaced(make_plan):
    plan = make_plan(with_files(Procfile='web: gunicorn hello:app --bind 0.0.0.0:$PORT\n'))
    assert 'gunicorn-bind-ignored' in codes(plan, 'note')
    assert plan['web']['dropped_args'] == ['--bind 0.0.0.0:$PORT']


def test_command_web_binds_port(make_plan):
    plan = make_plan({'requirements.txt': 'uvicorn==0.30.0\n', 'Procfile': 'web: uvicorn main:app --port $PORT\n'})
    assert plan['web']['mode'] == 'command' and 'gunicorn' not in plan['extra_packages']


def test_leanengine_run(make_plan):
    plan = make_plan({'requirements.txt': '', 'leanengine.yaml': 'run: python app.py\n', 'app.py': 'print(1)\n'})
    assert plan['platform'] == 'leanengine' and plan['web']['mode'] == 'command'
    assert plan['web']['command'] == 'python app.py' and plan['web']['source'] == 'leanengine.yaml'


def test_leanengine_invalid_yaml(make_plan):
    plan = make_plan({'requirements.txt': '', 'leanengine.yaml': 'run: [python app.py\n'})
    d = finding(plan, 'leanengine-yaml-invalid')
    assert d['line'] is not None


def test_procfile_wins_over_wsgi(make_plan):
    plan = make_plan(with_files(Procfile='web: gunicorn hello:app\n'))
    assert plan['web']['wsgi_app'] == 'hello:app'


def test_wsgi_py_without_application_falls_through_to_app_py(make_plan):
    plan = make_plan({'requirements.txt': '', 'wsgi.py': 'app = 1\n', 'app.py': 'from flask import Flask\napp = Flask(__name__)\n'})
    assert plan['web']['wsgi_app'] == 'app:app'


def test_wsgi_application_by_import(make_plan):
    plan = make_plan({'requirements.txt': '', 'wsgi.py': 'from myproj.main import app as application\n'})
    assert plan['web']['wsgi_app'] == 'wsgi:application'


def test_wsgi_syntax_error_has_line(make_plan):
    plan = make_plan({'requirements.txt': '', 'wsgi.py': 'import os\ndef broken(:\n'})
    d = finding(plan, 'python-syntax-error')
    assert d['line'] == 2 and d['file'] == 'wsgi.py'


def test_no_web_process_names_file_to_add(make_plan):
    plan = make_plan({'requirements.txt': 'flask==3.1.3\n', 'main.py': 'x = 1\n', 'wsgi.py': 'x = 1\n'})
    d = finding(plan, 'no-web-process')
    assert 'Procfile' in d['fix'] and 'wsgi.py defines no top-level "application"' in d['message']


# ---------------------------------------------------------------- Django
DJANGO = {
    'requirements.txt': 'Django==5.2.19\ngunicorn==27.0.1\n',
    'manage.py': "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n",
    'mysite/__init__.py': '',
    'mysite/settings.py': "WSGI_APPLICATION = 'mysite.wsgi.application'\nSTATIC_ROOT = 'staticfiles'\n",
    'mysite/wsgi.py': 'application = None\n',
}


def test_django_detected(make_plan):
    plan = make_plan(DJANGO)
    assert plan['ok'], plan['errors']
    assert plan['web']['wsgi_app'] == 'mysite.wsgi:application'
    dj = plan['django']
    assert dj['collectstatic'] and dj['migrate'] and dj['settings_module'] == 'mysite.settings'


@pytest.mark.parametrize('procfile, migrate, note', [
    (None, True, False),                                                          # no Procfile: pyfleet migrates
    ('web: gunicorn mysite.wsgi\n', False, True),                                # Heroku: opted out, said
    ('web: gunicorn mysite.wsgi\nrelease: python manage.py migrate\n', False, False),   # the release phase does it
])
def test_migrations_follow_the_platforms_convention(make_plan, procfile, migrate, note):
    files = dict(DJANGO, **({'Procfile': procfile} if procfile else {}))
    plan = make_plan(files)
    assert plan['ok'], plan['errors']
    assert plan['django']['migrate'] is migrate
    assert ('django-migrate-opted-out' in codes(plan, 'note')) is note
    if note:
        assert finding(plan, 'django-migrate-opted-out')['fix'] == \
            'Add "release: python manage.py migrate" to the Procfile to run them on each deploy.'


def test_django_in_subdirectory(make_plan):
    files = {('src/' + k if k != 'requirements.txt' else k): v for k, v in DJANGO.items()}
    plan = make_plan(files)
    assert plan['django']['chdir'] == 'src' and '--chdir src' in plan['web']['command']
    assert plan['web']['chdir'] == 'src'


def test_django_too_deep_is_not_found(make_plan):
    files = {('a/b/c/d/' + k if k != 'requirements.txt' else k): v for k, v in DJANGO.items()}
    plan = make_plan(dict(files, **{'wsgi.py': FLASK_WSGI}))
    assert plan['django'] is None


@pytest.mark.parametrize('env,planned', [
    ({}, True), ({'DISABLE_COLLECTSTATIC': '1'}, False), ({'DISABLE_COLLECTSTATIC': '0'}, True),
    ({'DISABLE_COLLECTSTATIC': ''}, True), ({'BUILD_DISABLE_COLLECTSTATIC': 'true'}, False),
    ({'DISABLE_COLLECTSTATIC': 'yes'}, False),
])
def test_collectstatic_switch(make_plan, env, planned):
    plan = make_plan(DJANGO, env=env)
    assert plan['django']['collectstatic'] is planned
    if not planned:
        assert plan['django']['collectstatic_skip_reason']


def test_migrations_can_be_disabled(make_plan):
    assert make_plan(DJANGO, migrations=False)['django']['migrate'] is False


def test_manage_py_without_django_requirement(make_plan):
    plan = make_plan(dict(DJANGO, **{'requirements.txt': 'gunicorn==27.0.1\n'}))
    assert plan['django'] is None and 'django-not-required' in codes(plan, 'warning')


def test_django_with_procfile(make_plan):
    plan = make_plan(dict(DJANGO, Procfile='web: gunicorn mysite.wsgi --log-file -\n'))
    assert plan['django']['collectstatic'] and plan['web']['wsgi_app'] == 'mysite.wsgi'


def test_gunicorn_missing_is_added(make_plan):
    plan = make_plan({'requirements.txt': 'flask==3.1.3\n', 'wsgi.py': FLASK_WSGI})
    assert plan['extra_packages'] == ['gunicorn'] and 'gunicorn-not-required' in codes(plan, 'warning')


NLTK_APP = {'requirements.txt': 'flask==3.1.3\ngunicorn==27.0.1\nnltk==3.9.1\n', 'wsgi.py': FLASK_WSGI}


@pytest.mark.parametrize('text, corpora, code', [
    ('punkt\nwordnet  stopwords # the usual\n\n', ['punkt', 'wordnet', 'stopwords'], None),
    ('# nothing yet\n', None, 'nltk-empty'),
    ('punkt\n../etc/passwd\n', None, 'nltk-invalid'),
])
def test_nltk_txt_is_read_as_heroku_reads_it(make_plan, text, corpora, code):
    plan = make_plan(dict(NLTK_APP, **{'nltk.txt': text}))
    assert plan['nltk'] == corpora
    assert codes(plan, 'error') == ([code] if code else [])


def test_nltk_txt_without_nltk_is_a_warning(make_plan):
    plan = make_plan(dict(NLTK_APP, **{'requirements.txt': 'flask==3.1.3\n', 'nltk.txt': 'punkt\n'}))
    assert plan['ok'] and plan['nltk'] is None and 'nltk-not-required' in codes(plan, 'warning')


# ---------------------------------------------------------------- Cloud Foundry's manifest.yml
CF_MANIFEST = '''---
applications:
  - name: python-sample-app
    memory: 256M
    command: python app.py
    buildpacks: [python_buildpack]
    env:
      DD_SERVICE: python-sample-app
      DD_API_KEY: ((DD_API_KEY))
'''


def test_cloud_foundry_manifest_command_is_the_web_process(make_plan):
    plan = make_plan({'requirements.txt': 'flask\n', 'manifest.yml': CF_MANIFEST,
                      'app.py': 'from flask import Flask\napp = Flask(__name__)\n'})
    assert plan['web']['command'] == 'python app.py' and plan['web']['mode'] == 'command'
    assert plan['web']['source'] == 'manifest.yml' and plan['web']['line'] == 5
    d = finding(plan, 'cf-manifest-env')
    assert 'DD_API_KEY, DD_SERVICE' in d['message'] and 'pyfleet_env' in d['fix'] and d['line'] == 7


def test_cloud_foundry_processes(make_plan):
    manifest = ('applications:\n- name: shop\n  processes:\n  - type: web\n    command: gunicorn shop.wsgi\n'
                '  - type: worker\n    command: celery -A shop worker\n  - type: clock\n')
    plan = make_plan({'requirements.txt': 'gunicorn\n', 'manifest.yml': manifest})
    assert plan['ok'], plan['errors']
    assert set(plan['processes']) == {'web', 'worker'}
    assert plan['web']['wsgi_app'] == 'shop.wsgi' and plan['web']['line'] == 4
    assert plan['processes']['worker']['command'] == 'celery -A shop worker'
    assert plan['processes']['worker']['source'] == 'manifest.yml' and plan['processes']['worker']['line'] == 6


def test_a_manifest_without_a_web_command_falls_through_to_the_app(make_plan):
    plan = make_plan(with_files(**{'manifest.yml': 'applications:\n- name: shop\n  memory: 128M\n'}))
    assert plan['ok'] and plan['web']['source'] == 'wsgi.py'


def test_a_manifest_that_is_not_cloud_foundrys_is_left_alone(make_plan):
    plan = make_plan(with_files(**{'manifest.yml': 'version: 2\nfiles: [a, b]\n'}))
    assert plan['ok'] and plan['web']['source'] == 'wsgi.py' and not [c for c in codes(plan) if c.startswith('cf-')]


@pytest.mark.parametrize('text,line', [
    ('applications:\n- name: x\n  command: [python, app.py\n', 3),
    ('applications:\n- name: x\n  command: ""\n', 3),
    ('applications:\n- name: x\n  processes:\n  - type: my web\n    command: a\n', 4),
])
def test_a_bad_manifest_is_an_error_with_its_line(make_plan, text, line):
    plan = make_plan(with_files(**{'manifest.yml': text}))
    d = finding(plan, 'cf-manifest-invalid')
    assert d['line'] == line and d['file'] == 'manifest.yml' and not plan['ok']


def test_the_procfile_wins_over_a_differing_manifest_with_a_warning(make_plan):
    plan = make_plan(with_files(**{'Procfile': 'web: gunicorn wsgi:application\n',
                                   'manifest.yml': 'applications:\n- name: x\n  command: python app.py\n'}))
    assert plan['ok'] and plan['web']['source'] == 'Procfile'
    d = finding(plan, 'cf-manifest-command-ignored')
    assert "'python app.py'" in d['message'] and d['file'] == 'Procfile' and d['line'] == 1


def test_several_applications_deploy_the_first(make_plan):
    manifest = 'applications:\n- name: one\n  command: gunicorn wsgi:application\n- name: two\n  command: python b.py\n'
    plan = make_plan(with_files(**{'manifest.yml': manifest}))
    assert plan['web']['command'] == 'gunicorn wsgi:application'
    assert 'one' in finding(plan, 'cf-manifest-several-apps')['message']


def test_the_tasks_warnings_name_the_file_and_line(rules, tmp_path):
    from helpers import CATALOGUE, INSTALLABLE, write_tree
    app = write_tree(tmp_path / 'app', with_files(**{'manifest.yml': CF_MANIFEST}))
    p = {k: v.get('default') for k, v in rules.ARGUMENT_SPEC.items()}
    p.update(src=app, catalogue_file=CATALOGUE, available_versions=list(INSTALLABLE), today='2026-11-22')
    res = rules.run_task(p)
    assert not res.get('failed'), res
    assert any(w.startswith('manifest.yml:7: [cf-manifest-env] ') and 'Fix: ' in w for w in res['warnings']), res['warnings']


@pytest.mark.parametrize('line,job,schedule', [
    ('cleanup: */15 1-5 * jan,jul mon-fri python manage.py clearsessions', 'python manage.py clearsessions',
     '*/15 1-5 * jan,jul mon-fri'),
    ('nightly: @daily ./bin/report --all', './bin/report --all', '@daily'),
])
def test_a_scheduled_line_not_named_cron_is_a_warning_and_never_a_unit(make_plan, line, job, schedule):
    plan = make_plan(with_files(Procfile='web: gunicorn hello:app\n%s\n' % line))
    d = finding(plan, 'procfile-schedule')
    assert d['severity'] == 'warning' and d['file'] == 'Procfile' and d['line'] == 2
    assert ('runs %r on the schedule "%s"' % (job, schedule)) in d['message']
    assert d['fix'].startswith('Name it cron_%s' % line.split(':')[0])
    assert plan['ok'] and set(plan['processes']) == {'web'} and plan['jobs'] == []


JOBS = [
    # Procfile line, job
    ('cron_hourly: 0 * * * * python job.py',
     {'name': 'cron_hourly', 'command': 'python job.py', 'schedule': '0 * * * *', 'calendar': ['*-*-* *:00:00']}),
    ('cron: */5   *  * * *  python manage.py send_mail --all',
     {'name': 'cron', 'command': 'python manage.py send_mail --all', 'schedule': '*/5 * * * *',
      'calendar': ['*-*-* *:00/5:00']}),
    ('cronreport: @weekly ./bin/report "a b"',
     {'name': 'cronreport', 'command': './bin/report "a b"', 'schedule': '@weekly', 'calendar': ['Sun *-*-* 00:00:00']}),
    ('CRON_X: 30 2 1,15 * mon echo hi',
     {'name': 'CRON_X', 'command': 'echo hi', 'schedule': '30 2 1,15 * mon',
      'calendar': ['Mon *-*-* 02:30:00', '*-*-01,15 02:30:00']}),
]


@pytest.mark.parametrize('line,job', JOBS, ids=[j[0] for j in JOBS])
def test_a_cron_procfile_line_is_a_scheduled_job_and_no_process(make_plan, line, job):
    plan = make_plan(with_files(Procfile='web: gunicorn hello:app\n%s\n' % line))
    assert plan['ok'], plan['errors']
    assert set(plan['processes']) == {'web'}
    assert plan['jobs'] == [dict(job, source='Procfile', line=2)]
    assert 'procfile-schedule' not in codes(plan)


@pytest.mark.parametrize('line,said', [
    ('cron_x: 61 * * * * python job.py', 'the minute field has 61, outside 0-59'),
    ('cron_x: 0 * * * python job.py', "the day of week field has 'python'"),
    ('cron_x: @reboot python job.py', '@reboot is not a schedule'),
    ('cron_x: */5 * * * *', 'it has no command after five schedule fields'),
    ('cron_x: 0 0 ? * * python job.py', 'which cron does not read'),
])
def test_a_malformed_schedule_is_an_error_naming_the_line(make_plan, line, said):
    plan = make_plan(with_files(Procfile='web: gunicorn hello:app\nworker: python w.py\n%s\n' % line))
    d = finding(plan, 'job-schedule-invalid')
    assert d['severity'] == 'error' and d['file'] == 'Procfile' and d['line'] == 3
    assert d['message'].startswith('Procfile line 3, cron_x: ') and said in d['message'], d['message']
    assert 'Write five fields' in d['fix'] or 'Procfile process' in d['fix']
    assert not plan['ok'] and plan['jobs'] == []


def test_a_cron_named_process_that_runs_no_schedule_is_a_process_as_on_heroku(make_plan):
    plan = make_plan(with_files(Procfile='web: gunicorn hello:app\ncron: python clock.py\n'))
    assert plan['ok'] and set(plan['processes']) == {'web', 'cron'} and plan['jobs'] == []


def test_a_command_whose_words_only_look_like_fields_is_a_process(make_plan):
    plan = make_plan(with_files(Procfile='web: gunicorn hello:app\nworker: python a b c d e\nclock: 5 4 3 2 1\n'))
    assert set(plan['processes']) == {'web', 'worker', 'clock'} and 'procfile-schedule' not in codes(plan)
