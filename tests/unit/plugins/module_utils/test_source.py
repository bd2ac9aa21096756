"""Platform files' names and misspellings (module_utils/source.py). One fixture app per rule."""
import pytest

from helpers import codes, finding, FLASK_WSGI, with_files

# ---------------------------------------------------------------- misspellings
@pytest.mark.parametrize('wrong,right', [
    ('.python_version', '.python-version'), ('python-version.txt', '.python-version'),
    ('runtime.text', 'runtime.txt'), ('requirement.txt', 'requirements.txt'),
    ('requirments.txt', 'requirements.txt'), ('Requirements.txt', 'requirements.txt'),
    ('procfile', 'Procfile'), ('Procfile.txt', 'Procfile'), ('.python-versions', '.python-version'),
    ('leanengine.yml', 'leanengine.yaml'), ('runtime.yml', 'runtime.txt'),
])
def test_misspelled_files(make_plan, wrong, right):
    files = {'wsgi.py': FLASK_WSGI, wrong: 'x\n'}
    if right != 'requirements.txt':
        files['requirements.txt'] = 'flask==3.1.3\ngunicorn==27.0.1\n'
    plan = make_plan(files)
    d = finding(plan, 'misspelled-file')
    assert right in d['message'] and 'git mv' in d['fix'] and right in d['fix']


@pytest.mark.parametrize('name', ['requirements-dev.txt', 'requirements.in', 'requirements_test.txt',
                                  'Procfile.dev', 'runtime.py', 'setup.cfg', 'README.md', 'python_version.py'])
def test_legitimate_names_are_not_misspellings(make_plan, name):
    plan = make_plan(with_files(**{name: 'x\n'}))
    assert 'misspelled-file' not in codes(plan) and 'misspelled-file-ignored' not in codes(plan)


def test_requirements_directory_is_not_a_misspelling(make_plan):
    plan = make_plan(with_files(**{'requirements/base.txt': 'flask==3.1.3\n'}))
    assert plan['ok']


@pytest.mark.parametrize('copy,real,content', [
    ('requirments.txt', 'requirements.txt', 'flask\n'),
    ('.python-version ', '.python-version', '3.12\n'),
    ('Runtime.txt', 'runtime.txt', 'python-3.12.13\n'),
])
def test_misspelling_beside_real_file_is_an_error_as_on_heroku(make_plan, copy, real, content):
    files = with_files(**{real: content})
    files[copy] = content
    plan = make_plan(files)
    d = finding(plan, 'misspelled-file-ignored')
    assert d['severity'] == 'error' and not plan['ok'] and d['file'] == copy
    assert real in d['message'] and 'git rm' in d['fix']
