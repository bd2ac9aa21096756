#!/usr/bin/env python3
"""A CPython source mirror for pyenv, made from Debian's source packages.

python.org is out of reach here, but Debian's orig tarballs are upstream CPython byte for byte. This tool
fetches them with apt (a private apt state: the controller's own sources and lists are not touched), checks
them against the signed Sources index (apt does), and lays them out the way python-build's
PYTHON_BUILD_MIRROR_URL expects: one file per sha256, plus readable names and an index.

Where pyenv's own definition asks for another file (3.11.2: pyenv prefers the .tar.xz, Debian ships the
.tgz) or has no definition at all, a definition that names the mirror's file and checksum is written to
DIR/definitions, for PYTHON_BUILD_DEFINITIONS.

    cpython_mirror.py build DIR [--release bookworm --release trixie] [--pyenv-root PATH]
    cpython_mirror.py serve DIR --bind ADDR --port N    (what the test bed runs)
"""
from __future__ import annotations

import argparse
import fcntl
import glob
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Debian release -> the CPython source packages it ships (upstream tarballs inside).
RELEASE_SOURCES = {'bookworm': ['python3.11'], 'trixie': ['python3.13'], 'sid': ['python3.13', 'python3.14']}
DEFAULT_RELEASES = ['bookworm', 'trixie']
MIRROR = os.environ.get('PYFLEET_DEBIAN_MIRROR', 'http://deb.debian.org/debian')


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def fetch_orig_tarballs(releases, workdir):
    """apt-get source --download-only with a private apt state; returns the orig tarball paths."""
    lists = os.path.join(workdir, 'lists')
    os.makedirs(os.path.join(lists, 'partial'), exist_ok=True)
    os.makedirs(os.path.join(workdir, 'cache', 'archives', 'partial'), exist_ok=True)
    src = os.path.join(workdir, 'sources.list')
    with open(src, 'w') as fh:
        for rel in releases:
            fh.write('deb-src %s %s main\n' % (MIRROR, rel))
    opts = ['-o', 'Dir::Etc::SourceList=' + src, '-o', 'Dir::Etc::SourceParts=/dev/null',
            '-o', 'Dir::State::Lists=' + lists, '-o', 'Dir::Cache=' + os.path.join(workdir, 'cache'),
            '-o', 'APT::Get::List-Cleanup=0', '-o', 'Debug::NoLocking=1']
    subprocess.run(['apt-get', '-qq'] + opts + ['update'], check=True)
    out = []
    dl = os.path.join(workdir, 'dl')
    os.makedirs(dl, exist_ok=True)
    for rel in releases:
        got = 0
        for pkg in RELEASE_SOURCES[rel]:   # a release may have dropped one of these: take what it has
            res = subprocess.run(['apt-get', '-qq'] + opts + ['source', '--download-only', '%s/%s' % (pkg, rel)],
                                 cwd=dl, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            got += res.returncode == 0
        if not got:
            raise SystemExit('%s has none of the source packages %s' % (rel, ', '.join(RELEASE_SOURCES[rel])))
    for path in sorted(glob.glob(os.path.join(dl, '*.orig.tar.*'))):
        if not path.endswith('.asc'):
            out.append(path)
    return out


def official_definition(pyenv_root, version):
    """pyenv's own definition for ``version``, else the newest earlier patch of the same minor."""
    share = os.path.join(pyenv_root, 'plugins', 'python-build', 'share', 'python-build')
    exact = os.path.join(share, version)
    if os.path.isfile(exact):
        return exact, True
    minor = '.'.join(version.split('.')[:2])
    cands = []
    for name in os.listdir(share):
        m = re.match(r'^%s\.(\d+)$' % re.escape(minor), name)
        if m:
            cands.append((int(m.group(1)), name))
    if not cands:
        raise SystemExit('no pyenv definition for %s or any %s.x to base one on' % (version, minor))
    return os.path.join(share, max(cands)[1]), False


def make_definition(template_text, version, filename, checksum):
    """Replace the Python install_package line(s) (and their xz/tgz if-else) with one for the mirror's file."""
    lines = template_text.splitlines()
    py_re = re.compile(r'^\s*install_package "Python-[^"]+" "[^"]+" (.*)$')
    steps = None
    for line in lines:
        m = py_re.match(line)
        if m:
            steps = m.group(1)
            break
    if steps is None:
        raise SystemExit('template definition has no Python install_package line')
    new = 'install_package "Python-%s" "https://www.python.org/ftp/python/%s/%s#%s" %s' % (
        version, version, filename, checksum, steps)
    out, i, placed = [], 0, False
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith('if has_tar_xz_support'):
            j = i
            while j < len(lines) and lines[j].strip() != 'fi':
                j += 1
            block = lines[i:j + 1]
            if any(py_re.match(b) for b in block):
                if not placed:
                    out.append(new)
                    placed = True
                i = j + 1
                continue
        if py_re.match(line):
            if not placed:
                out.append(new)
                placed = True
            i += 1
            continue
        out.append(line)
        i += 1
    return '\n'.join(out) + '\n'


def build(out_dir, releases, pyenv_root):
    """Build (or reuse) the mirror in ``out_dir``; test beds that come up at once build it once, in turn."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, '.lock'), 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(out_dir, releases, pyenv_root)


def _build(out_dir, releases, pyenv_root):
    index_path = os.path.join(out_dir, 'index.json')
    want = {'releases': sorted(releases), 'mirror': MIRROR}
    if os.path.isfile(index_path):
        with open(index_path) as fh:
            index = json.load(fh)
        if index.get('inputs') == want and all(os.path.isfile(os.path.join(out_dir, v['file'])) for v in index['versions']):
            print(json.dumps(index))
            return index
    work = tempfile.mkdtemp(prefix='pyfleet-cpython-')
    try:
        versions = []
        defs = os.path.join(out_dir, 'definitions')
        os.makedirs(defs, exist_ok=True)
        for path in fetch_orig_tarballs(releases, work):
            m = re.match(r'^python\d\.\d+_(\d+\.\d+\.\d+)\.orig\.tar\.(gz|xz)$', os.path.basename(path))
            if not m:
                continue
            version, comp = m.group(1), m.group(2)
            filename = 'Python-%s.%s' % (version, 'tgz' if comp == 'gz' else 'tar.xz')
            checksum = sha256(path)
            dest = os.path.join(out_dir, filename)
            shutil.copyfile(path, dest)
            if os.path.lexists(os.path.join(out_dir, checksum)):
                os.unlink(os.path.join(out_dir, checksum))
            os.link(dest, os.path.join(out_dir, checksum))
            template, exact = official_definition(pyenv_root, version)
            with open(template) as fh:
                text = fh.read()
            entry = {'version': version, 'file': filename, 'sha256': checksum, 'definition': None}
            # python-build takes the first Python line on a host with xz (the .tar.xz one)
            first = next((l for l in text.splitlines() if 'install_package "Python-' in l), '')
            if not (exact and checksum in first):
                with open(os.path.join(defs, version), 'w') as fh:
                    fh.write(make_definition(text, version, filename, checksum))
                entry['definition'] = 'definitions/%s' % version
            versions.append(entry)
        index = {'inputs': want, 'versions': versions}
        with open(index_path + '.tmp', 'w') as fh:
            json.dump(index, fh, indent=2)
        os.replace(index_path + '.tmp', index_path)
        print(json.dumps(index))
        return index
    finally:
        shutil.rmtree(work, ignore_errors=True)


def serve(directory, bind, port):
    handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(*a, directory=directory, **kw)  # noqa: E731
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    with http.server.ThreadingHTTPServer((bind, port), handler) as httpd:
        httpd.serve_forever()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    b = sub.add_parser('build')
    b.add_argument('dir')
    b.add_argument('--release', action='append', choices=sorted(RELEASE_SOURCES))
    b.add_argument('--pyenv-root', default=os.environ.get('PYENV_ROOT') or subprocess.run(
        ['pyenv', 'root'], capture_output=True, text=True).stdout.strip() or os.path.expanduser('~/.pyenv'))
    s = sub.add_parser('serve')
    s.add_argument('dir')
    s.add_argument('--bind', required=True)
    s.add_argument('--port', type=int, required=True)
    args = ap.parse_args(argv)
    if args.cmd == 'build':
        build(args.dir, args.release or DEFAULT_RELEASES, args.pyenv_root)
    else:
        serve(args.dir, args.bind, args.port)
    return 0


if __name__ == '__main__':
    sys.exit(main())
