#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cpython_install
short_description: Install a CPython under pyenv so that it is complete or absent - unpacked or compiled, then marked
description:
  - One install at a time on the host, under O(lock); everything is checked again under it, so two deploys never
    install one version twice, and the second finds it done. Whoever holds the lock says what it does in
    C(<lock>.what).
  - A version counts only once its prefix (C(<root>/versions/<version>)) is marked complete
    (C(.pyfleet-complete)), as the install's last step; an install cut off half-way is done again by the next run.
  - C(unpack) unpacks O(artifact) beside its place, marks it and renames it into place (an unmarked prefix there is
    moved aside first). C(compile) runs C(pyenv install --force) with O(environment), removes the test suite and the
    static libpython (O(slim)), and marks it. C(who) says what holds the lock, without waiting.
version_added: "1.2.0"
author: pyfleet contributors
options:
  method:
    description: C(unpack), C(compile), or C(who).
    type: str
    choices: [unpack, compile, who]
    required: true
  root:
    description: pyenv's root.
    type: path
    required: true
  version:
    description: The CPython version.
    type: str
    required: true
  artifact:
    description: With C(unpack), the artifact on the host (a tar.gz of C(versions/<version>)).
    type: path
    default: ""
  sha256:
    description: With C(unpack), the artifact's checksum, written into the mark.
    type: str
    default: ""
  lock:
    description: The host's install lock.
    type: path
    default: /run/lock/pyfleet-pyenv-install.lock
  environment:
    description: With C(compile), python-build's variables (the mirror, the definitions, configure options, make jobs).
    type: dict
    default: {}
  slim:
    description: With C(compile), remove the test suite and the static libpython after the build.
    type: bool
    default: true
  for_app:
    description: The app the install is for, as C(<lock>.what) names it to a deploy that waits.
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    description: Says whether the version would be installed.
  diff_mode:
    support: none
    description: Nothing to show a diff of.
'''

EXAMPLES = r'''
- name: Unpack CPython 3.11.2 from its artifact
  pyfleet.deploy.cpython_install:
    method: unpack
    root: /opt/pyenv
    version: 3.11.2
    artifact: /var/cache/pyfleet/cpython-3.11.2-debian12-x86_64-0123456789.tar.gz
'''

RETURN = r'''
prefix:
  description: The version's prefix.
  returned: unpack, compile
  type: str
mark:
  description: What the completion mark says (how it was installed).
  returned: when installed
  type: str
holder:
  description: With C(who), what holds the lock (what, pid, since), or an empty dict when it is free.
  returned: who
  type: dict
complete:
  description: With C(who), whether the version is installed and marked complete.
  returned: who
  type: bool
'''

from ansible_collections.pyfleet.deploy.plugins.module_utils import entry
from ansible_collections.pyfleet.deploy.plugins.module_utils.interpreter import ARGUMENT_SPEC, run_task


def main():
    entry.run(ARGUMENT_SPEC, run_task, pass_check_mode=True)


if __name__ == '__main__':
    main()
