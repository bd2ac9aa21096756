"""Which CPython versions can be installed, read at plan time (module_utils/cpython_sources.py): pyenv's
definitions at a ref, from a checkout or an archive, the operator's own, and a mirror's listing."""
import functools
import hashlib
import http.server
import os
import socket
import subprocess
import tarfile
import threading

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import cpython_sources as cs
from helpers import FLASK_WSGI, codes, finding, task_params, write_tree

DEFS = cs.DEFINITIONS_DIR


def definition(version, *tarballs):
    """A python-build definition naming ``tarballs`` [(ext, sha256)] in order."""
    lines = ['prefer_openssl3', 'install_package "openssl-3.5.1" "https://example/openssl-3.5.1.tar.gz#%s" mac_openssl' % ('0' * 64)]
    for ext, sha in tarballs:
        lines.append('install_package "Python-%s" "https://www.python.org/ftp/python/%s/Python-%s.%s#%s" standard ensurepip'
                     % (version, version, version, ext, sha))
    return '\n'.join(lines) + '\n'


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def git(path, *args):
    subprocess.run(['git', '-C', str(path)] + list(args), check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME='t', GIT_AUTHOR_EMAIL='t@t', GIT_COMMITTER_NAME='t',
                            GIT_COMMITTER_EMAIL='t@t'))


@pytest.fixture
def checkout(tmp_path):
    """A pyenv git checkout: v1 defines 3.12.1 and 3.13.1; its working tree (after v1) adds 3.13.2 and a
    free-threaded, a dev and a PyPy definition, which are not CPython releases."""
    root = tmp_path / 'pyenv'
    write_tree(root, {DEFS + '/3.12.1': definition('3.12.1', ('tar.xz', sha('3.12.1'))),
                      DEFS + '/3.13.1': definition('3.13.1', ('tar.xz', sha('3.13.1')), ('tgz', sha('3.13.1 tgz')))})
    git(root, 'init', '-q')
    git(root, 'add', '.')
    git(root, 'commit', '-qm', 'v1')
    git(root, 'tag', 'v1')
    write_tree(root, {DEFS + '/3.13.2': definition('3.13.2', ('tar.xz', sha('3.13.2'))),
                      DEFS + '/3.13.2t': definition('3.13.2', ('tar.xz', sha('3.13.2'))),
                      DEFS + '/3.14-dev': 'install_git "Python-3.14-dev" "https://github.com/python/cpython" main standard\n',
                      DEFS + '/pypy3.10-7.3.17': 'install_package "pypy3.10" "https://x/pypy.tar.bz2#%s" pypy\n' % ('1' * 64)})
    return str(root)


def test_a_definition_names_its_tarballs_in_python_builds_order():
    text = definition('3.13.5', ('tar.xz', 'a' * 64), ('tgz', 'b' * 64))
    assert cs.parse_definition(text) == [('Python-3.13.5.tar.xz', 'a' * 64), ('Python-3.13.5.tgz', 'b' * 64)]


def test_the_ref_the_hosts_get_decides_not_the_working_tree(checkout):
    defs, origin, problems = cs.pyenv_definitions(checkout, 'v1')
    assert sorted(defs) == ['3.12.1', '3.13.1'] and problems == [] and origin.startswith('pyenv v1')
    defs, origin, problems = cs.pyenv_definitions(checkout, '')
    assert sorted(defs) == ['3.12.1', '3.13.1', '3.13.2']   # releases only: no 3.13.2t, 3.14-dev or PyPy


def test_a_checkout_without_the_ref_is_read_as_it_is_with_a_warning_naming_the_fix(checkout):
    defs, origin, problems = cs.pyenv_definitions(checkout, 'v2.6.3')
    assert sorted(defs) == ['3.12.1', '3.13.1', '3.13.2']
    [(code, message, fix)] = problems
    assert code == 'python-definitions-ref-missing' and 'does not have v2.6.3' in message
    assert fix.startswith('Run "git -C %s fetch --tags"' % checkout)


