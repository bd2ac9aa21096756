"""The app plan's rules, one fixture app per rule (good and bad)."""
import os

import pytest

from helpers import codes, finding

FLASK_WSGI = 'from flask import Flask\napp = Flask(__name__)\napplication = app\n'
BASIC = {'requirements.txt': 'flask==3.1.3\ngunicorn==27.0.1\n', 'wsgi.py': FLASK_WSGI}


def with_files(**extra):
    files = dict(BASIC)
    files.update({k.replace('__', '.').replace('DOT', '.'): v for k, v in extra.items()})
    return files


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
    assert 'backend/requirements.txt' in d['fix'] and 'app_src=' in d['fix']


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
    assert codes(plan) == ['src-missing'] and '-e app_src=' in plan['errors'][0]['fix']


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


# ---------------------------------------------------------------- requirements.txt
def reqs(plan):
    return {(r['name'] or r['raw']): r for r in plan['requirements']['requirements']}


def test_requirements_comments_ranges_markers(make_plan):
    text = ('# a comment\n\nflask==3.1.3  # inline comment\nrequests>=2.31,<3\n'
            'pywin32==306; sys_platform == "win32"\nuvicorn[standard]==0.30.0\n')
    plan = make_plan(with_files(**{'requirements.txt': text}))
    r = reqs(plan)
    assert set(r) == {'flask', 'requests', 'pywin32', 'uvicorn'}
    assert r['flask']['pinned'] and not r['requests']['pinned']
    assert r['pywin32']['marker'] == 'sys_platform == "win32"'
    assert r['uvicorn']['extras'] == ['standard'] and r['flask']['line'] == 3
    assert 'requirements-unpinned' in codes(plan, 'warning')


def test_unpinned_warning_lists_names_and_lines(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': 'flask\ngunicorn==27.0.1\nrequests>=2\n'}))
    d = finding(plan, 'requirements-unpinned')
    assert 'flask (requirements.txt:1)' in d['message'] and 'requests (requirements.txt:3)' in d['message']
    assert 'gunicorn' not in d['message']


def test_all_pinned_has_no_warning(make_plan):
    assert 'requirements-unpinned' not in codes(make_plan(BASIC))


def test_requirements_include_followed(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': '-r requirements/base.txt\ngunicorn==27.0.1\n',
                                   'requirements/base.txt': 'flask==3.1.3\n-r common.txt\n',
                                   'requirements/common.txt': 'click==8.1.7\n'}))
    assert plan['ok'], plan['errors']
    assert plan['requirements']['files'] == ['requirements.txt', 'requirements/base.txt', 'requirements/common.txt']
    assert reqs(plan)['click']['file'] == 'requirements/common.txt'


def test_requirements_include_forms(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': '--requirement=a.txt\n-rb.txt\n-c constraints.txt\n',
                                   'a.txt': 'flask==3.1.3\n', 'b.txt': 'gunicorn==27.0.1\n',
                                   'constraints.txt': 'click==8.1.7\n'}))
    assert plan['ok'], plan['errors']
    assert set(reqs(plan)) == {'flask', 'gunicorn'}
    assert [c['name'] for c in plan['requirements']['constraints']] == ['click']


def test_requirements_include_cycle(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': '-r a.txt\n', 'a.txt': '-r b.txt\n',
                                   'b.txt': 'flask==3.1.3\n-r a.txt\n'}))
    d = finding(plan, 'requirements-include-cycle')
    assert d['file'] == 'b.txt' and d['line'] == 2
    assert 'a.txt -> b.txt -> a.txt' in d['message']


