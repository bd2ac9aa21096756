# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pyfleet's release archive: the rules of the pyfleet.deploy.pack module (its action plugin runs them).

Plain Python (no Ansible imports) so that the module, the action plugin and
the unit tests share one implementation.

An archive holds, in this order:

1. the app's files, sorted, with no timestamps or owners, so the same source
   always gives the same bytes; nothing is readable by other users, private
   files stay private, and no link leads out of the source (see walk);
2. ``.pyfleet-release``, a one-line file with the release id, for the app and
   for operators;
3. the links (e.g. ``.venv`` -> the virtualenv), last of all. tar extracts in
   order, so a host that has the last link has the whole release.

The release id is the sha256 of (1) and of the links, cut to 12 hex digits:
the same source with the same links is the same release.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import errno
import os
import re
import stat
import tarfile

try:  # .gitignore's pattern semantics (ansible-lint depends on it too)
    import pathspec
except ImportError:  # pragma: no cover - a requirement of pyfleet's controller
    pathspec = None

MARKER = '.pyfleet-release'

ARGUMENT_SPEC = dict(
    src=dict(type='path', required=True),
    dest=dict(type='path', required=True),
    exclude=dict(type='list', elements='str', default=[]),
    links=dict(type='dict', default={}),
    keep=dict(type='int', default=0),
)


def compile_patterns(patterns):
    """A matcher for .slugignore / .leanignore patterns, with .gitignore's semantics (pathspec's
    GitIgnoreSpec): a pattern without a slash matches at any depth; one with a slash (not at its end) is
    anchored at the root; "*" never crosses a "/" ("docs/*.md" keeps docs/a/b.md), "**" does; a trailing
    slash matches directories only; "!" re-includes."""
    if pathspec is None:
        raise ValueError('pyfleet needs the Python library pathspec on the controller to read .slugignore '
                         '(pip install pathspec)')
    spec = pathspec.GitIgnoreSpec.from_lines(list(patterns))
    if any(p.include is False for p in spec.patterns):
        return spec   # "!" re-includes: gitignore's order of patterns matters
    return _AnyOf(spec)


class _AnyOf(object):
    """The same answers as a GitIgnoreSpec without "!" patterns (a path is excluded when any pattern
    matches it), from one regular expression: a large tree is walked an order of magnitude faster."""

    def __init__(self, spec):
        regexes = [p.regex.pattern.replace('(?P<ps_d>', '(?:') for p in spec.patterns if p.include]
        self._re = re.compile('|'.join('(?:%s)' % r for r in regexes)) if regexes else None

    def match_file(self, path):
        return bool(self._re and self._re.match(path))


def excluded(rel, is_dir, patterns):
    """Does a pattern list (or a compiled matcher) exclude ``rel``, a '/'-separated relative path?"""
    spec = patterns if hasattr(patterns, 'match_file') else compile_patterns(patterns)
    return spec.match_file(rel + '/' if is_dir else rel)


