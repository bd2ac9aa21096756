"""requirements.txt as pip reads it (module_utils/requirements.py), through the plan. One fixture app per rule."""
import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import requirements
from helpers import BASIC, codes, finding, with_files

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
    assert [l for _, l in requirements._logical_lines(text)] == ['flask==3.1.3  # pinned for the demo \\', 'requests==2.32.3', '']


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
