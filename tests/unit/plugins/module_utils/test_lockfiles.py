"""Pipenv and Poetry apps: their lock files read as the tools read them, and exported for pip."""
import json
import os
import shutil

import pytest

from helpers import INSTALLABLE, ROOT, codes, finding, newest


@pytest.fixture
def example(tmp_path):
    def _copy(name, **changes):
        dest = tmp_path / ('%s-%d' % (name, len(os.listdir(tmp_path))))
        shutil.copytree(os.path.join(ROOT, 'examples', name), dest)
        for rel, text in changes.items():
            rel = rel.replace('DOT', '.')
            if text is None:
                os.unlink(dest / rel)
            else:
                (dest / rel).write_text(text)
        return str(dest)
    return _copy


@pytest.fixture
def plan_of(rules, catalogue):
    def _plan(src, **kw):
        kw.setdefault('today', '2026-11-22')
        kw.setdefault('available', INSTALLABLE)
        return rules.build_plan(src, catalogue, **kw)
    return _plan


def _replace(src, rel, old, new):
    path = os.path.join(src, rel)
    with open(path) as fh:
        text = fh.read()
    assert old in text
    with open(path, 'w') as fh:
        fh.write(text.replace(old, new))


def _exported(plan):
    return {l.split('==')[0].split(' ')[0]: l for l in plan['requirements']['export'] if not l.startswith('--')}


# ---------------------------------------------------------------- Pipenv
def test_pipenv_app_installs_the_default_packages_with_their_hashes(example, plan_of):
    plan = plan_of(example('pipenv'))
    assert plan['ok'], plan['errors']
    assert plan['package_manager'] == 'pipenv'
    assert plan['requirements']['files'] == ['Pipfile', 'Pipfile.lock']
    assert plan['python']['source'] == 'Pipfile.lock' and plan['python']['minor'] == '3.11'
    exported = _exported(plan)
    assert 'pytest' not in exported and 'flask' in exported and 'gunicorn' in exported
    assert exported['flask'].startswith("flask==3.1.3 ; python_version >= '3.9' --hash=sha256:")
    assert plan['requirements']['export'][0] == '--index-url https://pypi.org/simple'
    assert 'gunicorn-not-required' not in codes(plan)


def test_pipenv_lock_out_of_step_with_the_pipfile(example, plan_of):
    src = example('pipenv')
    with open(os.path.join(src, 'Pipfile'), 'a') as fh:
        fh.write('\n[packages.requests]\nversion = "==2.32.3"\n')
    plan = plan_of(src)
    d = finding(plan, 'lock-out-of-sync')
    assert d['file'] == 'Pipfile.lock' and 'pipenv lock' in d['fix'] and not plan['ok']


def test_pipfile_without_its_lock(example, plan_of):
    d = finding(plan_of(example('pipenv', **{'PipfileDOTlock': None})), 'lock-missing')
    assert 'pipenv lock' in d['fix'] and d['file'] == 'Pipfile'


def test_pipfile_lock_that_is_not_json(example, plan_of):
    d = finding(plan_of(example('pipenv', **{'PipfileDOTlock': '{\n  "_meta": {\n  oops\n}\n'})), 'lock-invalid')
    assert d['line'] == 3 and 'pipenv lock' in d['fix']


@pytest.mark.parametrize('version,code', [('3.7', 'python-version-eol'), ('three', 'python-version-invalid'),
                                          ('3.11.2', None)])
def test_pipfile_lock_python_version_rules(example, plan_of, version, code):
    src = example('pipenv')
    path = os.path.join(src, 'Pipfile.lock')
    with open(path) as fh:
        lock = json.load(fh)
    lock['_meta']['requires'] = {'python_full_version': version}
    with open(path, 'w') as fh:
        json.dump(lock, fh, indent=4)
    plan = plan_of(src)    # the Pipfile no longer matches either: only the version finding matters here
    if code:
        d = finding(plan, code)
        assert d['file'] == 'Pipfile.lock' and d['line']
    else:
        assert plan['python']['version'] == '3.11.2' and plan['python']['source'] == 'Pipfile.lock'


