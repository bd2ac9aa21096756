"""module_utils/native.py: what a failed native build lacks, said as the Debian packages still missing."""

import json

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import native
from ansible_collections.pyfleet.deploy.plugins.module_utils.steps import Scan

# what pip prints when pylibmc builds without libmemcached's headers (abridged, as pip 25 prints it)
PYLIBMC = '''\
Collecting pylibmc==1.6.3
  Downloading pylibmc-1.6.3.tar.gz (64 kB)
Collecting cffi>=1.12
  Using cached cffi-1.17.1-cp311-cp311-manylinux_2_17_x86_64.whl
Building wheels for collected packages: pylibmc
  Building wheel for pylibmc (pyproject.toml): started
  error: subprocess-exited-with-error
  × Building wheel for pylibmc (pyproject.toml) did not run successfully.
  │ exit code: 1
      src/_pylibmcmodule.h:42:10: fatal error: libmemcached/memcached.h: No such file or directory
         42 | #include <libmemcached/memcached.h>
      compilation terminated.
      error: command '/usr/bin/x86_64-linux-gnu-gcc' failed with exit code 1
  ERROR: Failed building wheel for pylibmc
Failed to build pylibmc
ERROR: Failed to build installable wheels for some pyproject.toml based projects (pylibmc)
'''

MYSQLCLIENT = '''\
Collecting mysqlclient==2.2.7
  Downloading mysqlclient-2.2.7.tar.gz (91 kB)
  Installing build dependencies: started
  Installing build dependencies: finished with status 'done'
  Getting requirements to build wheel: started
  Getting requirements to build wheel: finished with status 'error'
  /bin/sh: 1: pkg-config: not found
  Trying pkg-config --exists mysqlclient
  Exception: Can not find valid pkg-config name.
  Specify MYSQLCLIENT_CFLAGS and MYSQLCLIENT_LDFLAGS env vars manually
error: subprocess-exited-with-error
× Getting requirements to build wheel did not run successfully.
│ exit code: 1
'''

PSYCOPG2 = '''\
    Error: pg_config executable not found.
    pg_config is required to build psycopg2 from source.
'''

NO_COMPILER = "  error: command 'x86_64-linux-gnu-gcc' failed: No such file or directory\n"
PKG_CONFIG = "  Package libffi was not found in the pkg-config search path.\n  Perhaps you should add the directory containing `libffi.pc'\n"
LINKER = '/usr/bin/ld: cannot find -lxslt: No such file or directory\n'
RUST = "  error: can't find Rust compiler\n"


def named(said):
    """The packages a hint says to add (its -e line's JSON)."""
    return json.loads(said.splitlines()[-1].strip()[len("-e '"):-1])['pyfleet_system_packages']


def told(text):
    """The telling lines a build step keeps of ``text``."""
    scan = Scan([], collect=native.LINE)
    for line in text.splitlines():
        scan.feed('out', line)
    return scan.collected


@pytest.mark.parametrize('text, lacks, packages', [
    (PYLIBMC, [('header', 'libmemcached/memcached.h')], ['libmemcached-dev', 'zlib1g-dev', 'build-essential']),
    (MYSQLCLIENT, [('tool', 'pkg-config')], ['pkg-config', 'default-libmysqlclient-dev', 'build-essential']),
    (PSYCOPG2, [('tool', 'pg_config')], ['libpq-dev']),
    (NO_COMPILER, [('tool', 'x86_64-linux-gnu-gcc')], ['build-essential']),
    (PKG_CONFIG, [('pkg-config', 'libffi')], ['libffi-dev', 'build-essential']),
    (LINKER, [('library', 'xslt')], ['libxslt1-dev', 'build-essential']),
    (RUST, [('tool', 'rustc')], ['rustc', 'cargo']),
])
def test_what_the_build_lacks_is_read_from_its_output(text, lacks, packages):
    lines = told(text)
    assert native.missing(lines) == lacks
    said = native.hint(lines, installed=lambda wanted: set())
    assert named(said) == packages, said


def test_an_ordinary_collecting_line_is_no_failed_build():
    # the field case: "Collecting cffi" once named libffi-dev for an app whose pylibmc lacked libmemcached
    said = native.hint(told(PYLIBMC), installed=lambda wanted: set())
    assert 'libffi' not in said and 'libmemcached-dev' in said and 'pyfleet_system_packages' in said
    assert native.failed_sdists(told(PYLIBMC)) == ['pylibmc']


def test_packages_already_installed_are_never_named_again():
    said = native.hint(told(PYLIBMC), installed=lambda wanted: {'build-essential', 'zlib1g-dev'})
    assert named(said) == ['libmemcached-dev']
    said = native.hint(told(PYLIBMC), installed=lambda wanted: set(wanted))
    assert 'installed already' in said and "-e '" not in said


def test_nothing_telling_is_no_hint():
    assert native.hint(told('ERROR: boom\n'), installed=lambda w: set()) is None


@pytest.mark.parametrize('line, said', [
    ('ERROR: Could not find a version that satisfies the requirement flask==0.0.99 (from versions: 0.1, 0.2, 3.1.2, 3.1.3)',
     'offers 0.1, 0.2, 3.1.2, 3.1.3 (the newest 3.1.3)'),
    ('ERROR: Could not find a version that satisfies the requirement flsak==3.1.3 (from versions: none)',
     'no installable version of flsak==3.1.3 at all'),
])
def test_a_pin_the_index_does_not_have_is_named(line, said):
    assert said in native.pin_hint(told(line + '\nERROR: No matching distribution found for x\n'))


def test_the_telling_lines_are_kept_wherever_they_are_and_bounded():
    scan = Scan([], lines=5, collect=native.LINE, collect_max=4)
    scan.feed('err', 'fatal error: ffi.h: No such file or directory')
    for n in range(100000):
        scan.feed('err', 'noise %d' % n)
    assert scan.collected == ['fatal error: ffi.h: No such file or directory'] and len(scan.kept['err']) == 5
    for n in range(10):
        scan.feed('err', 'cannot find -lz%d' % n)
    # the first and the last ones: what failed last is never lost
    assert scan.collected == ['fatal error: ffi.h: No such file or directory', 'cannot find -lz0', 'cannot find -lz8',
                              'cannot find -lz9']


@pytest.mark.parametrize('kind, name, packages', [
    ('header', 'libxml/xmlversion.h', ['libxml2-dev']), ('header', 'openssl/opensslv.h', ['libssl-dev']),
    ('header', 'sasl/sasl.h', ['libsasl2-dev']), ('header', 'lber.h', ['libldap2-dev']),
    ('header', 'jpeglib.h', ['libjpeg-dev']), ('header', 'foo/zlib.h', ['zlib1g-dev']),
    ('header', 'nothing-known.h', None), ('pkg-config', 'xmlsec1', ['libxmlsec1-dev']),
    ('tool', 'mysql_config', ['default-libmysqlclient-dev']), ('library', 'pq', ['libpq-dev']),
])
def test_the_table(kind, name, packages):
    assert native.packages_for(kind, name) == packages
