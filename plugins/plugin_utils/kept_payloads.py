# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pyfleet module's AnsiballZ payload, kept from one run to the next.

ansible-core builds a module's payload (the module and every module_utils file it imports, zipped) once per run,
in the run's own temporary directory (``C.DEFAULT_LOCAL_TMP/ansiballz_cache``), which goes when the run ends. The
build compiles each of some 70 files: 0.15 to 0.25 s a module here, and the code path's four host calls are four
pyfleet modules, so a code change paid about 0.7 s of it every run, a rerun 0.16 s.

``keep`` copies the payload ansible-core built into ``~/.cache/pyfleet/ansiballz`` with a manifest of the controller
files it holds (path, size, modification time); ``seed`` puts it back in a later run's cache before the module
runs, only when every one of those files is the same file, unchanged, and the same ansible-core on the same Python
made it. Otherwise (a file changed, another checkout, another ansible-core, a cache file ansible-core names
otherwise) nothing is put there and ansible-core builds the payload as always. The payload is ansible-core's own
file, copied as it is; a cache that cannot be read or written is left aside.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
import io
import json
import os
import pickle
import sys
import zipfile

import ansible
from ansible import constants as C
from ansible.plugins.action import ActionBase

MANIFEST = '.manifest.json'


def kept_dir(home=None, origin=''):
    """Where payloads are kept: one folder per ansible-core (its version and place), Python and ``origin`` (the
    collection's own place: two checkouts keep theirs side by side, not in turns)."""
    tag = hashlib.sha256(('%s %s %s %s' % (ansible.__version__, os.path.dirname(ansible.__file__), sys.version, origin))
                         .encode()).hexdigest()[:16]
    return os.path.join(home or os.path.expanduser('~/.cache/pyfleet'), 'ansiballz', tag)


def run_dir():
    """This run's own AnsiballZ cache (ansible-core's)."""
    return os.path.join(C.DEFAULT_LOCAL_TMP, 'ansiballz_cache')


def module_fqn(name):
    """The name ansible-core gives a collection module's payload: ``ns.coll.mod`` ->
    ``ansible_collections.ns.coll.plugins.modules.mod``; '' for a name that is not a module's FQCN."""
    parts = name.split('.')
    if len(parts) != 3 or parts[0] == 'ansible':
        return ''
    return 'ansible_collections.%s.%s.plugins.modules.%s' % tuple(parts)


def source(name):
    """The controller file a payload's member ``name`` was made from, or None (a package ansible-core made up)."""
    parts = name.split('/')
    if parts[0] == 'ansible' and len(parts) > 1:
        return os.path.join(os.path.dirname(ansible.__file__), *parts[1:])
    if parts[0] == 'ansible_collections' and len(parts) > 3:
        root = _collection_root(parts[1], parts[2])
        return os.path.join(root, *parts[3:]) if root else None
    return None


@functools.lru_cache(maxsize=None)
def _collection_root(namespace, collection):
    try:
        spec = importlib.util.find_spec('ansible_collections.%s.%s' % (namespace, collection))
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def _stat(path):
    try:
        st = os.stat(path)
    except (OSError, TypeError):
        return None
    return [st.st_size, st.st_mtime_ns]


def manifest(cache_file, where=source):
    """Each member of an ansible-core cache file's payload, with its controller file and that file's stat."""
    with open(cache_file, 'rb') as fh:
        cached = pickle.load(fh)  # nosec - ansible-core's own cache file, from this user's own directories
    names = zipfile.ZipFile(io.BytesIO(base64.b64decode(cached.zip_data))).namelist()
    return {name: _held(name, where) for name in names}


def _held(member, where):
    """What a manifest holds of a payload's member: its controller file, and that file's size and mtime."""
    path = where(member)
    return [path, _stat(path)]


def _files(directory, fqn):
    try:
        found = os.listdir(directory)
    except OSError:
        return []
    return sorted(f for f in found if f.startswith(fqn + '-') and not f.endswith(('.lock', '-part', MANIFEST)))


def _unchanged(kept_file, where):
    """Whether the payload kept in ``kept_file`` was made from the files that are there now, as they are."""
    try:
        with open(kept_file + MANIFEST) as fh:
            held = json.load(fh)
    except (OSError, ValueError):
        return False
    return isinstance(held, dict) and bool(held) and all(_held(member, where) == was for member, was in held.items())


def seed(fqn, run=None, kept=None, where=source):
    """Put each kept payload of ``fqn`` whose files are all unchanged into this run's cache; the names put there."""
    run, kept = run or run_dir(), kept or kept_dir()
    seeded = []
    for name in _files(kept, fqn):
        target = os.path.join(run, name)
        if os.path.exists(target) or not _unchanged(os.path.join(kept, name), where):
            continue
        try:
            os.makedirs(run, exist_ok=True)
            _copy(os.path.join(kept, name), target)
        except OSError:
            continue
        seeded.append(name)
    return seeded


def keep(fqn, run=None, kept=None, where=source):
    """Keep each payload of ``fqn`` in this run's cache that is not kept yet, with its manifest; the names kept."""
    run, kept = run or run_dir(), kept or kept_dir()
    done = []
    for name in _files(run, fqn):
        path = os.path.join(kept, name)
        if _unchanged(path, where):
            continue
        try:
            held = manifest(os.path.join(run, name), where)
            built = os.stat(os.path.join(run, name)).st_mtime_ns
            if any(st and st[1] > built for _, st in held.values()):
                continue    # a file changed after this run built the payload: the payload may not be what it holds
            os.makedirs(kept, mode=0o700, exist_ok=True)
            _copy(os.path.join(run, name), path)
            _put(path + MANIFEST, json.dumps(held).encode())
        except (OSError, ValueError, TypeError, AttributeError, EOFError, pickle.UnpicklingError,
                zipfile.BadZipFile):
            continue
        done.append(name)
    return done


def _copy(src, dest):
    """``src`` to ``dest``, whole or not at all."""
    with open(src, 'rb') as fh:
        _put(dest, fh.read())


def _put(dest, data):
    """``data`` in ``dest``, whole or not at all (written beside it, then renamed)."""
    tmp = '%s.%d-part' % (dest, os.getpid())
    with open(tmp, 'wb') as out:
        out.write(data)
    os.replace(tmp, dest)


class KeptPayloads(ActionBase):
    """An action whose module's payload is kept from run to run (``seed`` before it runs, ``keep`` after)."""

    def _execute_module(self, module_name=None, *args, **kwargs):
        fqn = module_fqn(module_name or self._task.action)
        if not fqn:
            return super()._execute_module(module_name, *args, **kwargs)
        kept = kept_dir(origin=_collection_root(*fqn.split('.')[1:3]) or '')
        seeded = seed(fqn, kept=kept)
        try:
            return super()._execute_module(module_name, *args, **kwargs)
        finally:
            if not seeded:      # (a payload put there from the kept one is kept already)
                keep(fqn, kept=kept)