def test_an_archive_is_read_as_the_hosts_unpack_it(checkout, tmp_path):
    archive = str(tmp_path / 'pyenv.tar.gz')
    with tarfile.open(archive, 'w:gz') as tar:
        tar.add(checkout, arcname='pyenv-abc')
    defs, origin, problems = cs.pyenv_definitions(archive=archive)
    assert sorted(defs) == ['3.12.1', '3.13.1', '3.13.2'] and problems == [] and archive in origin


def test_no_checkout_is_a_warning_that_says_how_to_get_one():
    defs, origin, [(code, message, fix)] = cs.pyenv_definitions(None)
    assert defs == {} and code == 'python-definitions-unreadable'
    assert 'git clone https://github.com/pyenv/pyenv' in fix and 'app_plan_available_versions' in fix


def test_without_a_mirror_python_org_has_every_defined_version(checkout):
    defs = cs.pyenv_definitions(checkout, 'v1')[0]
    found = cs.installable(defs)
    assert found['versions'] == found['defined'] == ['3.12.1', '3.13.1'] and found['fetch'] == 'python.org'


def test_the_operators_definitions_come_first(checkout, tmp_path):
    extra = write_tree(tmp_path / 'defs', {'3.13.1': definition('3.13.1', ('tgz', sha('debian 3.13.1'))),
                                           '3.11.2': definition('3.11.2', ('tgz', sha('3.11.2')))})
    defs = cs.pyenv_definitions(checkout, 'v1')[0]
    found = cs.installable(defs, extra, mirror_url='http://mirror', listing='%s %s' % (sha('debian 3.13.1'), sha('3.11.2')))
    assert found['versions'] == ['3.11.2', '3.13.1'] and found['defined'] == ['3.11.2', '3.12.1', '3.13.1']


def test_a_mirror_serves_what_it_lists_by_sha256_of_the_first_tarball(checkout):
    defs = cs.pyenv_definitions(checkout, '')[0]
    # 3.13.1's .tgz is listed but python-build asks for the .tar.xz's sha256; a file name alone is not enough
    listing = '<a href="%s">x</a> %s Python-3.13.2.tar.xz' % (sha('3.12.1'), sha('3.13.1 tgz'))
    assert cs.installable(defs, mirror_url='http://m', listing=listing)['versions'] == ['3.12.1']


def test_a_tarball_directory_serves_the_files_it_holds(checkout, tmp_path):
    tarballs = write_tree(tmp_path / 'tarballs', {'Python-3.13.1.tgz': 'x', 'Python-3.99.0.tgz': 'y'})
    found = cs.installable(cs.pyenv_definitions(checkout, '')[0], tarballs_dir=tarballs)
    assert found['versions'] == ['3.13.1']


@pytest.fixture
def mirror(tmp_path):
    """A python-build mirror on loopback: files named by sha256, with a directory listing at its root."""
    root = tmp_path / 'mirror'
    write_tree(root, {sha('3.12.1'): 'x', sha('3.13.2'): 'y', 'Python-3.13.2.tar.xz': 'y'})
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_plan_reads_the_mirror_and_resolves_x_y_to_the_newest_it_can_install(rules, checkout, mirror, tmp_path):
    app = write_tree(tmp_path / 'app', {'requirements.txt': 'flask==3.1.3\n', 'wsgi.py': FLASK_WSGI,
                                        '.python-version': '3.13\n'})
    plan = rules.run_task(task_params(rules, src=app, available_versions=None, pyenv_checkout=checkout,
                                      mirror_url=mirror))['plan']
    assert plan['ok'], plan['errors']
    assert plan['python']['version'] == '3.13.2'
    assert plan['python']['installable'] == {'definitions': 'pyenv at %s' % checkout, 'fetch': 'the mirror %s' % mirror,
                                             'versions': ['3.12.1', '3.13.2']}
    # at the ref the hosts get, 3.13.2 does not exist yet: 3.13 cannot be installed, and the error says what can
    plan = rules.run_task(task_params(rules, src=app, available_versions=None, pyenv_checkout=checkout, pyenv_ref='v1',
                                      mirror_url=mirror))['plan']
    d = finding(plan, 'python-version-not-installable')
    assert 'No Python 3.13 release can be installed here. What can be installed: 3.12.1.' == d['message']