def loops(path):
    """Whether the link at ``path`` leads back to itself, through any chain of links."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def link_problem(root, rel):
    """Why the link at ``rel`` cannot be shipped (it leads out of ``root``), or None.

    ``root`` must be a real path (no link in it). The link's whole chain is resolved, so a link to a link
    that leaves the tree is caught too.
    """
    full = os.path.join(root, rel)
    if loops(full):
        return None
    target = os.path.realpath(full)
    if target != root and not target.startswith(root + os.sep):
        return '%s is a link to %s, outside the app source' % (rel, os.readlink(full))
    return None


def shipped_link(root, rel):
    """The link text to ship for the in-tree link at ``rel``: relative to the link, as resolved on the controller.

    An absolute link into the tree (made on a developer's machine) would point nowhere on the host.
    """
    full = os.path.join(root, rel)
    return os.path.relpath(os.path.realpath(full), os.path.dirname(full))


def walk(src, patterns):
    """Sorted (relative path, absolute path, kind) entries that are shipped; kind is 'dir', 'file', 'link'
    or 'other' (a FIFO, socket or device, which is never shipped)."""
    out = []
    patterns = compile_patterns(patterns)
    for dirpath, dirnames, filenames in os.walk(src):
        rel_dir = os.path.relpath(dirpath, src).replace(os.sep, '/')
        rel_dir = '' if rel_dir == '.' else rel_dir + '/'
        keep = []
        for d in sorted(dirnames):
            full = os.path.join(dirpath, d)
            if excluded(rel_dir + d, True, patterns):
                continue
            if os.path.islink(full):
                out.append((rel_dir + d, full, 'link'))
                continue
            keep.append(d)
            out.append((rel_dir + d, full, 'dir'))
        dirnames[:] = keep
        for f in sorted(filenames):
            if not excluded(rel_dir + f, False, patterns):
                full = os.path.join(dirpath, f)
                st = os.lstat(full)
                kind = 'link' if stat.S_ISLNK(st.st_mode) else 'file' if stat.S_ISREG(st.st_mode) else 'other'
                out.append((rel_dir + f, full, kind))
    out.sort(key=lambda e: e[0])
    return out


def tree_problems(src, patterns):
    """What in the shipped part of ``src`` cannot be shipped safely: [(relative path, message, fix)].

    Fast on large trees: the directory entries' types say which are links or special files (no stat),
    and only directories and those entries are matched against the patterns.
    """
    root = os.path.realpath(src)
    spec = compile_patterns(patterns)
    out = []
    pending = ['']
    while pending:
        rel_dir = pending.pop()
        try:
            entries = list(os.scandir(os.path.join(root, rel_dir)))
        except OSError:
            continue
        for entry in entries:
            rel = rel_dir + entry.name
            if entry.is_dir(follow_symlinks=False):
                if not spec.match_file(rel + '/'):
                    pending.append(rel + '/')
            elif entry.is_symlink() and loops(os.path.join(root, rel)):
                if not spec.match_file(rel):
                    out.append((rel, '%s is a link that leads back to itself (a loop of links: %s -> %s); nothing can '
                                     'read it, on the controller or on the host.' % (rel, rel, os.readlink(
                                         os.path.join(root, rel))),
                                'Remove the link (rm %s), or point it at a file in the app, or add it to .slugignore.'
                                % rel))
            elif entry.is_symlink():
                problem = link_problem(root, rel)
                if problem and not spec.match_file(rel):
                    out.append((rel, problem + '. The host would read whatever that path holds there.',
                                'Copy the file into the app (cp --remove-destination "$(readlink -f %s)" %s), or '
                                'remove the link, or add it to .slugignore.' % (rel, rel)))
            elif not entry.is_file(follow_symlinks=False) and not spec.match_file(rel):
                out.append((rel, '%s is not a regular file, directory or link (a FIFO, socket or device).' % rel,
                            'Remove it from the app source, or add it to .slugignore.'))
    return sorted(out)


def shipped_mode(st_mode, is_dir):
    """The mode a file or directory is shipped with: nothing for other users; private stays private.

    Owner and group (the app's user and group on the host) may read; a directory or an executable file may
    also be entered or run. What the source keeps from its group and others (e.g. a 0600 .env or key) stays
    0600 (0700 for a directory or an executable).
    """
    private = not st_mode & 0o044
    run = is_dir or bool(st_mode & 0o100)
    return (0o700 if run else 0o600) if private else (0o750 if run else 0o640)


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
    root = os.path.realpath(src)
    raw = io.BytesIO()
    count = 0
    tar = tarfile.open(fileobj=raw, mode='w', format=tarfile.PAX_FORMAT)
    for rel, full, kind in walk(root, list(patterns) + reserved):
        if kind == 'link':
            problem = link_problem(root, rel)
            if problem:   # the plan refuses these first; never follow a link out of the tree
                raise ValueError(problem)
            tar.addfile(_info(rel, tarfile.SYMTYPE, 0o777, linkname=shipped_link(root, rel)))
        elif kind == 'dir':
            tar.addfile(_info(rel, tarfile.DIRTYPE, shipped_mode(os.stat(full).st_mode, True)))
        elif kind == 'file':
            with open(full, 'rb') as fh:
                st = os.fstat(fh.fileno())
                tar.addfile(_info(rel, tarfile.REGTYPE, shipped_mode(st.st_mode, False), st.st_size), fh)
            count += 1
        else:
            raise ValueError('%s is not a regular file, directory or link' % rel)
    digest = hashlib.sha256(raw.getvalue())
    digest.update(json.dumps(links, sort_keys=True).encode())
    rid = digest.hexdigest()[:12]
    line = (rid + '\n').encode()
    tar.addfile(_info(MARKER, tarfile.REGTYPE, 0o640, len(line)), io.BytesIO(line))
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


ARCHIVE_RE = re.compile(r'^[0-9a-f]{12}\.tar\.gz$')


def pack_release(src, dest, exclude=(), links=None, keep=0):
    """Pack ``src`` into ``dest``/<id>.tar.gz once; return the module's result (without ``changed``).

    ``dest`` is made private (0700) and each archive is 0600: a release may hold the app's private files.
    With ``keep``, only the ``keep`` most recently packed archives stay; the others are removed (``pruned``).
    """
    if not os.path.isdir(src):
        raise ValueError('%s is not a directory' % src)
    data, rid, count = pack(src, exclude, links)
    os.makedirs(dest, mode=0o700, exist_ok=True)
    if stat.S_IMODE(os.stat(dest).st_mode) != 0o700:
        os.chmod(dest, 0o700)
    path = os.path.join(dest, '%s.tar.gz' % rid)
    created = False
    if os.path.isfile(path):
        os.utime(path)   # recently packed: kept by the pruning below
    else:
        tmp = '%s.%d.tmp' % (path, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'wb') as fh:
            fh.write(data)
        os.rename(tmp, path)
        created = True
    pruned = []
    if keep > 0:
        archives = sorted((e for e in os.scandir(dest) if ARCHIVE_RE.match(e.name) and e.path != path),
                          key=lambda e: e.stat().st_mtime, reverse=True)
        for entry in archives[keep - 1:]:
            os.unlink(entry.path)
            pruned.append(entry.name)
    return dict(created=created, id=rid, path=path, sha256=hashlib.sha256(data).hexdigest(), files=count,
                pruned=sorted(pruned))


def run_task(p):
    """The task's result for validated parameters ``p``, with ``failed``/``msg`` on bad input.

    The archive cache is on the controller, not on a managed host: writing it is
    reported as ``created``, never as a change of the deploy.
    """
    error = check_links(p['links'])
    if error:
        return dict(failed=True, msg=error)
    try:
        return dict(pack_release(p['src'], p['dest'], p['exclude'], p['links'], p['keep']), changed=False)
    except (OSError, ValueError) as exc:
        return dict(failed=True, msg='pyfleet.deploy.pack: %s' % exc)
