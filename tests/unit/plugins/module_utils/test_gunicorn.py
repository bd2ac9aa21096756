"""module_utils/gunicorn.py: gunicorn itself says what an app's config sets (a real gunicorn runs the script)."""

import os
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import gunicorn

APP = 'def application(environ, start_response):\n    start_response("200 OK", [])\n    return [b"ok"]\n'

# Heroku's getting-started app sets reuse_port in a branch, which no reading of the text can tell
HEROKU = textwrap.dedent('''\
    import os
    bind = ["[::]:" + os.environ.get("PORT", "5006")]
    if os.environ.get("ENVIRONMENT") == "development":
        reload = True
    else:
        reuse_port = True
        timeout = 120
    ''')


def ask(tmp_path, conf=None, args=(), app='wsgi:application', load=True, env=None):
    (tmp_path / 'wsgi.py').write_text(APP)
    if conf is not None:
        (tmp_path / 'gunicorn.conf.py').write_text(conf)
    run_env = {k: v for k, v in os.environ.items() if k not in ('GUNICORN_CMD_ARGS', 'WEB_CONCURRENCY')}
    run_env.update(PORT='8100', **(env or {}))
    proc = subprocess.run([sys.executable, '-c', gunicorn.SCRIPT] + gunicorn.argv(load, str(tmp_path), list(args), app),
                          cwd=str(tmp_path), env=run_env, capture_output=True, text=True, timeout=60)
    return proc, gunicorn.read(proc.stdout)


@pytest.mark.parametrize('conf, env, args, reuse, timeout', [
    (None, {}, (), False, 30),
    (HEROKU, {}, (), True, 120),
    (HEROKU, {'ENVIRONMENT': 'development'}, (), False, 30),
    ('reuse_port = False\n', {}, ('--reuse-port',), True, 30),       # the command line wins over the file
    (None, {'GUNICORN_CMD_ARGS': '--reuse-port --timeout 7'}, (), True, 7),
    ('timeout = int(__import__("os").environ["PORT"]) // 100\n', {}, (), False, 81),
])
def test_gunicorn_says_what_the_config_sets(tmp_path, conf, env, args, reuse, timeout):
    proc, answer = ask(tmp_path, conf, args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert answer['reuse_port'] is reuse and answer['timeout'] == timeout and answer['app'] == 'wsgi:application'
    assert ('timeout' in answer['set']) is (timeout != 30)
    assert gunicorn.settle(answer)['bind'] == ('tcp' if reuse else 'unix')


def test_the_config_a_command_line_names_is_the_one_read(tmp_path):
    (tmp_path / 'conf').mkdir()
    (tmp_path / 'conf' / 'g.py').write_text('reuse_port = True\ngraceful_timeout = 44\n')
    proc, answer = ask(tmp_path, None, ('-c', 'conf/g.py'))
    assert proc.returncode == 0, proc.stderr
    settled = gunicorn.settle(answer, 'conf/g.py')
    assert settled['bind'] == 'tcp' and settled['own'] == ['graceful_timeout'] and settled['graceful_timeout'] == 44
    assert settled['notes'][0]['file'] == 'conf/g.py' and 'reuse_port' in settled['notes'][0]['message']


def test_an_app_gunicorn_cannot_import_fails_the_ask_and_says_why(tmp_path):
    proc, answer = ask(tmp_path, app='wsgi:nothing')
    assert proc.returncode != 0 and answer is None and "Failed to find attribute 'nothing'" in proc.stderr
    proc, answer = ask(tmp_path, app='wsgi:nothing', load=False)   # import_check off: only the config
    assert proc.returncode == 0 and answer['reuse_port'] is False


def test_a_config_that_raises_fails_the_ask(tmp_path):
    proc, answer = ask(tmp_path, 'import os\nworkers = int(os.environ["NOT_SET_ANYWHERE"])\n')
    assert proc.returncode != 0 and answer is None and 'NOT_SET_ANYWHERE' in proc.stderr


@pytest.mark.parametrize('stdout, answer', [
    ('', None),
    ('hello\npyfleet-gunicorn: {"reuse_port": true}\n', {'reuse_port': True}),
    ('pyfleet-gunicorn: {"a": 1}\npyfleet-gunicorn: {"a": 2}\nbye\n', {'a': 2}),
    ('pyfleet-gunicorn: not json\n', None),
    ('pyfleet-gunicorn: [1]\n', None),
])
def test_the_answer_is_the_last_marked_line(stdout, answer):
    assert gunicorn.read(stdout) == answer


def test_a_bind_of_the_apps_is_said_to_be_replaced():
    notes = gunicorn.settle({'reuse_port': False, 'set': ['bind'], 'bind': ['0.0.0.0:5000']}, 'gunicorn.conf.py')['notes']
    assert [n['code'] for n in notes] == ['gunicorn-bind-ignored'] and '0.0.0.0:5000' in notes[0]['message']