def test_a_mirror_that_cannot_be_listed_is_a_warning_and_the_definitions_decide(rules, checkout, tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        closed = 'http://127.0.0.1:%d' % s.getsockname()[1]
    app = write_tree(tmp_path / 'app', {'requirements.txt': 'flask==3.1.3\n', 'wsgi.py': FLASK_WSGI,
                                        '.python-version': '3.13\n'})
    plan = rules.run_task(task_params(rules, src=app, available_versions=None, pyenv_checkout=checkout,
                                      mirror_url=closed))['plan']
    assert plan['ok'] and plan['python']['version'] == '3.13.2'
    assert 'python-mirror-unreadable' in codes(plan, 'warning')


def test_an_empty_ref_is_the_one_the_pyenv_role_pins():
    url, ref = cs.pinned_ref()
    with open(cs.ROLE_DEFAULTS) as fh:
        assert ('pyenv_git_version: %s' % ref) in fh.read() and url == 'https://github.com/pyenv/pyenv.git'


class Served:
    """A fake opener: the tarball a git host would serve, counting the fetches."""

    def __init__(self, path):
        self.path, self.urls = path, []

    def __call__(self, url, timeout=None):
        self.urls.append(url)
        return open(self.path, 'rb')


def test_without_the_ref_on_the_controller_its_definitions_are_fetched_once(checkout, tmp_path):
    archive = str(tmp_path / 'served.tar.gz')
    with tarfile.open(archive, 'w:gz') as tar:
        tar.add(os.path.join(checkout, DEFS, '3.12.1'), arcname='pyenv-2.9.0/' + DEFS + '/3.12.1')
    served = Served(archive)
    fetch = functools.partial(cs.fetch_definitions, opener=served)
    for _ in range(2):
        defs, origin, problems = cs.pyenv_definitions(None, 'v2.9.0', git_url='https://github.com/pyenv/pyenv.git',
                                                      cache_dir=str(tmp_path / 'cache'), fetch=fetch)
        assert sorted(defs) == ['3.12.1'] and problems == [] and 'fetched from' in origin
    assert served.urls == ['https://github.com/pyenv/pyenv/archive/v2.9.0.tar.gz']


def test_a_ref_that_cannot_be_fetched_is_a_finding_naming_it(tmp_path):
    def unreachable(url, timeout=None):
        raise OSError('Name or service not known')
    fetch = functools.partial(cs.fetch_definitions, opener=unreachable)
    defs, origin, [(code, message, fix)] = cs.pyenv_definitions(None, 'v2.9.0', cache_dir=str(tmp_path), fetch=fetch)
    assert defs == {} and code == 'python-definitions-ref-missing' and 'pyenv v2.9.0' in message
    assert 'pyenv_archive_src' in fix


def test_a_bare_repository_is_a_finding_not_a_crash(tmp_path, checkout):
    bare = tmp_path / 'bare.git'
    subprocess.run(['git', 'clone', '-q', '--bare', checkout, str(bare)], check=True)
    defs, origin, problems = cs.pyenv_definitions(str(bare), 'v1')     # a bare repository has the ref
    assert sorted(defs) == ['3.12.1', '3.13.1'] and problems == []
    defs, origin, problems = cs.pyenv_definitions(str(bare), 'no-such-ref')
    assert defs == {} and [p[0] for p in problems] == ['python-definitions-unreadable']