def test_requirements_self_include_cycle(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': 'flask==3.1.3\n-r requirements.txt\n'}))
    assert 'requirements-include-cycle' in codes(plan, 'error')


def test_requirements_include_missing(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': 'flask==3.1.3\n-r prod.txt\n'}))
    d = finding(plan, 'requirements-include-missing')
    assert d['line'] == 2 and 'prod.txt' in d['message']


def test_requirements_include_outside(make_plan, tmp_path):
    (tmp_path / 'common.txt').write_text('click==8.1.7\n')
    plan = make_plan(with_files(**{'requirements.txt': '-r ../common.txt\n'}))
    assert 'requirements-include-outside' in codes(plan, 'error')


def test_requirements_remote_include_warns(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': 'flask==3.1.3\n-r https://example.invalid/r.txt\n'}))
    assert 'requirements-remote-include' in codes(plan, 'warning') and plan['ok']


def test_requirements_editable_and_vcs(make_plan):
    text = ('-e git+https://github.com/org/lib.git@v1.2#egg=lib\n'
            'git+https://github.com/org/other.git#egg=other\n'
            '-e .\n'
            'mypkg @ https://files.example.invalid/mypkg-1.0-py3-none-any.whl\n'
            'https://files.example.invalid/thing-2.0.tar.gz\n'
            './vendor/pkg\n')
    plan = make_plan(with_files(**{'requirements.txt': text, 'setup.py': 'x'}))
    r = reqs(plan)
    assert r['lib']['kind'] == 'vcs' and r['lib']['editable'] and r['lib']['pinned']
    assert r['other']['kind'] == 'vcs' and not r['other']['pinned']
    assert r['.']['kind'] == 'path'
    assert r['mypkg']['kind'] == 'url' and r['mypkg']['pinned']
    assert r['./vendor/pkg']['kind'] == 'path'
    d = finding(plan, 'requirements-unpinned')
    assert 'other' in d['message'] and 'lib' not in d['message'].replace('other', '')


def test_editable_vcs_without_egg_is_error(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': '-e git+https://github.com/org/lib.git@v1\n'}))
    d = finding(plan, 'requirements-invalid-line')
    assert 'egg' in d['fix'] and d['line'] == 1


def test_requirements_index_options(make_plan):
    text = ('--index-url https://pypi.example.invalid/simple\n--extra-index-url=https://extra.invalid/simple\n'
            '-f https://links.invalid/\n--trusted-host pypi.example.invalid\n--no-binary :all:\n'
            '--pre\nflask==3.1.3\n')
    plan = make_plan(with_files(**{'requirements.txt': text}))
    r = plan['requirements']
    assert r['index_url'] == 'https://pypi.example.invalid/simple'
    assert r['extra_index_urls'] == ['https://extra.invalid/simple']
    assert r['find_links'] == ['https://links.invalid/'] and r['pre'] is True
    assert plan['ok'], plan['errors']


def test_requirements_hash_options(make_plan):
    text = 'flask==3.1.3 \\\n    --hash=sha256:aaaa \\\n    --hash=sha256:bbbb\n'
    plan = make_plan(with_files(**{'requirements.txt': text}))
    assert reqs(plan)['flask']['hashes'] == ['sha256:aaaa', 'sha256:bbbb'] and plan['ok']


def test_requirements_line_continuation(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': 'requests>=2.31,\\\n<3\ngunicorn==27.0.1\n'}))
    r = reqs(plan)
    assert r['requests']['specifier'] in ('<3,>=2.31', '>=2.31,<3') and r['gunicorn']['line'] == 3


def test_a_comment_line_ends_a_continuation_as_in_pip(rules):
    text = 'flask==3.1.3 \\\n# pinned for the demo \\\nrequests==2.32.3\n'
    assert [l for _, l in rules._logical_lines(text)] == ['flask==3.1.3  # pinned for the demo \\', 'requests==2.32.3', '']


def test_a_comment_after_a_requirement_does_not_stop_its_backslash_as_in_pip(make_plan):
    # pip joins the next line onto the comment, so "requests" is never installed: pyfleet reads it the same
    plan = make_plan(with_files(**{'requirements.txt': 'gunicorn==27.0.1 # the server \\\nrequests==2.32.3\n'}))
    assert 'requests' not in reqs(plan) and 'gunicorn' in reqs(plan)


def test_env_vars_are_expanded_as_pip_does_and_never_shown(make_plan):
    text = ('--extra-index-url https://deploy:${PRIVATE_TOKEN}@pypi.example.com/simple\n'
            'mylib==${MYLIB_VERSION}\ngunicorn==27.0.1\nflask==3.1.3\nother==${lowercase}\n')
    plan = make_plan(with_files(**{'requirements.txt': text}),
                     env={'PRIVATE_TOKEN': 's3cr3t-t0ken', 'MYLIB_VERSION': '2.4.1'})
    r = plan['requirements']
    assert r['env_vars'] == ['MYLIB_VERSION', 'PRIVATE_TOKEN']
    # judged with the value (pinned), kept as written
    assert reqs(plan)['mylib']['pinned'] and reqs(plan)['mylib']['specifier'] == '==${MYLIB_VERSION}'
    assert r['extra_index_urls'] == ['https://deploy:${PRIVATE_TOKEN}@pypi.example.com/simple']
    assert 's3cr3t-t0ken' not in repr(plan)
    # pip leaves ${lowercase} alone (upper-case names only), and so a line pip rejects is an error
    assert finding(plan, 'requirements-invalid-line')['line'] == 5


def test_an_unset_env_var_is_left_as_written(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': 'flask==${FLASK_VERSION}\n'}))
    assert finding(plan, 'requirements-invalid-line')['line'] == 1 and plan['requirements']['env_vars'] == ['FLASK_VERSION']


@pytest.mark.parametrize('line', ['flask==', 'flask>>1.0', '==1.0', 'flask[extra', 'fla sk==1', 'flask==1.0 ; bad marker'])
def test_invalid_requirement_lines_have_line_numbers(make_plan, line):
    plan = make_plan(with_files(**{'requirements.txt': 'gunicorn==27.0.1\n' + line + '\n'}))
    d = finding(plan, 'requirements-invalid-line')
    assert d['line'] == 2 and d['file'] == 'requirements.txt'


def test_unknown_option(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': 'flask==3.1.3\n--upgrade\n'}))
    d = finding(plan, 'requirements-unknown-option')
    assert d['line'] == 2 and '--upgrade' in d['message']


def test_unknown_per_requirement_option(make_plan):
    plan = make_plan(with_files(**{'requirements.txt': 'flask==3.1.3 --no-deps\n'}))
    assert 'requirements-unknown-option' in codes(plan, 'error')


def test_all_errors_reported_at_once(make_plan):
    plan = make_plan({'requirements.txt': 'flask==\n--bogus\n-r missing.txt\n', 'runtime.txt': 'python-2.5\n',
                      'Procfile': 'web gunicorn x\n'})
    errs = codes(plan, 'error')
    for c in ('requirements-invalid-line', 'requirements-unknown-option', 'requirements-include-missing',
              'python-version-unknown', 'procfile-invalid-line'):
        assert c in errs


# ---------------------------------------------------------------- Python version
def test_runtime_txt_patch(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.12.13\n'}))
    assert plan['python']['version'] == '3.12.13' and plan['python']['source'] == 'runtime.txt'


def test_runtime_txt_minor_resolves_to_newest_patch(make_plan, catalogue):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.13'}))
    assert plan['python']['version'] == catalogue['minors']['3.13']['latest']


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


@pytest.mark.parametrize('spec', ['python-2.7.13', 'python-3.6.15', 'python-3.9', 'python-3.10.20'])
def test_eol_is_error(make_plan, spec):
    plan = make_plan(with_files(**{'runtime.txt': spec}))
    d = finding(plan, 'python-version-eol')
    assert 'app_plan_allow_eol' in d['fix']


def test_eol_allowed_by_operator_is_warning(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-2.7.13'}), allow_eol=True)
    assert plan['ok'], plan['errors']
    assert plan['python']['version'] == '2.7.13'
    assert 'python-version-eol-allowed' in codes(plan, 'warning')


def test_eol_decided_by_date_not_only_status(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.11.15'}), today='2027-11-01')
    assert 'python-version-eol' in codes(plan, 'error')


def test_near_eol_warning_has_date(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.11.15'}), today='2027-06-01')
    d = finding(plan, 'python-version-near-eol')
    assert '2027-10-31' in d['message'] and plan['ok']


def test_outdated_patch_names_newer(make_plan, catalogue):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.12.4'}))
    d = finding(plan, 'python-version-outdated')
    assert catalogue['minors']['3.12']['latest'] in d['message'] and plan['ok']


def test_patch_newer_than_catalogue_is_accepted(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.13.99'}))
    assert plan['ok'] and plan['python']['version'] == '3.13.99'
    assert 'python-version-newer-than-catalogue' in codes(plan, 'warning')


def test_deny_list(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.5.3'}), allow_eol=True,
                     deny=['3.4.5', '3.4.6', '3.5.3'])
    d = finding(plan, 'python-version-denied')
    assert '3.5.10' in d['fix']


def test_deny_list_applies_to_resolved_minor(make_plan, catalogue):
    latest = catalogue['minors']['3.12']['latest']
    plan = make_plan(with_files(**{'.python-version': '3.12'}), deny=[latest])
    assert 'python-version-denied' in codes(plan, 'error')


def test_default_version(make_plan, catalogue):
    plan = make_plan(BASIC)
    assert plan['python']['minor'] == catalogue['default'] and plan['python']['source'] == 'default'
    assert 'python-version-default' in codes(plan, 'note')


def test_operator_default(make_plan, catalogue):
    plan = make_plan(BASIC, default_python='3.12')
    assert plan['python']['version'] == catalogue['minors']['3.12']['latest']


def test_catalogue_override(rules, tmp_path):
    from helpers import CATALOGUE, write_tree
    cat = rules.load_catalogue(CATALOGUE, overrides={'minors': {'3.13': {'latest': '3.13.42'}}})
    app = write_tree(tmp_path / 'a', with_files(**{'.python-version': '3.13'}))
    assert rules.build_plan(app, cat, today='2026-11-22')['python']['version'] == '3.13.42'


def test_catalogue_rejects_bad_data(rules):
    with pytest.raises(ValueError):
        rules.load_catalogue(data={'minors': {'3.13': {'latest': '3.12.1'}}})
    with pytest.raises(ValueError):
        rules.load_catalogue(data={'minors': {'3.13.1': {'latest': '3.13.1'}}})


def test_requires_python_from_pyproject(make_plan):
    plan = make_plan({'uv.lock': '', 'pyproject.toml': '[project]\nname="x"\nrequires-python=">=3.13"\n',
                      '.python-version': '3.12', 'wsgi.py': FLASK_WSGI})
    assert 'python-version-requires-python' in codes(plan, 'error')


# ---------------------------------------------------------------- mirror listing
MIRROR = ['Python-3.11.2.tgz', 'Python-3.13.5.tar.xz', 'Python-3.13.5.tgz']


def test_mirror_substitutes_newest_it_holds(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.13'}), available=MIRROR)
    assert plan['python']['version'] == '3.13.5' and plan['ok']
    d = finding(plan, 'python-version-mirror-substitute')
    assert '3.13.5' in d['message']


def test_mirror_without_minor_lists_what_it_has(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.14'}), available=MIRROR)
    d = finding(plan, 'python-version-not-on-mirror')
    assert '3.11.2, 3.13.5' in d['message']


def test_mirror_without_exact_patch(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.13.4'}), available=MIRROR)
    assert 'python-version-not-on-mirror' in codes(plan, 'error')


def test_mirror_exact_patch_present(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.11.2'}), available=MIRROR)
    assert plan['python']['version'] == '3.11.2' and plan['ok']


def test_default_falls_back_to_newest_supported_on_mirror(make_plan):
    plan = make_plan(BASIC, available=MIRROR)
    assert plan['python']['version'] == '3.13.5' and plan['ok']


def test_versions_from_listing(rules):
    html = ['<a href="Python-3.11.2.tgz">', 'Python-3.14.0rc1.tgz', 'Python-3.13.5.tar.xz', '3.12.1', 'junk']
    assert rules.versions_from_listing(html) == ['3.11.2', '3.12.1', '3.13.5']


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
    plan = rules.build_plan(app, catalogue, today='2026-11-22')
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
    plan = rules.build_plan(app, catalogue, today='2026-11-22')
    bad = [d for d in plan['errors'] if d['code'] == 'symlink-outside']
    assert sorted(d['file'] for d in bad) == ['static/other-env.txt', 'static/shadow.txt']
    shadow = [d for d in bad if d['file'] == 'static/shadow.txt'][0]
    assert 'static/shadow.txt is a link to /etc/shadow, outside the app source' in shadow['message']
    assert 'Copy the file into the app' in shadow['fix'] and 'remove the link' in shadow['fix']
    assert not plan['ok']
    # excluded links are not shipped, so they are no problem
    with open(os.path.join(app, '.slugignore'), 'w') as fh:
        fh.write('static/\n')
    assert rules.build_plan(app, catalogue, today='2026-11-22')['ok']



# ---------------------------------------------------------------- what can be installed decides
UV_APP = {'uv.lock': 'version = 1\n', 'wsgi.py': FLASK_WSGI}


def _uv(requires):
    files = dict(UV_APP)
    files['pyproject.toml'] = ('[project]\nname = "x"\nversion = "1"\nrequires-python = "%s"\n'
                               'dependencies = ["flask==3.1.3", "gunicorn==27.0.1"]\n' % requires)
    return files


def test_a_uv_app_without_a_version_file_gets_the_newest_that_satisfies_requires_python(make_plan, catalogue):
    plan = make_plan(_uv('==3.12.*'))
    assert plan['ok'], plan['errors']
    assert plan['python']['version'] == catalogue['minors']['3.12']['latest']
    assert 'requires-python "==3.12.*"' in finding(plan, 'python-version-default')['message']


def test_requires_python_picks_among_what_the_mirror_holds(make_plan):
    plan = make_plan(_uv('>=3.11,<3.14'), available=['3.11.2', '3.13.5'])
    assert plan['ok'], plan['errors']
    assert plan['python']['version'] == '3.13.5'
    plan = make_plan(_uv('==3.12.*'), available=['3.11.2', '3.13.5'])
    d = finding(plan, 'python-version-requires-python')
    assert 'tried 3.13.5, 3.11.2' in d['message'] and not plan['ok']


def test_a_patch_that_cannot_be_installed_is_an_error_naming_what_can(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.12.999\n'}), available=['3.11.2', '3.13.5'])
    d = finding(plan, 'python-version-not-on-mirror')
    assert 'no such release is known' in d['message'] and '3.11.2, 3.13.5' in d['message']
    # only what can be installed is named: no catalogue patch (3.12.13) anywhere
    assert 'python-version-newer-than-catalogue' not in codes(plan)


def test_eol_suggestions_name_only_installable_minors(make_plan):
    plan = make_plan(with_files(**{'runtime.txt': 'python-3.8.20\n'}), available=['3.11.2', '3.13.5'])
    d = finding(plan, 'python-version-eol')
    assert '3.13, 3.11' in d['fix'] and '3.14' not in d['fix'] and '3.12' not in d['fix']


def test_a_pinned_older_patch_is_compared_with_what_can_be_installed(make_plan):
    plan = make_plan(with_files(**{'.python-version': '3.13.4\n'}), available=['3.13.4', '3.13.5'])
    d = finding(plan, 'python-version-outdated')
    assert '3.13.5 is the newest 3.13 that can be installed' in d['message']


def test_a_failed_plan_prints_its_findings_once_and_not_the_plan(rules, tmp_path):
    from helpers import CATALOGUE, write_tree
    app = write_tree(tmp_path / 'app', {'requirements.txt': 'flask==\n', 'wsgi.py': FLASK_WSGI,
                                        'runtime.txt': 'python-3.11.2\n', '.python-version': '3.12\n'})
    params = dict(src=app, catalogue_file=CATALOGUE, catalogue=None, catalogue_overrides={}, available_versions=None,
                  default_python=None, allow_eol=False, deny_versions=[], near_eol_days=180, env={},
                  migrations=True, today='2026-11-22', fail_on_error=True)
    result = rules.run_task(params)
    assert set(result) == {'changed', 'failed', 'msg'} and result['failed']
    assert result['msg'].count('[requirements-invalid-line]') == 1
    assert result['msg'].count('[python-version-conflict]') == 1
