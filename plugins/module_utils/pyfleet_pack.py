# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pyfleet's release archive: the rules of the pyfleet_pack module and action plugin.

Plain Python (no Ansible imports) so that the module, the action plugin and
the unit tests share one implementation.

An archive holds, in this order:

1. the app's files, sorted, with no timestamps or owners, so the same source
   always gives the same bytes;
2. ``.pyfleet-release``, a one-line file with the release id, for the app and
   for operators;
3. the links (e.g. ``.venv`` -> the virtualenv), last of all. tar extracts in
   order, so a host that has the last link has the whole release.

The release id is the sha256 of (1) and of the links, cut to 12 hex digits:
the same source with the same links is the same release.
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import io
import json
import os
import tarfile

MARKER = '.pyfleet-release'

ARGUMENT_SPEC = dict(
    src=dict(type='path', required=True),
    dest=dict(type='path', required=True),
    exclude=dict(type='list', elements='str', default=[]),
    links=dict(type='dict', default={}),
)


def excluded(rel, is_dir, patterns):
    """Does a .slugignore-style pattern list exclude ``rel`` (a '/'-separated relative path)?"""
    name = rel.rsplit('/', 1)[-1]
    for pat in patterns:
        dir_only = pat.endswith('/')
        p = pat.rstrip('/')
        if not p or (dir_only and not is_dir):
            continue
        if p.startswith('/') or '/' in p:
            if fnmatch.fnmatchcase(rel, p.lstrip('/')):
                return True
        elif fnmatch.fnmatchcase(name, p):
            return True
    return False


def walk(src, patterns):
    """Sorted (relative path, absolute path, is_dir) entries that are shipped."""
    out = []
    for dirpath, dirnames, filenames in os.walk(src):
        rel_dir = os.path.relpath(dirpath, src).replace(os.sep, '/')
        rel_dir = '' if rel_dir == '.' else rel_dir + '/'
        keep = []
        for d in sorted(dirnames):
            full = os.path.join(dirpath, d)
            if excluded(rel_dir + d, True, patterns):
                continue
            if os.path.islink(full):
                out.append((rel_dir + d, full, False))
                continue
            keep.append(d)
            out.append((rel_dir + d, full, True))
        dirnames[:] = keep
        for f in sorted(filenames):
            if not excluded(rel_dir + f, False, patterns):
                out.append((rel_dir + f, os.path.join(dirpath, f), False))
    out.sort(key=lambda e: e[0])
    return out


def _info(name, kind, mode=0o644, size=0, linkname=''):
    info = tarfile.TarInfo(name)
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ''
    info.type = kind
    info.mode = mode
    info.size = size
    info.linkname = linkname
    return info


def pack(src, patterns, links=None):
    """The archive as bytes, the release id and the number of files from ``src``.

    ``links`` maps names at the release's root to link targets. Those names and
    the marker are reserved: a file of the same name in ``src`` is not shipped.
    """
    links = dict(links or {})
    reserved = ['/' + MARKER] + ['/' + name for name in links]
    raw = io.BytesIO()
    count = 0
    tar = tarfile.open(fileobj=raw, mode='w', format=tarfile.PAX_FORMAT)
    for rel, full, is_dir in walk(src, list(patterns) + reserved):
        if os.path.islink(full):
            tar.addfile(_info(rel, tarfile.SYMTYPE, 0o777, linkname=os.readlink(full)))
        elif is_dir:
            tar.addfile(_info(rel, tarfile.DIRTYPE, 0o755))
        else:
            st = os.stat(full)
            with open(full, 'rb') as fh:
                tar.addfile(_info(rel, tarfile.REGTYPE, 0o755 if st.st_mode & 0o111 else 0o644, st.st_size), fh)
            count += 1
    digest = hashlib.sha256(raw.getvalue())
    digest.update(json.dumps(links, sort_keys=True).encode())
    rid = digest.hexdigest()[:12]
    line = (rid + '\n').encode()
    tar.addfile(_info(MARKER, tarfile.REGTYPE, 0o644, len(line)), io.BytesIO(line))
    for name in sorted(links):
        tar.addfile(_info(name, tarfile.SYMTYPE, 0o777, linkname=links[name]))
    tar.close()
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode='wb', mtime=0, filename='') as gz:
        gz.write(raw.getvalue())
    return out.getvalue(), rid, count


def check_links(links):
    """Error text for link names that are not plain names at the release's root, else None."""
    bad = [n for n in links if not n or '/' in n or n in ('.', '..', MARKER)]
    if bad:
        return 'links: %s must be plain names at the release root (not %s)' % (', '.join(sorted(bad)), MARKER)
    return None


def pack_release(src, dest, exclude=(), links=None):
    """Pack ``src`` into ``dest``/<id>.tar.gz once; return the module's result (without ``changed``)."""
    if not os.path.isdir(src):
        raise ValueError('%s is not a directory' % src)
    data, rid, count = pack(src, exclude, links)
    path = os.path.join(dest, '%s.tar.gz' % rid)
    created = False
    if not os.path.isfile(path):
        os.makedirs(dest, exist_ok=True)
        tmp = '%s.%d.tmp' % (path, os.getpid())
        with open(tmp, 'wb') as fh:
            fh.write(data)
        os.rename(tmp, path)
        created = True
    return dict(created=created, id=rid, path=path, sha256=hashlib.sha256(data).hexdigest(), files=count)


def run_task(p):
    """The task's result for validated parameters ``p``, with ``failed``/``msg`` on bad input.

    The archive cache is on the controller, not on a managed host: writing it is
    reported as ``created``, never as a change of the deploy.
    """
    error = check_links(p['links'])
    if error:
        return dict(failed=True, msg=error)
    try:
        return dict(pack_release(p['src'], p['dest'], p['exclude'], p['links']), changed=False)
    except (OSError, ValueError) as exc:
        return dict(failed=True, msg='pyfleet_pack: %s' % exc)
