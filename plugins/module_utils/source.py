# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the app source: platform files as text, their misspellings, bounded walks, ignore files."""

from __future__ import annotations

import os
import re


# --------------------------------------------------------------------------
# Reading platform files
# --------------------------------------------------------------------------

def entry_is(entry, kind):
    """Whether a directory entry is a file (``kind`` 'file') or a directory ('dir'), following links; a link
    that loops or leads nowhere is neither (it is said as a finding of its own, never a crash)."""
    try:
        return entry.is_file() if kind == 'file' else entry.is_dir()
    except OSError:
        return False

def _looks_utf16(sample):
    """UTF-16 without a BOM: ASCII text has a NUL in (nearly) every other byte. A stray NUL in UTF-8 text is
    not that (it is a control character, which the reader of the file names)."""
    if len(sample) < 4:
        return False
    return any(half.count(0) * 4 >= len(half) * 3 for half in (sample[0::2], sample[1::2]))


def read_text(path, rel, findings):
    """Read a small platform file as text, or add a 'file-encoding' error and return None.

    CRLF is fine; a UTF-8 BOM, UTF-16 or bytes that are not UTF-8 are not,
    because the platforms we replace do not accept them either.
    """
    with open(path, 'rb') as fh:
        data = fh.read()
    resave = ('Re-save %s as UTF-8 without a BOM (in VS Code: "Save with Encoding" > "UTF-8"; '
              'in Notepad: "UTF-8", not "UTF-8 with BOM"; or run: '
              "iconv -f UTF-16 -t UTF-8 %s | sed '1s/^\\xEF\\xBB\\xBF//' > tmp && mv tmp %s)." % (rel, rel, rel))
    if data.startswith(b'\xef\xbb\xbf'):
        findings.add('file-encoding', '%s starts with a UTF-8 byte order mark (BOM).' % rel, resave, rel, 1)
        return None
    if data.startswith((b'\xff\xfe', b'\xfe\xff')) or _looks_utf16(data[:64]):
        findings.add('file-encoding', '%s is encoded as UTF-16, not UTF-8.' % rel, resave, rel, 1)
        return None
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b'\n') + 1
        findings.add('file-encoding', '%s is not valid UTF-8 (byte 0x%02x).' % (rel, data[exc.start]),
                     resave, rel, line)
        return None
    return text.replace('\r\n', '\n').replace('\r', '\n')


# --------------------------------------------------------------------------
# File names: the platform files and their common misspellings
# --------------------------------------------------------------------------
PLATFORM_FILES = {
    # normalised core -> the right name
    'requirements': 'requirements.txt',
    'runtime': 'runtime.txt',
    'pythonversion': '.python-version',
    'procfile': 'Procfile',
    'leanengine': 'leanengine.yaml',
}
# Extensions a misspelling may carry; any other extension (requirements.in,
# requirements-dev.txt's "-dev", Procfile.dev) is a different, legitimate file.
_MISSPELL_EXTS = ('', 'txt', 'text', 'yml', 'yaml', 'cfg', 'conf', 'ini')


def _edit_distance(a, b, limit=3):
    """Levenshtein distance, cut off above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def misspelling_of(name):
    """The platform file ``name`` is a misspelling of, or None.

    >>> misspelling_of('requirments.txt')
    'requirements.txt'
    """
    if name in PLATFORM_FILES.values():
        return None
    low = name.lower().lstrip('.')
    stem, dot, ext = low.rpartition('.')
    if not dot:
        stem, ext = low, ''
    if ext not in _MISSPELL_EXTS:
        return None
    core = re.sub(r'[^a-z0-9]', '', stem)
    if not core:
        return None
    for key, right in PLATFORM_FILES.items():
        if core == key:
            return right
        limit = 1 if len(key) < 8 else 2
        if len(core) >= 5 and _edit_distance(core, key, limit) <= limit:
            return right
    return None


# --------------------------------------------------------------------------
# The walk
# --------------------------------------------------------------------------
_SKIP_DIRS = {'.git', '.hg', '.svn', 'node_modules', '__pycache__', '.tox', '.nox', '.mypy_cache',
              '.pytest_cache', 'venv', '.venv', 'env', '.env', 'site-packages', 'static', 'staticfiles',
              'media', 'dist', 'build', '.eggs'}


def find_files_bounded(root, name, max_depth=3, limit_dirs=2000):
    """Paths (relative) of files called ``name`` at most ``max_depth`` directories deep, shallowest first.

    Only directory entries are listed, no file is read, and well-known bulky
    folders are skipped, so this stays fast on large trees.
    """
    found, frontier, seen = [], [''], 0
    for depth in range(max_depth + 1):
        nxt = []
        for rel in frontier:
            seen += 1
            if seen > limit_dirs:
                return found
            try:
                it = os.scandir(os.path.join(root, rel))
            except OSError:
                continue
            with it:
                for entry in it:
                    if entry.name == name and entry_is(entry, 'file'):
                        found.append(os.path.join(rel, entry.name))
                    elif depth < max_depth and entry.is_dir(follow_symlinks=False) and entry.name not in _SKIP_DIRS \
                            and not entry.name.startswith('.'):
                        nxt.append(os.path.join(rel, entry.name))
        if found:
            return sorted(found)
        frontier = sorted(nxt)
    return found


def read_ignore_file(path):
    """Patterns from a .slugignore / .leanignore (comments and blanks dropped)."""
    out = []
    try:
        with open(path, 'rb') as fh:
            text = fh.read().decode('utf-8', 'replace').lstrip('\ufeff')
    except OSError:
        return out
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith('#'):
            out.append(line)
    return out


ALWAYS_EXCLUDE = ['.git', '.hg', '.svn', '__pycache__', '*.pyc', '/.venv']


def _read_texts(root, names, findings):
    """{name: text} of platform files, or None when one is not plain UTF-8 (a finding says so)."""
    texts = {}
    for name in names:
        text = read_text(os.path.join(root, name), name, findings)
        if text is None:
            return None
        texts[name] = text
    return texts


def _add_problems(findings, problems):
    for code, message, fix, rel, line in problems:
        findings.add(code, message, fix, rel, line)
