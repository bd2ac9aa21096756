# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which CPython versions can really be installed: pyenv's definitions at the configured ref, and what
the mirror (or a tarball directory) holds, read on the controller at plan time.

python-build installs a version when it has a definition for it (pyenv's own, at the ref the hosts get,
or the operator's extra definitions, which come first) and can fetch the tarball the definition names:
from ``PYTHON_BUILD_MIRROR_URL/<sha256>``, from its cache (the pushed tarballs), or from python.org.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
import urllib.error
import urllib.request

from ansible_collections.pyfleet.deploy.plugins.module_utils.python_version import _vtuple

DEFINITIONS_DIR = 'plugins/python-build/share/python-build'
# CPython releases only: "3.13.5", not "3.13-dev", "3.14.0rc1", "3.13.5t" (free-threaded) or "pypy3.10-7.3.17"
_RELEASE_RE = re.compile(r'^\d+\.\d+\.\d+$')
# install_package "Python-3.13.5" "https://.../Python-3.13.5.tar.xz#<sha256>" ...
_PACKAGE_RE = re.compile(r'install_package\s+"Python-(\d+\.\d+\.\d+)"\s+"([^"#]+)(?:#([0-9a-f]{64}))?"')


def parse_definition(text):
    """The Python tarballs a definition names, in python-build's order of preference: [(filename, sha256)].
    (On a host with xz, python-build takes the first; the .tgz line is its fallback.)"""
    return [(m.group(2).rsplit('/', 1)[-1], m.group(3)) for m in _PACKAGE_RE.finditer(text)]


def discover_pyenv_checkout(environ=None):
    """The controller's pyenv checkout: $PYENV_ROOT, `pyenv root`, or ~/.pyenv; None when there is none."""
    environ = os.environ if environ is None else environ
    candidates = [environ.get('PYENV_ROOT')]
    if shutil.which('pyenv'):
        try:
            candidates.append(subprocess.run(['pyenv', 'root'], capture_output=True, text=True, timeout=10,
                                             check=False).stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    candidates.append(os.path.expanduser('~/.pyenv'))
    for path in candidates:
        if path and os.path.isdir(os.path.join(path, DEFINITIONS_DIR)):
            return path
    return None


def _from_dir(path):
    out = {}
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if _RELEASE_RE.match(name) and os.path.isfile(full):
            with open(full, 'r', errors='replace') as fh:
                out[name] = parse_definition(fh.read())
    return out


def _from_tar(fileobj=None, path=None):
    out = {}
    with tarfile.open(name=path, fileobj=fileobj, mode='r:*') as tar:
        for member in tar:
            parts = member.name.split('/')
            if member.isfile() and _RELEASE_RE.match(parts[-1]) and '/'.join(parts[-5:-1]) == DEFINITIONS_DIR:
                out[parts[-1]] = parse_definition(tar.extractfile(member).read().decode('utf-8', 'replace'))
    return out


def _git(checkout, *args):
    return subprocess.run(['git', '-C', checkout] + list(args), capture_output=True, timeout=60, check=False)


# the pyenv role's defaults: the one place that pins the pyenv the hosts clone (pyenv_git_version)
ROLE_DEFAULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'roles', 'pyenv', 'defaults',
                             'main.yml')


def pinned_ref(defaults=ROLE_DEFAULTS):
    """(pyenv_git_url, pyenv_git_version) as the pyenv role's defaults pin them, or ('', '')."""
    try:
        with open(defaults) as fh:
            text = fh.read()
    except OSError:
        return '', ''
    url = re.search(r'^pyenv_git_url:\s*"?([^"\s#]+)', text, re.M)
    ref = re.search(r'^pyenv_git_version:\s*"?([^"\s#]+)', text, re.M)
    return (url.group(1) if url else ''), (ref.group(1) if ref else '')


def archive_url(git_url, ref):
    """Where a host of git repositories serves a tarball of ``ref`` (GitHub, GitLab, Gitea), or None."""
    found = re.match(r'^https://(github\.com|gitlab\.com|codeberg\.org)/([^/]+)/([^/]+?)(?:\.git)?/?$', git_url or '')
    if not found or not ref:
        return None
    host, owner, name = found.groups()
    if host == 'github.com':
        return 'https://github.com/%s/%s/archive/%s.tar.gz' % (owner, name, ref)
    if host == 'gitlab.com':
        return 'https://gitlab.com/%s/%s/-/archive/%s/%s-%s.tar.gz' % (owner, name, ref, name, ref)
    return 'https://codeberg.org/%s/%s/archive/%s.tar.gz' % (owner, name, ref)


def fetch_definitions(git_url, ref, cache_dir, timeout=30, opener=urllib.request.urlopen):
    """The definitions of pyenv ``ref``, from a tarball of it the git host serves, kept in ``cache_dir`` (a ref's
    tarball is fetched once). (definitions, origin) or raise OSError/ValueError saying why not."""
    url = archive_url(git_url, ref)
    if url is None:
        raise ValueError('%s is not a git host pyfleet can fetch a tarball of %s from' % (git_url, ref or 'a ref'))
    path = os.path.join(cache_dir, 'pyenv-%s.tar.gz' % re.sub(r'[^A-Za-z0-9._-]+', '-', ref))
    if not os.path.isfile(path):
        os.makedirs(cache_dir, mode=0o700, exist_ok=True)
        with opener(url, timeout=timeout) as resp:     # noqa: S310 (the operator's pyenv_git_url)
            data = resp.read(64 * 1024 * 1024)
        tmp = path + '.%d.tmp' % os.getpid()
        with open(tmp, 'wb') as fh:
            fh.write(data)
        os.replace(tmp, path)
    try:
        defs = _from_tar(path=path)
    except tarfile.TarError as exc:
        os.unlink(path)
        raise ValueError('%s is not a tarball of pyenv: %s' % (url, exc))
    if not defs:
        raise ValueError('%s holds no python-build definitions' % url)
    return defs, 'pyenv %s (fetched from %s)' % (ref, url)


def pyenv_definitions(checkout=None, ref='', archive=None, git_url='', cache_dir=None, fetch=fetch_definitions):
    """(definitions {version: [(filename, sha256)]}, where they were read, [problems as (code, message, fix)]).

    Exactly the definitions the hosts get: from ``archive`` (a pyenv tarball, as the pyenv role's archive method
    ships it); else pyenv ``ref`` (the pyenv role's pyenv_git_version; empty: the ref the role pins), read from
    the controller's git ``checkout`` (its working tree only when it is at that ref's commit and has no git
    metadata), or fetched as a tarball of that ref from ``git_url``'s host (an execution environment has no
    checkout at all) into ``cache_dir``."""
    if archive:
        try:
            return _from_tar(path=archive), 'the pyenv archive %s' % archive, []
        except (OSError, tarfile.TarError) as exc:
            return {}, None, [('python-definitions-unreadable', 'The pyenv archive %s cannot be read: %s.' % (archive, exc),
                               'Point pyenv_archive_src at a tarball of a pyenv checkout (git archive HEAD).')]
    pinned_url, pinned = pinned_ref()
    ref = ref or pinned
    git_url = git_url or pinned_url
    problems = []
    if checkout and ref and _git(checkout, 'rev-parse', '--git-dir').returncode == 0:
        done = _git(checkout, 'archive', '--format=tar', ref, DEFINITIONS_DIR)
        if done.returncode == 0:
            return _from_tar(fileobj=io.BytesIO(done.stdout)), 'pyenv %s (%s)' % (ref, checkout), []
    # the checkout lacks the ref (or there is none): the ref itself, from its git host
    if ref and cache_dir:
        try:
            defs, origin = fetch(git_url, ref, cache_dir)
            return defs, origin, []
        except (OSError, ValueError, urllib.error.URLError, tarfile.TarError) as exc:
            problems.append(('python-definitions-ref-missing',
                             'pyfleet cannot read the python-build definitions of pyenv %s, the pyenv the hosts get: '
                             '%s%s.' % (ref, 'the checkout at %s does not have it, and ' % checkout if checkout else
                                        'there is no pyenv checkout on the controller, and ',
                                        'fetching it failed (%s)' % getattr(exc, 'reason', exc)),
                             'Give the controller a pyenv checkout that has %s ("git -C ~/.pyenv fetch --tags"), set '
                             'pyenv_archive_src to a tarball of it (pyenv_install_method: archive), or list the '
                             'versions in app_plan_available_versions.' % ref))
    if not checkout:
        return {}, None, problems or [('python-definitions-unreadable',
                                       'No pyenv checkout on the controller ($PYENV_ROOT, `pyenv root`, ~/.pyenv), so '
                                       'pyfleet cannot tell which CPython versions can be installed.',
                                       'Clone pyenv on the controller (git clone https://github.com/pyenv/pyenv '
                                       '~/.pyenv), set app_plan_pyenv_checkout, or list the versions in '
                                       'app_plan_available_versions.')]
    try:
        defs = _from_dir(os.path.join(checkout, DEFINITIONS_DIR))
    except OSError as exc:      # a bare repository, or not pyenv at all: a finding, not a crash
        return {}, None, problems + [('python-definitions-unreadable',
                                      'The pyenv checkout %s has no python-build definitions to read (%s): a bare '
                                      'repository, or not pyenv.' % (checkout, exc.strerror or exc),
                                      'Set app_plan_pyenv_checkout to a pyenv working tree, or list the versions in '
                                      'app_plan_available_versions.')]
    if ref and not problems:
        problems.append(('python-definitions-ref-missing',
                         'The pyenv checkout at %s does not have %s, the pyenv the hosts get; its working tree was read '
                         'instead.' % (checkout, ref),
                         'Run "git -C %s fetch --tags", or set app_plan_pyenv_checkout to a checkout that has %s.'
                         % (checkout, ref)))
    return defs, 'pyenv at %s' % checkout, problems


def mirror_listing(url, timeout=10):
    """The text of the mirror's index page (a directory listing), or raise OSError."""
    with urllib.request.urlopen(url.rstrip('/') + '/', timeout=timeout) as resp:   # noqa: S310 (the operator's URL)
        return resp.read(4 * 1024 * 1024).decode('utf-8', 'replace')


def installable(definitions, extra_definitions=None, mirror_url=None, tarballs_dir=None, listing=None, timeout=10):
    """{'versions': what can be installed, 'defined': what has a definition, 'fetch': how, 'problems': [...]}.

    A version is defined when pyenv or the operator's ``extra_definitions`` directory (read first, as
    python-build reads it) has a definition. It can be installed when its tarball can be fetched: a
    tarball of its name in ``tarballs_dir``; else, with ``mirror_url``, the first tarball's sha256 in
    the mirror's listing; else from python.org, which has every defined version.
    """
    defs = dict(definitions)
    problems = []
    if extra_definitions:
        try:
            defs.update(_from_dir(extra_definitions))
        except OSError as exc:
            problems.append(('python-definitions-unreadable', 'The definitions directory %s cannot be read: %s.'
                             % (extra_definitions, exc), 'Point pyenv_definitions_src at a directory of python-build '
                             'definitions, or leave it empty.'))
    defined = sorted(defs, key=_vtuple)
    if tarballs_dir:
        try:
            names = set(os.listdir(tarballs_dir))
        except OSError as exc:
            names = set()
            problems.append(('python-tarballs-unreadable', 'The tarball directory %s cannot be read: %s.' % (tarballs_dir, exc),
                             'Point pyenv_tarballs_src at a directory of Python-X.Y.Z.tgz / .tar.xz files.'))
        versions = [v for v in defined if any(f in names for f, dummy in defs[v])]
        return {'versions': versions, 'defined': defined, 'fetch': 'the tarballs in %s' % tarballs_dir, 'problems': problems}
    if mirror_url:
        if listing is None:
            try:
                listing = mirror_listing(mirror_url, timeout)
            except (OSError, ValueError, urllib.error.URLError) as exc:
                problems.append(('python-mirror-unreadable',
                                 'The mirror %s cannot be listed (%s), so pyfleet cannot tell what it holds; every '
                                 'version pyenv defines is taken as installable.' % (mirror_url, getattr(exc, 'reason', exc)),
                                 'Make the mirror answer a directory listing at its root, or list the versions in '
                                 'app_plan_available_versions.'))
                return {'versions': defined, 'defined': defined, 'fetch': 'the mirror %s (unlisted)' % mirror_url,
                        'problems': problems}
        # python-build asks the mirror for <sha256> of the definition's first tarball, nothing else
        versions = [v for v in defined if defs[v] and defs[v][0][1] and defs[v][0][1] in listing]
        return {'versions': versions, 'defined': defined, 'fetch': 'the mirror %s' % mirror_url, 'problems': problems}
    return {'versions': [v for v in defined if defs[v]], 'defined': defined, 'fetch': 'python.org', 'problems': problems}
