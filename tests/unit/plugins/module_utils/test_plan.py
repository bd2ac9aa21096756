"""The conductor (module_utils/plan.py): detection, package managers, hygiene, links, the task. One fixture app per rule."""
import os

import pytest

from helpers import BASIC, INSTALLABLE, codes, finding, FLASK_WSGI, with_files

# ---------------------------------------------------------------- detection
def test_basic_flask_app_is_ok(make_plan):
    plan = make_plan(BASIC)
    assert plan['ok'], plan['errors']
    assert plan['is_python'] and plan['package_manager'] == 'pip'
    assert plan['web']['mode'] == 'gunicorn' and plan['web']['wsgi_app'] == 'wsgi:application'
    assert plan['python']['source'] == 'default'
    assert codes(plan, 'error') == []


def test_not_python_app_lists_contents_and_checklist(make_plan):
    plan = make_plan({'index.js': 'x', 'package.json': '{}', 'lib/': ''})
    d = finding(plan, 'not-python-app')
    assert 'index.js' in d['message'] and 'lib/' in d['message']
    for n in ('1.', '2.', '3.', '4.'):
        assert n in d['fix']
    assert not plan['is_python'] and not plan['ok']


def test_not_python_app_points_at_nested_app(make_plan):
    plan = make_plan({'README.md': 'x', 'backend/requirements.txt': 'flask==3.1.3\n'})
    d = finding(plan, 'not-python-app')
    assert 'backend/requirements.txt' in d['fix'] and 'pyfleet_src=' in d['fix']


def test_setup_py_alone_explains_requirements(make_plan):
    plan = make_plan({'setup.py': 'from setuptools import setup\nsetup()\n'})
    d = finding(plan, 'not-python-app')
    assert 'setup.py alone' in d['fix'] and '-e .' in d['fix']


def test_empty_requirements_means_no_dependencies(make_plan):
    plan = make_plan({'requirements.txt': '', 'app.py': 'app = object()\n'})
    assert plan['ok'], plan['errors']
    assert plan['requirements']['requirements'] == []
    assert plan['extra_packages'] == ['gunicorn']


def test_missing_src(rules, catalogue, tmp_path):
    plan = rules.build_plan(str(tmp_path / 'nope'), catalogue)
    assert codes(plan) == ['src-missing']


def test_no_src_says_how_to_pass_it(rules, catalogue):
    plan = rules.build_plan('', catalogue)
    assert codes(plan) == ['src-missing'] and '-e pyfleet_src=' in plan['errors'][0]['fix']


# ---------------------------------------------------------------- package managers
def test_uv_app(make_plan):
    plan = make_plan({'uv.lock': 'version = 1\n', 'pyproject.toml': '[project]\nname="x"\nversion="1"\n'
                      'dependencies=["django==5.2.19"]\n', 'manage.py': 'x', 'wsgi.py': FLASK_WSGI})
    assert plan['package_manager'] == 'uv'
    assert plan['django'] is not None


def test_uv_lock_without_pyproject(make_plan):
    plan = make_plan({'uv.lock': 'version = 1\n', 'wsgi.py': FLASK_WSGI})
    assert 'uv-lock-without-pyproject' in codes(plan, 'error')


def test_multiple_package_managers_named(make_plan):
    plan = make_plan(with_files(**{'uv.lock': '', 'pyproject.toml': '[project]\nname="x"\n', 'Pipfile': ''}))
    d = finding(plan, 'multiple-package-managers')
    assert 'requirements.txt' in d['message'] and 'uv.lock' in d['message'] and 'Pipfile' in d['message']


def test_requirements_with_setup_py_is_fine(make_plan):
    plan = make_plan(with_files(**{'setup.py': 'x'}))
    assert plan['ok']


def test_invalid_pyproject(make_plan):
    plan = make_plan({'uv.lock': '', 'pyproject.toml': '[project\nname=', 'wsgi.py': FLASK_WSGI})
    assert 'pyproject-invalid' in codes(plan, 'error')


# ---------------------------------------------------------------- hygiene
@pytest.mark.parametrize('venv', ['venv', '.venv', 'env'])
def test_committed_virtualenv(make_plan, venv):
    plan = make_plan(with_files(**{venv + '/pyvenv.cfg': 'home = /usr/bin\n'}))
    d = finding(plan, 'committed-virtualenv')
    assert 'git rm -r --cached' in d['fix'] and venv in d['fix']


def test_ship_exclude_includes_ignore_files(make_plan):
    plan = make_plan(with_files(**{'.slugignore': '# big\n*.psd\ndocs/\n', '.leanignore': 'node_modules\n'}))
    ex = plan['ship_exclude']
    for pat in ('.git', '__pycache__', '*.pyc', '*.psd', 'docs/', 'node_modules'):
        assert pat in ex


def test_report_formatting(rules, make_plan):
    plan = make_plan(with_files(Procfile='web:\n'))
    text = rules.format_report(plan['errors'] + plan['warnings'])
    assert text.startswith('Procfile:1: error [procfile-empty-command]') and 'fix:' in text


def test_walk_does_not_read_unrelated_files(rules, catalogue, tmp_path, monkeypatch):
    from helpers import write_tree
    files = dict(BASIC)
    files.update({'data/blob%d.bin' % i: 'x' for i in range(50)})
    app = write_tree(tmp_path / 'app', files)
    opened = []
    real_open = open

    def spy(path, *a, **kw):
        opened.append(os.path.basename(str(path)))
        return real_open(path, *a, **kw)
    import builtins
    monkeypatch.setattr(builtins, 'open', spy)
    plan = rules.build_plan(app, catalogue, today='2026-11-22', available=INSTALLABLE)
    monkeypatch.undo()
    assert plan['ok']
    assert opened and not [n for n in opened if n.startswith('blob')]


# ---------------------------------------------------------------- links out of the tree
def test_links_out_of_the_app_are_refused_with_the_target_and_the_fix(rules, catalogue, tmp_path):
    from helpers import write_tree
    other = write_tree(tmp_path / 'etc-pyfleet-other', {'env': 'SECRET=1\n'})
    files = dict(BASIC)
    files.update({'static/logo.png': 'png', 'assets/site.css': 'css'})
    app = write_tree(tmp_path / 'app', files)
    os.symlink('/etc/shadow', os.path.join(app, 'static', 'shadow.txt'))
    os.symlink(os.path.join(other, 'env'), os.path.join(app, 'static', 'other-env.txt'))
    os.symlink('../assets/site.css', os.path.join(app, 'static', 'site.css'))   # inside: fine
    os.makedirs(os.path.join(app, '.venv', 'bin'))
    os.symlink('/usr/bin/python3', os.path.join(app, '.venv', 'bin', 'python'))  # a local .venv is never shipped
    plan = rules.build_plan(app, catalogue, today='2026-11-22', available=INSTALLABLE)
    bad = [d for d in plan['errors'] if d['code'] == 'symlink-outside']
    assert sorted(d['file'] for d in bad) == ['static/other-env.txt', 'static/shadow.txt']
    shadow = [d for d in bad if d['file'] == 'static/shadow.txt'][0]
    assert 'static/shadow.txt is a link to /etc/shadow, outside the app source' in shadow['message']
    assert 'Copy the file into the app' in shadow['fix'] and 'remove the link' in shadow['fix']
    assert not plan['ok']
    # excluded links are not shipped, so they are no problem
    with open(os.path.join(app, '.slugignore'), 'w') as fh:
        fh.write('static/\n')
    assert rules.build_plan(app, catalogue, today='2026-11-22', available=INSTALLABLE)['ok']
