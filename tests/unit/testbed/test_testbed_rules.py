"""The test bed's logic that needs no machine: the CPython mirror's definitions, the machines' recipes."""
import importlib.util
import os

import pytest

from helpers import ROOT


def load(name, rel):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mirror = load('cpython_mirror', 'testbed/cpython_mirror.py')
testbed = load('testbed_nspawn', 'testbed/nspawn.py')

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
