#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: pyfleet_pack
short_description: Pack an app source into a reproducible release archive
description:
  - Packs the app source directory into a gzip tarball whose bytes depend only on the files' paths, contents
    and executable bits (sorted entries, no timestamps, no owners), leaving out what must not be shipped.
  - The release id is taken from the archive's sha256, so the same source always gives the same release and
    a rerun with no change is not a change.
  - Run it on the controller. The archive is written to O(dest) once and reused.
version_added: "0.1.0"
author: pyfleet contributors
options:
  src:
    description: The app source directory.
    type: path
    required: true
  dest:
    description: Directory for the archives (a controller cache).
    type: path
    required: true
  exclude:
    description:
      - Patterns not to ship, as in C(.slugignore) - a bare name matches at any depth, a pattern with a slash
        is anchored at the root, a trailing slash matches directories only, C(*) and C(?) are wildcards.
    type: list
    elements: str
    default: []
notes:
  - Supports check mode; the archive is still written to the controller cache, which is not a managed host.
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
'''

EXAMPLES = r'''
- name: Pack the release
  pyfleet_pack:
    src: "{{ app_src }}"
    dest: "{{ playbook_dir }}/.cache/releases"
    exclude: "{{ app_plan_result.ship_exclude }}"
  delegate_to: localhost
  register: pack
'''

RETURN = r'''
id:
  description: The release id, the first 12 hex digits of the archive's sha256.
  returned: success
  type: str
  sample: 3f2a9c0d1b7e
path:
  description: The archive on the controller.
  returned: success
  type: str
sha256:
  description: The archive's sha256.
  returned: success
  type: str
files:
  description: How many files were packed.
  returned: success
  type: int
'''

import fnmatch
import gzip
import hashlib
import io
import os
import tarfile

from ansible.module_utils.basic import AnsibleModule


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


def pack(src, patterns):
    """The archive as bytes, and the number of files in it."""
    raw = io.BytesIO()
    count = 0
    with tarfile.open(fileobj=raw, mode='w', format=tarfile.PAX_FORMAT) as tar:
        for rel, full, is_dir in walk(src, patterns):
            info = tarfile.TarInfo(rel)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ''
            if os.path.islink(full):
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(full)
                info.mode = 0o777
                tar.addfile(info)
            elif is_dir:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                st = os.stat(full)
                info.size = st.st_size
                info.mode = 0o755 if st.st_mode & 0o111 else 0o644
                with open(full, 'rb') as fh:
                    tar.addfile(info, fh)
                count += 1
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode='wb', mtime=0, filename='') as gz:
        gz.write(raw.getvalue())
    return out.getvalue(), count


def main():
    module = AnsibleModule(
        argument_spec=dict(src=dict(type='path', required=True), dest=dict(type='path', required=True),
                           exclude=dict(type='list', elements='str', default=[])),
        supports_check_mode=True,
    )
    src, dest = module.params['src'], module.params['dest']
    if not os.path.isdir(src):
        module.fail_json(msg='%s is not a directory' % src)
    data, count = pack(src, module.params['exclude'])
    digest = hashlib.sha256(data).hexdigest()
    rid = digest[:12]
    path = os.path.join(dest, '%s.tar.gz' % rid)
    changed = False
    if not os.path.isfile(path):
        os.makedirs(dest, exist_ok=True)
        tmp = path + '.tmp'
        with open(tmp, 'wb') as fh:
            fh.write(data)
        os.rename(tmp, path)
        changed = True
    # a controller cache, not a managed host: reported, but never a change of the deploy
    module.exit_json(changed=False, created=changed, id=rid, path=path, sha256=digest, files=count)


if __name__ == '__main__':
    main()
