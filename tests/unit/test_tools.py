"""Unit tests for the logic inside the tools and the pack module."""
import hashlib
import importlib.util
import io
import os
import sys
import tarfile
import time

import pytest

from helpers import ROOT, write_tree


def load(name, rel):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mirror = load('cpython_mirror', 'tools/cpython_mirror.py')
testbed = load('testbed', 'tools/testbed.py')
pack = load('pyfleet_pack', 'plugins/modules/pyfleet_pack.py')

TEMPLATE = '''prefer_openssl3
export PYTHON_BUILD_CONFIGURE_WITH_OPENSSL=1
install_package "openssl-3.0.8" "https://example.invalid/openssl.tgz#aaaa" mac_openssl --if has_broken_mac_openssl
if has_tar_xz_support; then
    install_package "Python-3.11.2" "https://www.python.org/ftp/python/3.11.2/Python-3.11.2.tar.xz#xzsum" standard verify_py311 ensurepip
else
    install_package "Python-3.11.2" "https://www.python.org/ftp/python/3.11.2/Python-3.11.2.tgz#tgzsum" standard verify_py311 ensurepip
fi
'''


def test_definition_names_the_mirror_file_once():
    out = mirror.make_definition(TEMPLATE, '3.11.2', 'Python-3.11.2.tgz', 'cafe')
    lines = out.splitlines()
    py = [l for l in lines if 'install_package "Python-' in l]
    assert py == ['install_package "Python-3.11.2" "https://www.python.org/ftp/python/3.11.2/Python-3.11.2.tgz#cafe" '
                  'standard verify_py311 ensurepip']
    assert 'has_tar_xz_support' not in out and not any(l.strip() in ('else', 'fi') for l in lines)
    assert 'openssl-3.0.8' in out and lines[0] == 'prefer_openssl3'


def test_definition_for_a_version_pyenv_lacks_uses_the_template_steps():
    out = mirror.make_definition(TEMPLATE, '3.11.9', 'Python-3.11.9.tar.xz', 'beef')
    assert '"Python-3.11.9" "https://www.python.org/ftp/python/3.11.9/Python-3.11.9.tar.xz#beef" standard' in out


def test_definition_without_python_line_is_refused():
    with pytest.raises(SystemExit):
        mirror.make_definition('prefer_openssl3\n', '3.11.2', 'x.tgz', 'c')


def test_recipe_key_follows_the_recipe():
    a = testbed.recipe_key(testbed.recipe('bookworm', 'http://m/debian'))
    assert a == testbed.recipe_key(testbed.recipe('bookworm', 'http://m/debian'))
    assert a != testbed.recipe_key(testbed.recipe('trixie', 'http://m/debian'))
    assert a != testbed.recipe_key(testbed.recipe('bookworm', 'http://other/debian'))
    assert a.startswith('bookworm-')
    with pytest.raises(testbed.TestbedError):
        testbed.recipe('buster', 'http://m/debian')


@pytest.mark.parametrize('rel,is_dir,patterns,out', [
    ('a/b/__pycache__', True, ['__pycache__'], True),
    ('x.pyc', False, ['*.pyc'], True),
    ('docs', True, ['docs/'], True),
    ('docs', False, ['docs/'], False),
    ('src/docs', True, ['/docs'], False),
    ('docs/a.md', False, ['docs/*.md'], True),
    ('app.py', False, ['*.psd', '.git'], False),
])
def test_pack_exclude_patterns(rel, is_dir, patterns, out):
    assert pack.excluded(rel, is_dir, patterns) is out


def test_pack_is_reproducible_and_honours_excludes(tmp_path):
    src = write_tree(tmp_path / 'app', {'wsgi.py': 'application = 1\n', 'pkg/__init__.py': '',
                                        'pkg/__pycache__/x.pyc': b'\0', '.git/HEAD': 'ref\n', 'big.psd': 'x',
                                        'run.sh': '#!/bin/sh\n'})
    os.chmod(os.path.join(src, 'run.sh'), 0o755)
    a, n = pack.pack(src, ['.git', '__pycache__', '*.pyc', '*.psd'])
    os.utime(os.path.join(src, 'wsgi.py'), (time.time() + 100, time.time() + 100))
    b, _ = pack.pack(src, ['.git', '__pycache__', '*.pyc', '*.psd'])
    assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest() and n == 3
    import gzip
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(a))) as tar:
        names = tar.getnames()
        assert tar.getmember('run.sh').mode == 0o755 and tar.getmember('wsgi.py').mode == 0o644
    assert sorted(names) == ['pkg', 'pkg/__init__.py', 'run.sh', 'wsgi.py']
    with open(os.path.join(src, 'wsgi.py'), 'w') as fh:
        fh.write('application = 2\n')
    c, _ = pack.pack(src, ['.git', '__pycache__', '*.pyc', '*.psd'])
    assert c != a
