"""The Python version by Heroku's rules, and what can be installed (module_utils/python_version.py). One fixture app per rule."""
import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import python_version
from helpers import BASIC, codes, finding, FLASK_WSGI, newest, with_files

# ---------------------------------------------------------------- Python version
def test_runtime_txt_patch(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.12.13\n'}))
    assert plan['python']['version'] == '3.12.13' and plan['python']['source'] == 'runtime.txt'


def test_runtime_txt_minor_resolves_to_newest_patch(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.13'}))
    assert plan['python']['version'] == newest('3.13') == '3.13.16'


@pytest.mark.parametrize('content', ['3.12\n', '3.12', '  3.12  \r\n', '# pinned for prod\n3.12\n', '\n\n3.12\n\n',
                                     '\t3.12\t\n# 3.11 was before\n  # indented comment\n'])
def test_python_version_file_forms(make_plan, content):
    plan = make_plan(with_files(**{'.python-version': content}))
    assert plan['ok'], plan['errors']
    assert plan['python']['minor'] == '3.12' and plan['python']['source'] == '.python-version'


@pytest.mark.parametrize('content', ['# Heroku reads comments here too\npython-3.12.13\n', '\n  python-3.12.13\n\n# end\n'])
def test_runtime_txt_comments_and_blank_lines(make_plan, content):
    plan = make_plan(with_files(**{'runtime.txt': content}))
    assert plan['ok'], plan['errors']
    assert plan['python']['version'] == '3.12.13' and plan['python']['source_line'] == 2


@pytest.mark.parametrize('name,content,named', [
    ('.python-version', '3.12\u200b\n', 'U+200B ZERO WIDTH SPACE (column 5)'),
    ('.python-version', '3.\u00a012\n', 'U+00A0 NO-BREAK SPACE (column 3)'),
    ('.python-version', '\x1b[0m3.12\n', 'U+001B ESCAPE (column 1)'),
    ('runtime.txt', 'python-3.12.13\ufeff\n', 'U+FEFF ZERO WIDTH NO-BREAK SPACE (column 15)'),
])
def test_invisible_characters_are_named(make_plan, name, content, named):
    plan = make_plan(with_files(**{name: content}))
    d = finding(plan, 'python-version-invalid')
    assert named in d['message'] and 'Retype the line' in d['fix'] and d['line'] == 1
    assert 'python-version-multiple' not in codes(plan)


def test_a_comment_after_the_version_is_invalid_as_on_heroku(make_plan):
    d = finding(make_plan(with_files(**{'.python-version': '3.12 # lts\n'})), 'python-version-invalid')
    assert 'comment after the version' in d['message'] and 'line of its own' in d['fix'] and '"3.12"' in d['fix']


@pytest.mark.parametrize('content', ['3.012\n', '03.12\n', '3.12.01\n'])
def test_leading_zeros_are_invalid(make_plan, content):
    assert 'python-version-invalid' in codes(make_plan(with_files(**{'.python-version': content})), 'error')


def test_runtime_txt_crlf_and_spaces(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': '  python-3.12.13 \r\n'}))
    assert plan['python']['version'] == '3.12.13'


def test_python_version_file_line_is_reported(make_plan):
    plan = make_plan(with_files(**{'.python-version': '# comment\n3.12\n'}))
    assert plan['python']['source_line'] == 2


def test_utf8_bom_is_error_with_resave_fix(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': b'\xef\xbb\xbfpython-3.12.13\n'}))
    d = finding(plan, 'file-encoding')
    assert 'BOM' in d['message'] and 'UTF-8' in d['fix'] and d['file'] == 'runtime.txt'


def test_utf16_is_error(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.12\n'.encode('utf-16')}))
    d = finding(plan, 'file-encoding')
    assert 'UTF-16' in d['message'] and 'iconv' in d['fix']


def test_bom_in_requirements_is_error(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': b'\xef\xbb\xbfflask==3.1.3\n'}))
    assert 'file-encoding' in codes(plan, 'error')


def test_several_versions_in_one_file(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.12\n# a comment\n3.11\n'}))
    d = finding(plan, 'python-version-multiple')
    assert d['line'] == 3 and '3.12, 3.11' in d['message'] and 'lines 1, 3' in d['message']


def test_several_versions_on_one_line(make_plan):
    assert 'python-version-multiple' in codes(make_plan(with_files(**{'.python-version': '3.12 3.11\n'})))


@pytest.mark.parametrize('name,content', [
    ('runtime.txt', 'pypy3.10-7.3.16'), ('runtime.txt', 'python-pypy3.10'), ('.python-version', 'pypy3.10'),
    ('.python-version', 'jython-2.7.2'), ('.python-version', 'ironpython-3.4.1'),
    ('.python-version', 'anaconda3-2024.02-1'), ('.python-version', 'graalpy-24.1.0'),
    ('.python-version', 'miniconda3-latest'),
])
def test_non_cpython_is_refused(make_plan, name, content):
    plan = make_plan(with_files(**{name: content + '\n'}))
    d = finding(plan, 'python-not-cpython')
    assert 'CPython only' in d['fix'] and d['file'] == name


@pytest.mark.parametrize('name,content,fix_part', [
    ('runtime.txt', '3.12.13', 'python-3.12.13'),
    ('runtime.txt', 'python3.12', 'python-X.Y'),
    ('.python-version', 'python-3.12', 'Write "3.12"'),
    ('.python-version', 'system', 'system'),
    ('.python-version', '3', 'minor'),
    ('.python-version', '3.12-dev', 'X.Y'),
    ('.python-version', '', 'Write one version'),
])
def test_invalid_version_files(make_plan, name, content, fix_part):
    plan = make_plan(with_files(**{name: content}))
    errs = [d for d in plan['errors'] if d['code'] == 'python-version-invalid']
    assert errs and (fix_part in errs[0]['fix'] or fix_part in errs[0]['message'])


def test_conflicting_version_files_name_both(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.12.13\n', '.python-version': '3.13\n'}))
    d = finding(plan, 'python-version-conflict')
    assert 'runtime.txt' in d['message'] and '.python-version' in d['message']
    assert plan['python'] is None


def test_agreeing_version_files(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.12.13\n', '.python-version': '3.12.13\n'}))
    assert plan['ok'] and 'runtime-txt-deprecated' in codes(plan, 'note')
    assert plan['python']['source'] == 'runtime.txt'


def test_unknown_version_lists_supported(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.99.1\n'}))
    d = finding(plan, 'python-version-unknown')
    assert '3.14' in d['fix'] and '3.12' in d['fix'] and '3.9' not in d['fix']


@pytest.mark.parametrize('spec', ['python-2.7.18', 'python-3.6.15', 'python-3.9', 'python-3.10.20'])
def test_eol_is_error(make_plan, spec):
    plan = make_plan(with_files(**{'runtime.txt': spec}))
    d = finding(plan, 'python-version-eol')
    assert 'app_plan_allow_eol' in d['fix']


def test_eol_allowed_by_operator_is_warning(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-2.7.18'}), allow_eol=True)
    assert plan['ok'], plan['errors']
    assert plan['python']['version'] == '2.7.18'
    assert 'python-version-eol-allowed' in codes(plan, 'warning')


def test_eol_decided_by_date_not_only_status(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.11.15'}), today='2027-11-01')
    assert 'python-version-eol' in codes(plan, 'error')


def test_near_eol_warning_has_date(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.11.15'}), today='2027-06-01')
    d = finding(plan, 'python-version-near-eol')
    assert '2027-10-31' in d['message'] and plan['ok']


def test_outdated_patch_names_newer(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.12.13'}))
    d = finding(plan, 'python-version-outdated')
    assert newest('3.12') in d['message'] and plan['ok']


def test_a_patch_newer_than_any_known_is_an_error_not_a_guess(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.13.99'}))
    d = finding(plan, 'python-version-not-installable')
    assert d['severity'] == 'error' and '3.13.16' in d['message'] and not plan['ok']


def test_an_exact_pin_is_taken_as_it_is_when_nothing_says_what_can_be_installed(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.13.99'}), available=None)
    assert plan['ok'] and plan['python']['version'] == '3.13.99'
    plan = make_plan(with_files(**{'.python-version': '3.13'}), available=None)
    d = finding(plan, 'python-version-unresolvable')
    assert 'Pin "3.13.N"' in d['fix'] and 'app_plan_pyenv_checkout' in d['fix']


def test_deny_list(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.11.2'}), deny=['3.11.2', '3.11.15'])
    d = finding(plan, 'python-version-denied')
    assert d['fix'] == 'Pin another 3.11 patch that can be installed: 3.11.16.'


def test_deny_list_applies_to_resolved_minor(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.12'}), deny=[newest('3.12')])
    assert 'python-version-denied' in codes(plan, 'error')


def test_default_version(make_plan, catalogue):
    plan = make_plan(BASIC)
    assert plan['python']['minor'] == catalogue['default'] and plan['python']['source'] == 'default'
    assert 'python-version-default' in codes(plan, 'note')


def test_operator_default(make_plan):
    plan = make_plan(BASIC, default_python='3.12')
    assert plan['python']['version'] == newest('3.12')


def test_catalogue_override(rules, tmp_path):
    from helpers import CATALOGUE, write_tree
    cat = rules.load_catalogue(CATALOGUE, overrides={'minors': {'3.13': {'eol': '2026-11-01'}}})
    app = write_tree(tmp_path / 'a', with_files(**{'.python-version': '3.13'}))
    plan = rules.build_plan(app, cat, today='2026-11-22', available=['3.13.5'])
    assert 'python-version-eol' in codes(plan, 'error')


def test_the_catalogue_holds_no_versions_only_end_of_life_data(rules):
    from helpers import CATALOGUE
    with open(CATALOGUE) as fh:
        assert 'latest' not in fh.read()
    # an older catalogue's "latest" is read and ignored
    assert rules.load_catalogue(data={'minors': {'3.13': {'latest': '3.13.1', 'eol': '2029-10-31'}}})['minors']['3.13'] == \
        {'eol': '2029-10-31', 'status': 'bugfix'}


def test_catalogue_rejects_bad_data(rules):
    with pytest.raises(ValueError):
        rules.load_catalogue(data={'minors': {'3.13.1': {'eol': '2029-10-31'}}})
    with pytest.raises(ValueError):
        rules.load_catalogue(data={'minors': {'3.13': {'status': 'maintained'}}})


def test_a_minor_the_catalogue_lacks_but_pyenv_defines_is_installed_with_a_warning(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.16'}), available=['3.16.0'])
    assert plan['ok'] and plan['python']['version'] == '3.16.0'
    assert 'python-version-not-in-catalogue' in codes(plan, 'warning')


def test_requires_python_from_pyproject(make_plan):
    plan = make_plan({'uv.lock': '', 'pyproject.toml': '[project]\nname="x"\nrequires-python=">=3.13"\n',
                      '.python-version': '3.12', 'wsgi.py': FLASK_WSGI})
    assert 'python-version-requires-python' in codes(plan, 'error')


# ---------------------------------------------------------------- mirror listing
MIRROR = ['Python-3.11.2.tgz', 'Python-3.13.5.tar.xz', 'Python-3.13.5.tgz']


def test_mirror_substitutes_newest_it_holds(make_plan):
    from helpers import INSTALLABLE
    plan = make_plan(with_files(**{'.python-version': '3.13'}), available=MIRROR, known=INSTALLABLE)
    assert plan['python']['version'] == '3.13.5' and plan['ok']
    d = finding(plan, 'python-version-mirror-substitute')
    assert '3.13.5' in d['message'] and 'pyenv defines up to 3.13.16' in d['message']
    # without pyenv's list, the mirror's newest is the newest there is: nothing to say
    assert 'python-version-mirror-substitute' not in codes(make_plan(with_files(**{'.python-version': '3.13'}), available=MIRROR))


def test_mirror_without_minor_lists_what_it_has(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.14'}), available=MIRROR)
    d = finding(plan, 'python-version-not-installable')
    assert '3.11.2, 3.13.5' in d['message'] and '3.13, 3.11' in d['fix']


def test_mirror_without_exact_patch(make_plan):
    from helpers import INSTALLABLE
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.13.15'}), available=MIRROR, known=INSTALLABLE)
    d = finding(plan, 'python-version-not-installable')
    assert 'pyenv defines it, but the mirror does not hold it' in d['message'] and 'add its tarball' in d['fix']


def test_mirror_exact_patch_present(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.11.2'}), available=MIRROR)
    assert plan['python']['version'] == '3.11.2' and plan['ok']


def test_default_falls_back_to_newest_supported_on_mirror(make_plan):
    plan = make_plan(BASIC, available=MIRROR)
    assert plan['python']['version'] == '3.13.5' and plan['ok']


def test_versions_from_listing(rules):
    html = ['<a href="Python-3.11.2.tgz">', 'Python-3.14.0rc1.tgz', 'Python-3.13.5.tar.xz', '3.12.1', 'junk']
    assert python_version.versions_from_listing(html) == ['3.11.2', '3.12.1', '3.13.5']


# ---------------------------------------------------------------- what can be installed decides
UV_APP = {'uv.lock': 'version = 1\n', 'wsgi.py': FLASK_WSGI}


def _uv(requires):
    files = dict(UV_APP)
    files['pyproject.toml'] = ('[project]\nname = "x"\nversion = "1"\nrequires-python = "%s"\n'
                               'dependencies = ["flask==3.1.3", "gunicorn==27.0.1"]\n' % requires)
    return files


def test_a_uv_app_without_a_version_file_gets_the_newest_that_satisfies_requires_python(make_plan):
    plan = make_plan(_uv('==3.12.*'))
    assert plan['ok'], plan['errors']
    assert plan['python']['version'] == newest('3.12')
    assert 'requires-python "==3.12.*"' in finding(plan, 'python-version-default')['message']


def test_requires_python_picks_among_what_the_mirror_holds(make_plan):
    plan = make_plan(_uv('>=3.11,<3.14'), available=['3.11.2', '3.13.5'])
    assert plan['ok'], plan['errors']
    assert plan['python']['version'] == '3.13.5'
    plan = make_plan(_uv('==3.12.*'), available=['3.11.2', '3.13.5'])
    d = finding(plan, 'python-version-requires-python')
    assert 'tried 3.13.5, 3.11.2' in d['message'] and not plan['ok']


def test_a_patch_that_cannot_be_installed_is_an_error_naming_what_can(make_plan):
    from helpers import INSTALLABLE
    plan = make_plan(with_files(**{'.python-version': '3.12.999\n'}), available=['3.11.2', '3.13.5'], known=INSTALLABLE)
    d = finding(plan, 'python-version-not-installable')
    assert 'does not exist as far as pyenv knows' in d['message'] and '3.11.2, 3.13.5' in d['message']
    # only what can be installed is named: no 3.12 patch anywhere, and one error, not two
    assert '3.12.14' not in str(plan) and codes(plan, 'error') == ['python-version-not-installable']


def test_an_eol_minor_that_cannot_be_installed_either_says_both_at_once(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.8\n'}), available=['3.11.2', '3.13.5'])
    assert codes(plan, 'error') == ['python-version-eol']
    d = finding(plan, 'python-version-eol')
    assert 'No Python 3.8 release can be installed here' in d['message'] and '3.11.2, 3.13.5' in d['message']
    # allowing end-of-life would not help, so it is not offered; nothing names 3.8.20
    assert 'app_plan_allow_eol' not in d['fix'] and '3.8.20' not in str(plan)
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.8\n'}), available=['3.11.2', '3.13.5'], allow_eol=True)
    assert codes(plan, 'error') == ['python-version-not-installable'] and '3.8.20' not in str(plan)


def test_eol_suggestions_name_only_installable_minors(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.8.20\n'}), available=['3.11.2', '3.13.5'])
    d = finding(plan, 'python-version-eol')
    assert '3.13, 3.11' in d['fix'] and '3.14' not in d['fix'] and '3.12' not in d['fix']


def test_a_pinned_older_patch_is_compared_with_what_can_be_installed(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.13.4\n'}), available=['3.13.4', '3.13.5'])
    d = finding(plan, 'python-version-outdated')
    assert '3.13.5 is the newest 3.13 that can be installed' in d['message']


def test_a_failed_plan_carries_its_findings_as_data_and_not_the_plan(rules, tmp_path):
    from helpers import task_params, write_tree
    app = write_tree(tmp_path / 'app', {'requirements.txt': 'flask==\n', 'wsgi.py': FLASK_WSGI,
                                        'runtime.txt': 'python-3.11.2\n', '.python-version': '3.12\n'})
    result = rules.run_task(task_params(rules, src=app, fail_on_error=True))
    assert set(result) == {'changed', 'failed', 'msg', 'findings'} and result['failed']
    assert '\n' not in result['msg'] and 'cannot be deployed (2 error(s))' in result['msg']
    errors = {e['code']: e for e in result['findings']['errors']}
    assert set(errors) == {'requirements-invalid-line', 'python-version-conflict'}
    assert errors['requirements-invalid-line']['file'] == 'requirements.txt' and errors['requirements-invalid-line']['line'] == 1
    assert all(set(e) == {'code', 'severity', 'file', 'line', 'message', 'fix'} and e['fix'] for e in errors.values())


@pytest.mark.parametrize('name, text, fix', [
    ('runtime.txt', '3.11.2', 'Write "python-3.11.2".'),
    ('runtime.txt', 'pyth0n', 'Write e.g. "python-3.13.5".'),
    ('.python-version', '3', 'Name a minor version, e.g. "3.13"; a major version alone is ambiguous.'),
    ('.python-version', 'latest', 'Write "X.Y" (newest patch) or "X.Y.Z", e.g. "3.13".'),
    ('.python-version', '3.13\n3.11', 'Keep one version line, e.g. "3.13"; start any other line with "#" to make it a comment.'),
])
def test_the_examples_in_a_version_files_fix_can_be_installed_here(make_plan, name, text, fix):
    plan = make_plan(with_files(**{name: text + '\n'}), available=['3.11.2', '3.13.5'])
    assert [d['fix'] for d in plan['errors']] == [fix]


# ---------------------------------------------------------------- Cloud Foundry's runtime.txt
@pytest.mark.parametrize('content,minor', [('python-3.13.x\n', '3.13'), ('python-3.12.x', '3.12'), ('python-3.x\n', '3.15')])
def test_cloud_foundry_wildcards_take_the_newest_that_can_be_installed(make_plan, content, minor):
    plan = make_plan(with_files(**{'runtime.txt': content}))
    assert plan['ok'], plan['errors']
    assert plan['python']['minor'] == minor and plan['python']['version'] == newest(minor)
    assert plan['python']['source'] == 'runtime.txt'
    d = finding(plan, 'python-version-wildcard')
    assert 'Cloud Foundry' in d['message'] and d['line'] == 1 and d['file'] == 'runtime.txt'


@pytest.mark.parametrize('content', ['python-3.x.x', 'python-x', 'python-3.13.X.x', 'python-03.x', 'python-3.13.*'])
def test_other_wildcards_are_invalid(make_plan, content):
    plan = make_plan(with_files(**{'runtime.txt': content}))
    assert 'python-version-invalid' in codes(plan) and not plan['ok']


def test_a_wildcard_major_with_nothing_installable_names_what_is(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-2.x'}))
    d = finding(plan, 'python-version-not-installable')
    assert 'No supported Python 2 minor' in d['message'] and '3.15, 3.14' in d['fix']


@pytest.mark.parametrize('text, line', [
    ('3.12\n\x00\n', 2),            # a NUL on a line of its own is no second version
    ('3.12\x00\n', 1),
    ('\x1b[0m3.12\n', 1),
    ('# pinned\n3.12\n\x07\n', 3),
])
def test_a_control_character_in_a_version_file_is_invalid_and_named(make_plan, text, line):
    plan = make_plan(with_files(**{'.python-version': text}))
    d = finding(plan, 'python-version-invalid')
    assert d['line'] == line and 'control character: U+00' in d['message'] and not plan['ok']
    assert 'python-version-multiple' not in codes(plan, 'error')


def test_a_version_file_that_requires_python_excludes_is_a_conflict_naming_both(make_plan):
    plan = make_plan({'uv.lock': '', 'pyproject.toml': '[project]\nname="x"\nrequires-python=">=3.13"\n',
                      '.python-version': '# the team\'s\n3.11\n', 'wsgi.py': FLASK_WSGI})
    d = finding(plan, 'python-version-requires-python')
    assert (d['file'], d['line']) == ('.python-version', 2) and 'requires-python ">=3.13"' in d['message']
    assert d['message'].startswith('.python-version line 2 asks for Python 3.11.') and not plan['ok']


def test_a_poetry_apps_version_file_is_held_to_its_python_constraint_too(make_plan):
    import os
    root = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'examples', 'poetry')
    files = {name: open(os.path.join(root, name)).read() for name in ('poetry.lock', 'pyproject.toml', 'wsgi.py')}
    plan = make_plan(dict(files, **{'.python-version': '3.13\n'}))
    d = finding(plan, 'python-version-requires-python')
    assert d['file'] == '.python-version' and '">=3.11,<3.13"' in d['message'] and not plan['ok']
