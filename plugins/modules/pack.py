#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: pack
short_description: Pack an app source into a reproducible release archive
description:
  - Packs the app source directory into a gzip tarball whose bytes depend only on the files' paths, contents
    and modes (sorted entries, no timestamps, no owners), leaving out what must not be shipped.
  - Nothing is shipped readable by other users. Files are 0640 (0750 when executable) and directories 0750; a
    file or directory that the source keeps from its group and others (a 0600 C(.env) or key) stays 0600 (0700).
  - Links are shipped as links, relative to themselves. A link that leads out of O(src) (to C(/etc/shadow), or
    to another app's files) is never followed; the task fails and names it (and any FIFO, socket or device).
  - The release id is the sha256 of the packed files and of O(links), so the same source always gives the
    same release and a rerun with no change is not a change.
  - After the files come C(.pyfleet-release) (the release id, one line) and then O(links). tar extracts in
    order, so a host that has the last link has the whole release.
  - It runs on the controller, where the source lives; an action plugin of the same name does the work
    there without a round-trip. The archive is written to O(dest) once and reused.
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
  links:
    description:
      - Symbolic links to add at the release's root, name to target, e.g. C(.venv) to the virtualenv the
        release runs with. They are part of the release id. A file of the same name in O(src) is not shipped.
    type: dict
    default: {}
  keep:
    description:
      - How many archives to keep in O(dest), the most recently packed first (this one always); the others are
        removed. C(0) keeps them all.
    type: int
    default: 0
notes:
  - Supports check mode; the archive is still written to the controller cache, which is not a managed host.
  - O(dest) is made 0700 and each archive is 0600, since a release may hold the app's private files.
extends_documentation_fragment: [pyfleet.deploy.controller]
'''

EXAMPLES = r'''
- name: Pack the release
  pyfleet.deploy.pack:
    src: "{{ app_src }}"
    dest: "{{ playbook_dir }}/.cache/releases"
    exclude: "{{ app_plan_result.ship_exclude }}"
    links:
      .venv: /srv/hello/venvs/0123456789abcdef
  register: pack
'''

RETURN = r'''
id:
  description: The release id, the first 12 hex digits of the sha256 of the packed files and the links.
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
  description: How many files of the source were packed.
  returned: success
  type: int
created:
  description: Whether this run wrote the archive (it was not in O(dest) yet).
  returned: success
  type: bool
pruned:
  description: The archives removed from O(dest) to keep O(keep) of them.
  returned: success
  type: list
  elements: str
'''