def test_a_version_file_wins_over_pipfile_lock(example, plan_of):
    plan = plan_of(example('pipenv', **{'DOTpython-version': '3.13\n'}))
    assert plan['ok'] and plan['python']['source'] == '.python-version' and plan['python']['minor'] == '3.13'


# ---------------------------------------------------------------- Poetry
def test_poetry_app_installs_the_main_group_with_the_newest_python_requires_python_allows(example, plan_of,
                                                                                          catalogue):
    plan = plan_of(example('poetry'))
    assert plan['ok'], plan['errors']
    assert plan['package_manager'] == 'poetry'
    assert plan['requirements']['files'] == ['poetry.lock', 'pyproject.toml']
    assert plan['python']['version'] == newest('3.12')   # ">=3.11,<3.13"
    exported = _exported(plan)
    assert 'pytest' not in exported and 'packaging' not in exported
    assert exported['flask'].startswith('flask==3.1.3 --hash=sha256:')
    # on a mirror that holds 3.11.2 and 3.13.5, 3.11.2 is the newest that satisfies it
    assert plan_of(example('poetry'), available=['3.11.2', '3.13.5'])['python']['version'] == '3.11.2'


def test_poetry_lock_out_of_step_with_pyproject(example, plan_of):
    src = example('poetry')
    _replace(src, 'pyproject.toml', '"gunicorn==27.0.1"', '"gunicorn==27.0.1", "requests==2.32.3"')
    d = finding(plan_of(src), 'lock-out-of-sync')
    assert 'poetry lock' in d['fix'] and d['file'] == 'poetry.lock'


def test_old_or_broken_poetry_locks(example, plan_of):
    src = example('poetry')
    _replace(src, 'poetry.lock', 'lock-version = "2.1"', 'lock-version = "2.0"')
    assert 'lock-version 2.0' in finding(plan_of(src), 'lock-invalid')['message']
    with open(os.path.join(src, 'poetry.lock'), 'w') as fh:
        fh.write('[[package]]\nname = "x"\nversion = \n')
    d = finding(plan_of(src), 'lock-invalid')
    assert d['line'] == 3 and 'poetry lock' in d['fix']


def test_poetry_lock_without_its_pyproject(example, plan_of):
    d = finding(plan_of(example('poetry', **{'pyprojectDOTtoml': None})), 'lock-invalid')
    assert 'pyproject.toml' in d['message']


def test_poetry_python_constraints_as_pep440(lockfiles):
    locks = lockfiles
    assert locks.poetry_constraint_to_pep440('^3.12') == '>=3.12,<4.0'
    assert locks.poetry_constraint_to_pep440('~3.12') == '>=3.12,<3.13'
    assert locks.poetry_constraint_to_pep440('>=3.11,<3.14') == '>=3.11,<3.14'
    assert locks.poetry_constraint_to_pep440('3.12.*') == '==3.12.*'
    assert locks.poetry_constraint_to_pep440(None) is None


def test_a_git_dependency_turns_hash_checking_off(lockfiles):
    locks = lockfiles
    lock = {'_meta': {'hash': {'sha256': 'x'}, 'sources': []},
            'default': {'flask': {'version': '==3.1.3', 'hashes': ['sha256:aa']},
                        'mylib': {'git': 'https://example.com/mylib.git', 'ref': 'abc123'}}}
    out = locks.read_pipenv({'Pipfile.lock': json.dumps(lock)})
    assert out['lines'] == ['flask==3.1.3', 'mylib @ git+https://example.com/mylib.git@abc123']


def test_two_managers_are_still_an_error(example, plan_of):
    plan = plan_of(example('poetry', **{'requirementsDOTtxt': 'flask==3.1.3\n'}))
    assert 'multiple-package-managers' in codes(plan, 'error')
