# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failed native build says is missing, and the Debian packages that provide it.

A package built from source (an sdist: pylibmc, psycopg2, mysqlclient, lxml, Pillow, cryptography, ...) fails
by saying what it did not find: a header (``fatal error: libmemcached/memcached.h: No such file or
directory``), a library (``cannot find -lmemcached``), a ``pkg-config`` name (``Package libffi was not found in
the pkg-config search path``), a tool (``mysql_config: not found``, ``pg_config executable not found``,
``can't find Rust compiler``) or a compiler. ``LINE`` finds those lines as the output passes (the build step
keeps every one, not only the tail); ``missing`` reads what each names, and ``packages_for`` maps it to Debian
packages by the tables below. The failing sdist's own name is read only where pip says it failed
(``Failed to build pylibmc``: never a line such as pip's "Collecting cffi", which every build prints): what
it builds against is named too, so one round adds all (a build stops at the first thing it lacks).

``hint`` says it: the packages still to install (never one that is installed already, which ``installed``
tells), or that all it names are installed. ``pin_hint`` names a pin the index does not have (pip's "No
matching distribution found for flask==0.0.99", with the versions it does have).

Plain Python: the module pyfleet.deploy.build_step uses it on the host.
"""

from __future__ import annotations

import re
import subprocess

# a header's path (its longest matching prefix wins) -> Debian packages
HEADERS = {
    'libmemcached/': ['libmemcached-dev'], 'mysql.h': ['default-libmysqlclient-dev'],
    'mysql/': ['default-libmysqlclient-dev'], 'mariadb/': ['libmariadb-dev'], 'libpq-fe.h': ['libpq-dev'],
    'pg_config.h': ['libpq-dev'], 'libxml/': ['libxml2-dev'], 'libxslt/': ['libxslt1-dev'],
    'libexslt/': ['libxslt1-dev'], 'jpeglib.h': ['libjpeg-dev'], 'zlib.h': ['zlib1g-dev'], 'ffi.h': ['libffi-dev'],
    'openssl/': ['libssl-dev'], 'lber.h': ['libldap2-dev'], 'ldap.h': ['libldap2-dev'], 'sasl/': ['libsasl2-dev'],
    'krb5.h': ['libkrb5-dev'], 'krb5/': ['libkrb5-dev'], 'gssapi/': ['libkrb5-dev'], 'gssapi.h': ['libkrb5-dev'],
    'xmlsec/': ['libxmlsec1-dev'], 'cairo.h': ['libcairo2-dev'], 'cairo/': ['libcairo2-dev'], 'yaml.h': ['libyaml-dev'],
    'lzma.h': ['liblzma-dev'], 'bzlib.h': ['libbz2-dev'], 'sqlite3.h': ['libsqlite3-dev'], 'gmp.h': ['libgmp-dev'],
    'mpfr.h': ['libmpfr-dev'], 'mpc.h': ['libmpc-dev'], 'geos_c.h': ['libgeos-dev'], 'gdal.h': ['libgdal-dev'],
    'proj.h': ['libproj-dev'], 'ft2build.h': ['libfreetype-dev'], 'freetype/': ['libfreetype-dev'],
    'png.h': ['libpng-dev'], 'tiffio.h': ['libtiff-dev'], 'tiff.h': ['libtiff-dev'], 'webp/': ['libwebp-dev'],
    'lcms2.h': ['liblcms2-dev'], 'openjpeg': ['libopenjp2-7-dev'], 'sndfile.h': ['libsndfile1-dev'],
    'portaudio.h': ['portaudio19-dev'], 'uuid/uuid.h': ['uuid-dev'], 'snappy-c.h': ['libsnappy-dev'],
    'zmq.h': ['libzmq3-dev'], 'hdf5.h': ['libhdf5-dev'], 'sodium.h': ['libsodium-dev'], 'unicode/': ['libicu-dev'],
    'magic.h': ['libmagic-dev'], 'pcre.h': ['libpcre3-dev'], 'curl/curl.h': ['libcurl4-openssl-dev'],
    'systemd/': ['libsystemd-dev'], 'dbus/': ['libdbus-1-dev'], 'glib.h': ['libglib2.0-dev'],
    'libev/': ['libev-dev'], 'ev.h': ['libev-dev'], 'event2/': ['libevent-dev'], 'libusb': ['libusb-1.0-0-dev'],
    'librdkafka/': ['librdkafka-dev'], 'fuse.h': ['libfuse-dev'], 'libvirt/': ['libvirt-dev'],
    'security/pam_appl.h': ['libpam0g-dev'], 'cups/': ['libcups2-dev'], 'ncurses.h': ['libncurses-dev'],
    'readline/': ['libreadline-dev'], 'gpgme.h': ['libgpgme-dev'], 'zstd.h': ['libzstd-dev'], 'lz4.h': ['liblz4-dev'],
    'expat.h': ['libexpat1-dev'], 'tesseract/': ['libtesseract-dev'], 'leptonica/': ['libleptonica-dev'],
    'Python.h': ['python3-dev'],
}
# a library (-lNAME) -> Debian packages
LIBRARIES = {
    'memcached': ['libmemcached-dev'], 'mysqlclient': ['default-libmysqlclient-dev'], 'mariadb': ['libmariadb-dev'],
    'pq': ['libpq-dev'], 'xml2': ['libxml2-dev'], 'xslt': ['libxslt1-dev'], 'exslt': ['libxslt1-dev'],
    'ffi': ['libffi-dev'], 'ssl': ['libssl-dev'], 'crypto': ['libssl-dev'], 'jpeg': ['libjpeg-dev'], 'z': ['zlib1g-dev'],
    'ldap': ['libldap2-dev'], 'lber': ['libldap2-dev'], 'ldap_r': ['libldap2-dev'], 'sasl2': ['libsasl2-dev'],
    'krb5': ['libkrb5-dev'], 'gssapi_krb5': ['libkrb5-dev'], 'cairo': ['libcairo2-dev'], 'yaml': ['libyaml-dev'],
    'sqlite3': ['libsqlite3-dev'], 'sodium': ['libsodium-dev'], 'zmq': ['libzmq3-dev'], 'curl': ['libcurl4-openssl-dev'],
    'systemd': ['libsystemd-dev'], 'magic': ['libmagic-dev'], 'pcre': ['libpcre3-dev'], 'gmp': ['libgmp-dev'],
    'geos_c': ['libgeos-dev'], 'gdal': ['libgdal-dev'], 'freetype': ['libfreetype-dev'], 'png': ['libpng-dev'],
    'tiff': ['libtiff-dev'], 'webp': ['libwebp-dev'], 'snappy': ['libsnappy-dev'], 'hdf5': ['libhdf5-dev'],
    'uuid': ['uuid-dev'], 'ev': ['libev-dev'], 'event': ['libevent-dev'], 'rdkafka': ['librdkafka-dev'],
    'pam': ['libpam0g-dev'], 'xmlsec1': ['libxmlsec1-dev'], 'zstd': ['libzstd-dev'], 'lz4': ['liblz4-dev'],
    'bz2': ['libbz2-dev'], 'lzma': ['liblzma-dev'], 'portaudio': ['portaudio19-dev'], 'sndfile': ['libsndfile1-dev'],
}
# a pkg-config name -> Debian packages
PKG_CONFIG = {
    'libmemcached': ['libmemcached-dev'], 'mysqlclient': ['default-libmysqlclient-dev'],
    'mariadb': ['libmariadb-dev'], 'libmariadb': ['libmariadb-dev'], 'libpq': ['libpq-dev'],
    'libxml-2.0': ['libxml2-dev'], 'libxslt': ['libxslt1-dev'], 'libexslt': ['libxslt1-dev'], 'libffi': ['libffi-dev'],
    'openssl': ['libssl-dev'], 'libssl': ['libssl-dev'], 'libcrypto': ['libssl-dev'], 'cairo': ['libcairo2-dev'],
    'xmlsec1': ['libxmlsec1-dev'], 'xmlsec1-openssl': ['libxmlsec1-dev'], 'krb5': ['libkrb5-dev'],
    'krb5-gssapi': ['libkrb5-dev'], 'libsystemd': ['libsystemd-dev'], 'dbus-1': ['libdbus-1-dev'],
    'glib-2.0': ['libglib2.0-dev'], 'gobject-introspection-1.0': ['libgirepository1.0-dev'],
    'icu-uc': ['libicu-dev'], 'icu-i18n': ['libicu-dev'], 'libzmq': ['libzmq3-dev'], 'hdf5': ['libhdf5-dev'],
    'libcurl': ['libcurl4-openssl-dev'], 'libjpeg': ['libjpeg-dev'], 'zlib': ['zlib1g-dev'], 'yaml-0.1': ['libyaml-dev'],
    'sqlite3': ['libsqlite3-dev'], 'libsodium': ['libsodium-dev'], 'freetype2': ['libfreetype-dev'],
    'libpng': ['libpng-dev'], 'libtiff-4': ['libtiff-dev'], 'libwebp': ['libwebp-dev'], 'lcms2': ['liblcms2-dev'],
    'libopenjp2': ['libopenjp2-7-dev'], 'libgit2': ['libgit2-dev'], 'libvirt': ['libvirt-dev'], 'fuse': ['libfuse-dev'],
    'libusb-1.0': ['libusb-1.0-0-dev'], 'gpgme': ['libgpgme-dev'], 'poppler-cpp': ['libpoppler-cpp-dev'],
    'libzstd': ['libzstd-dev'], 'liblz4': ['liblz4-dev'], 'expat': ['libexpat1-dev'], 'tesseract': ['libtesseract-dev'],
    'lept': ['libleptonica-dev'], 'python3': ['python3-dev'], 'libevent': ['libevent-dev'],
}
# a tool the build ran and did not find -> Debian packages
TOOLS = {
    'mysql_config': ['default-libmysqlclient-dev'], 'mariadb_config': ['libmariadb-dev'], 'pg_config': ['libpq-dev'],
    'xml2-config': ['libxml2-dev'], 'xslt-config': ['libxslt1-dev'], 'krb5-config': ['libkrb5-dev'],
    'curl-config': ['libcurl4-openssl-dev'], 'pkg-config': ['pkg-config'], 'pkgconf': ['pkg-config'],
    'gcc': ['build-essential'], 'cc': ['build-essential'], 'x86_64-linux-gnu-gcc': ['build-essential'],
    'aarch64-linux-gnu-gcc': ['build-essential'], 'g++': ['build-essential'], 'c++': ['build-essential'],
    'x86_64-linux-gnu-g++': ['build-essential'], 'make': ['build-essential'], 'rustc': ['rustc', 'cargo'],
    'cargo': ['rustc', 'cargo'], 'gfortran': ['gfortran'], 'swig': ['swig'], 'cmake': ['cmake'], 'git': ['git'],
    'geos-config': ['libgeos-dev'], 'gdal-config': ['libgdal-dev'], 'freetype-config': ['libfreetype-dev'],
}
# a common sdist that fails to build -> what it builds against, when its output names nothing it lacks
SDISTS = {
    'pylibmc': ['libmemcached-dev', 'zlib1g-dev'], 'psycopg2': ['libpq-dev'], 'mysqlclient': ['default-libmysqlclient-dev', 'pkg-config'],
    'lxml': ['libxml2-dev', 'libxslt1-dev'], 'pillow': ['libjpeg-dev', 'zlib1g-dev'], 'cryptography': ['libssl-dev', 'rustc', 'cargo'],
    'cffi': ['libffi-dev'], 'python-ldap': ['libldap2-dev', 'libsasl2-dev'], 'pycairo': ['libcairo2-dev', 'pkg-config'],
    'xmlsec': ['libxmlsec1-dev', 'pkg-config'], 'gssapi': ['libkrb5-dev'], 'pykerberos': ['libkrb5-dev'],
    'pyyaml': ['libyaml-dev'], 'pygobject': ['libgirepository1.0-dev', 'libcairo2-dev', 'pkg-config'],
    'dbus-python': ['libdbus-1-dev', 'libglib2.0-dev', 'pkg-config'], 'pyzmq': ['libzmq3-dev'], 'h5py': ['libhdf5-dev', 'pkg-config'],
    'pycurl': ['libcurl4-openssl-dev', 'libssl-dev'], 'python-magic': ['libmagic1'], 'gdal': ['libgdal-dev'],
    'shapely': ['libgeos-dev'], 'psycopg': ['libpq-dev'], 'uwsgi': ['libpcre3-dev'], 'm2crypto': ['libssl-dev', 'swig'],
    'confluent-kafka': ['librdkafka-dev'], 'systemd-python': ['libsystemd-dev', 'pkg-config'],
    'pyaudio': ['portaudio19-dev'], 'python-pam': ['libpam0g-dev'], 'pycups': ['libcups2-dev'],
}
COMPILER = ['build-essential']

# the lines of a build's output that say what it lacks (the build step keeps each of them)
LINE = (r"fatal error: [^:\s]+\.h(pp)?: No such file|cannot find -l\S+|No package '[^']+' found|"
        r"Package '?[A-Za-z0-9_.+-]+'?,? (required by .*)?was not found in the pkg-config search path|"
        r"[A-Za-z0-9_.+-]+: (command )?not found|No such file or directory: '[A-Za-z0-9_.+-]+'|"
        r"[A-Za-z0-9_.+-]+ executable not found|command '[^']+' failed: No such file|unable to execute '[^']+'|"
        r"can't find Rust compiler|Failed to build |Building wheel for \S+ .*did not run successfully|"
        r"Failed building wheel for \S+|Could not find a version that satisfies the requirement|"
        r"No matching distribution found for|did not run successfully|"
        r"(Downloading|Using cached) \S+\.(tar\.gz|tar\.bz2|zip)\b")

_PATTERNS = [
    ('header', re.compile(r'fatal error: ([^:\s]+\.h(?:pp)?): No such file')),
    ('library', re.compile(r'cannot find -l([A-Za-z0-9_+-]+)')),
    ('pkg-config', re.compile(r"No package '([^']+)' found")),
    ('pkg-config', re.compile(r"Package '?([A-Za-z0-9_.+-]+?)'?,? (?:required by .*)?was not found in the pkg-config")),
    ('tool', re.compile(r"(?:^|[\s/:'\"])([A-Za-z0-9_.+-]+): (?:command )?not found")),
    ('tool', re.compile(r"No such file or directory: '([A-Za-z0-9_.+-]+)'")),
    ('tool', re.compile(r'([A-Za-z0-9_.+-]+) executable not found')),
    ('tool', re.compile(r"command '(?:[^']*/)?([^'/]+)' failed: No such file")),
    ('tool', re.compile(r"unable to execute '(?:[^']*/)?([^'/]+)'")),
    ('tool', re.compile(r"can't find (Rust) compiler")),
]
_SDIST = [re.compile(r'^\s*(?:ERROR: )?Failed to build ((?!installable )[A-Za-z0-9][A-Za-z0-9._ -]*)$'),
          re.compile(r'Failed to build installable wheels for some .* projects \(([^)]+)\)'),
          re.compile(r'Building wheel for (\S+) \(.*did not run successfully'), re.compile(r'Failed building wheel for (\S+)')]


def missing(lines):
    """What the build's ``lines`` say it lacks, in order, each once: [(kind, name)]."""
    out = []
    for line in lines:
        for kind, regex in _PATTERNS:
            for found in regex.finditer(line):
                item = (kind, found.group(1).lower() if kind == 'tool' and found.group(1) == 'Rust' else found.group(1))
                if item[0] == 'tool' and item[1] == 'rust':
                    item = ('tool', 'rustc')
                if item not in out and packages_for(*item) is not None:
                    out.append(item)
    return out


_DOWNLOADED = re.compile(r'(?:Downloading|Using cached) (?:\S+/)?([A-Za-z0-9][A-Za-z0-9._-]*?)-\d[^-\s]*\.(?:tar\.gz|tar\.bz2|zip)\b')
_FAILED_STEP = re.compile(r'(?:Getting requirements to build wheel|Preparing metadata \(\S+\)|Installing build '
                          r'dependencies) did not run successfully')


def failed_sdists(lines):
    """The sdists the output says failed to build, lower case, in order. pip names the sdist when its wheel
    fails to build; when an earlier step fails (its build requirements, its metadata), the sdist is the one pip
    fetched last before it."""
    out = []
    fetched = None
    for line in lines:
        found = _DOWNLOADED.search(line)
        if found:
            fetched = re.sub(r'[-_.]+', '-', found.group(1)).lower()
        if fetched and _FAILED_STEP.search(line) and fetched not in out:
            out.append(fetched)
        for regex in _SDIST:
            found = regex.search(line)
            if found:
                for name in re.split(r'[\s,]+', found.group(1).strip()):
                    name = re.sub(r'[-_.]+', '-', name).lower()
                    if name and name not in out:
                        out.append(name)
    return out


def packages_for(kind, name):
    """The Debian packages that provide ``name`` (a header, library, pkg-config name or tool), or None."""
    if kind == 'header':
        # the longest entry the path starts with ("libmemcached/" for libmemcached/memcached.h), else its base name
        best = max((p for p in HEADERS if name.startswith(p)), key=len, default=None)
        best = best or (name.rsplit('/', 1)[-1] if name.rsplit('/', 1)[-1] in HEADERS else None)
        return HEADERS[best] if best else None
    if kind == 'library':
        return LIBRARIES.get(name)
    if kind == 'pkg-config':
        return PKG_CONFIG.get(name)
    return TOOLS.get(name)


def dpkg_installed(packages):
    """The ones of ``packages`` dpkg has installed."""
    if not packages:
        return set()
    try:
        res = subprocess.run(['dpkg-query', '-W', '-f', '${Package} ${db:Status-Status}\\n', '--'] + list(packages),
                             capture_output=True, text=True, check=False)
    except OSError:
        return set()
    return {line.split()[0] for line in res.stdout.splitlines() if line.endswith(' installed')}


_WORDS = {'header': 'the header %s', 'library': 'the library -l%s', 'pkg-config': 'pkg-config\'s %s', 'tool': '%s'}


def hint(lines, installed=dpkg_installed, setting='pyfleet_system_packages'):
    """The hint for a failed native build whose telling output ``lines`` are these, or None: the Debian packages
    still missing, derived from what the output names (or, naming nothing, from the failing sdists)."""
    lacks = missing(lines)
    wanted, said = [], []
    for kind, name in lacks:
        packages = packages_for(kind, name)
        said.append('it lacks %s (%s)' % (_WORDS[kind] % name, ', '.join(packages)))
        wanted += [p for p in packages if p not in wanted]
    # what the failing sdists build against too: a build stops at the first thing it lacks, so the rest (the
    # library after pkg-config, the compiler after the headers) is named in the same round
    for sdist in failed_sdists(lines):
        if sdist in SDISTS:
            said.append('%s builds against %s' % (sdist, ', '.join(SDISTS[sdist] + COMPILER)))
            wanted += [p for p in SDISTS[sdist] + COMPILER if p not in wanted]
    if not wanted:
        return None
    if any(kind in ('header', 'library', 'pkg-config') for kind, _ in lacks) and 'build-essential' not in wanted:
        wanted.append('build-essential')
    have = installed(wanted)
    left = [p for p in wanted if p not in have]
    if not left:
        return ('Hint: a package failed to build from source: %s; every one of those Debian packages is installed '
                'already, so look at the lines above for what else it needs.' % '; '.join(said))
    return ('Hint: a package failed to build from source: %s.\n'
            'Add the Debian packages not yet installed to %s, e.g.\n'
            "  -e '{\"%s\": [%s]}'" % ('; '.join(said), setting, setting, ', '.join('"%s"' % p for p in left)))


_PIN = re.compile(r'Could not find a version that satisfies the requirement (\S+)(?: \(from versions: ([^)]*)\))?')


def pin_hint(lines):
    """The hint for a requirement the index does not have (pip's own words), or None."""
    for line in lines:
        found = _PIN.search(line)
        if not found:
            continue
        requirement, versions = found.group(1), (found.group(2) or '').strip()
        if not versions or versions == 'none':
            return ('Hint: the index has no installable version of %s at all: check the name (a typo, or a package '
                    'that was renamed or removed), that the hosts\' index or mirror carries it, and that it supports '
                    'this Python.' % requirement)
        newest = versions.split(',')[-1].strip()
        return ('Hint: the index has no version of %s that fits: it offers %s (the newest %s). The pin may be a '
                'typo, a release that was yanked or never published, or one that needs another Python; pin a version '
                'the index has.' % (requirement, _short(versions), newest))
    return None


def _short(versions, keep=8):
    items = [v.strip() for v in versions.split(',') if v.strip()]
    return ', '.join(items if len(items) <= keep else ['...'] + items[-keep:])
