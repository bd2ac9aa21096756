#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: app_releases
short_description: An app's releases on a host - their states in one look, a snapshot put back, the clean-up
description:
  - Reads every release of an app on the host in one round-trip (module_utils/releases.py owns a release's life)
    - its id, when it was created, its state (C(live), C(failed), C(retired), C(checked) or C(built)), whether it
    was ever live, its Python and its virtualenv's lock key.
  - With O(action=prune), after a healthy deploy, removes the releases beyond O(keep). Only releases that were live
    count - the live one and the newest O(keep) - 1 retired ones are kept, and the newest retired one (the rollback
    target) always. Releases that were never live (failed, cut off half-way, checked but never switched to) are
    removed, except O(protect) and the ones a web instance's link in O(slots) points at. Then the marks of every
    release that is gone, and the virtualenvs in O(venvs) no kept release uses.
  - With O(action=one), says where O(release) stands in one look - C(checked) (and C(data), what its checked mark
    holds), C(marked_failed), and C(left) (a copy of it is unpacked).
  - With O(action=prepare), the same look, and for a release that is not checked (new, or a copy a failed or
    interrupted deploy left) an empty directory for it, O(owner)'s, 0751, in C(releases/) (root's, group O(owner),
    0751), the copy removed first, and O(archive) unpacked into it - in the same round-trip. A checked release is
    left as it is.
  - With O(action=mark), marks O(release) checked or failed (a checked mark holds O(data)); with O(action=snapshot), keeps O(files) and O(plan) in
    the release's snapshot, C(state/<id>.config/) (root's, 0700), writing only what changed.
  - With O(action=restore), puts a release's configuration back as its snapshot (C(state/<id>.config/)) has it -
    every file its C(plan.json) lists, written whole where it differs. The release is O(release), or the live one;
    after a deploy that failed (or was cut off) the live release so runs with its own configuration at its next
    restart or reboot. Nothing happens when the release has no snapshot.
  - With O(action=settled), a rerun's fast path, read-only - says whether the host already is what this run asks
    for and runs it - the live release's snapshot holds O(fingerprint), each of its files is as it was kept, the
    release is checked and its virtualenv's Python is there, O(target), the units among the files, the other
    processes and nginx are active, the web instance nginx proxies to (O(upstream_conf)) runs the live release, and
    the live release answers the snapshot's health check through nginx. Otherwise C(why) says what differs. When
    all of it holds but the fingerprint, and the snapshot holds O(config) (the live release was deployed with this
    run's configuration), C(code_only) is true - a code change, which need only ship, build and switch to the new
    release.
version_added: "1.2.0"
author: pyfleet contributors
options:
  action:
    description:
      - C(look) reads the releases; C(one) one release; C(prepare) one release, made ready to unpack; C(prune) removes what is not kept; C(restore) puts a snapshot back; C(mark) marks a
        release checked or failed; C(snapshot) keeps what the live release runs with; C(settled) looks whether the
        host already is what this run asks for.
    type: str
    choices: [look, one, prepare, prune, restore, mark, snapshot, settled]
    default: look
  releases:
    description: The app's releases directory (the plan's C(layout.releases)).
    type: path
    required: true
  state:
    description: Where the releases' marks are (the plan's C(layout.state)).
    type: path
    required: true
  current:
    description: The live release's link (the plan's C(layout.current)).
    type: path
    required: true
  venvs:
    description: The app's virtualenvs directory; with C(prune), those no kept release uses are removed.
    type: path
    default: ""
  slots:
    description: The web instances' links (the plan's C(layout.slots)); a release one points at is never removed.
    type: path
    default: ""
  keep:
    description: How many releases that were live to keep, the live one included; 1 or more.
    type: int
    default: 5
  protect:
    description: Releases never removed (the one being deployed).
    type: list
    elements: path
    default: []
  release:
    description: With C(restore), the release (its id) whose snapshot is put back, empty for the live one; with C(one) and
      C(mark), the release (its path or id).
    type: str
    default: ""
  env_dir:
    description: With C(restore), the app's configuration directory; files put back there are root's alone (0600).
    type: path
    default: ""
  mark:
    description:
      - With C(mark), C(checked) (the release passed every build step; an earlier failure's mark goes) or C(failed) (a
        build step or its health gate failed; its checked mark goes, so a rerun checks it again). O(release) names it.
    type: str
    choices: [checked, failed]
    default: checked
  why:
    description: With C(mark=failed), what failed (the mark's text).
    type: str
    default: ""
  data:
    description: With C(mark=checked), what the build steps found out (gunicorn's answer), kept in the mark as JSON.
    type: dict
    default: {}
  files:
    description: With C(snapshot), the files the release runs with (its environment, units, site, port filter).
    type: list
    elements: path
    default: []
  plan:
    description:
      - With C(snapshot), the plan's slice the switch needs to go back to the release (web, units, site), the
        fingerprint of what the run asked for (C(fingerprint)) and of all of it but the release (C(config)), a digest of
        what the release's build found out (C(answers)), and the health check a rerun asks through nginx
        (C(check) - url, host, status_codes, body, request_timeout).
    type: dict
    default: {}
  fingerprint:
    description: With C(settled), the fingerprint of what this run asks for (the filter pyfleet.deploy.fingerprint).
    type: str
    default: ""
  owner:
    description: With C(prepare), the app's account (and group), which owns a new release's directory.
    type: str
    default: ""
  archive:
    description:
      - With C(prepare), the release packed on the controller (pyfleet.deploy.pack's gzipped tar), unpacked into the
        release's new directory as O(owner), with the archive's modes. A checked release is left as it is, and
        nothing is unpacked in check mode. The action copies it to the host in the same task.
    type: path
    default: ""
  prune:
    description: With C(snapshot), then the clean-up of C(prune) (O(keep), O(venvs), O(slots), O(protect)), in the same round-trip.
    type: bool
    default: false
  unlock:
    description:
      - With C(snapshot), the deploy lock (pyfleet.deploy.deploy_lock) this run holds, released once the snapshot (and
        the clean-up) is done, in the same round-trip - also in check mode, where the lock is taken too.
    type: dict
    suboptions:
      path:
        description: The lock file.
        type: path
        required: true
      token:
        description: This run's token; the action plugin sets it (as pyfleet.deploy.deploy_lock's does).
        type: str
        required: true
  venv:
    description: With C(prepare), the release's virtualenv (the plan's C(venv.path)); C(venv_complete) says whether it is complete.
    type: path
    default: ""
  config:
    description:
      - With C(settled), the fingerprint of what this run asks for but the release (its configuration); the snapshot
        keeps it as C(plan.config), beside C(plan.answers), a digest of what the release's build found out.
    type: str
    default: ""
  target:
    description: With C(settled), the app's systemd target, which must be active.
    type: str
    default: ""
  upstream_conf:
    description: With C(settled), the nginx upstream file that names the live web instance (the plan's C(layout.upstream_conf)).
    type: path
    default: ""
attributes:
  check_mode:
    support: full
    description: Says what a clean-up would remove, and removes nothing.
  diff_mode:
    support: none
    description: Nothing to show a diff of.
'''

EXAMPLES = r'''
- name: Read the releases
  pyfleet.deploy.app_releases:
    releases: /srv/shop/releases
    state: /srv/shop/state
    current: /srv/shop/current
  register: shop_releases

- name: Keep three releases that were live
  pyfleet.deploy.app_releases:
    action: prune
    releases: /srv/shop/releases
    state: /srv/shop/state
    current: /srv/shop/current
    venvs: /srv/shop/venvs
    slots: /srv/shop/slots
    keep: 3
    protect: [/srv/shop/releases/5346d4e22832]
'''

RETURN = r'''
releases:
  description: With C(look), every release, newest first - id, created (UTC), state, was_live, python, lock_key, live.
  returned: action is look
  type: list
  elements: dict
removed:
  description: The releases removed (or, in check mode, that would be).
  returned: action is prune, or snapshot with prune
  type: list
  elements: str
removed_marks:
  description: The marks removed with them (and those of releases already gone).
  returned: action is prune
  type: list
  elements: str
removed_venvs:
  description: The virtualenvs removed, which no kept release uses.
  returned: action is prune
  type: list
  elements: str
kept:
  description: The releases kept.
  returned: action is prune
  type: list
  elements: str
restored:
  description: The files put back (or, in check mode, that would be).
  returned: action is restore
  type: list
  elements: str
units:
  description: Whether a unit file was among them (systemd must reload).
  returned: action is restore
  type: bool
site:
  description:
    - With C(restore), whether the nginx site was among the files put back (nginx must reload).
    - With C(settled) and C(code_only), where the live release's nginx site answers (url, host), as its snapshot has it.
  returned: action is restore or settled
  type: raw
filter:
  description: Whether the port filter was among them (it must be applied again).
  returned: action is restore
  type: bool
snapshot:
  description: Whether the release had a snapshot.
  returned: action is restore
  type: bool
plan:
  description: The snapshot's plan slice (files, web, units, site), empty without one.
  returned: action is restore
  type: dict
release:
  description: The release whose snapshot was read, marked or written, or that was looked at (with C(settled), the live one).
  returned: action is one, prepare, restore, mark, snapshot or settled
  type: str
checked:
  description: With C(one), whether the release passed its build steps here (its checked mark).
  returned: action is one or prepare
  type: bool
data:
  description: With C(one), what its checked mark holds (gunicorn's answer), empty without one.
  returned: action is one or prepare
  type: dict
left:
  description: With C(one), whether a copy of the release is unpacked.
  returned: action is one or prepare
  type: bool
venv_complete:
  description: With C(prepare) and O(venv), whether the release's virtualenv is complete (it has C(.pyfleet-lock.json)).
  returned: action is prepare and venv is given
  type: bool
marked_failed:
  description: With C(one), whether the release is marked failed.
  returned: action is one or prepare
  type: bool
settled:
  description: With C(settled), whether the host already is what this run asks for, and runs it.
  returned: action is settled
  type: bool
code_only:
  description: With C(settled), whether only the release differs from the live one (see O(config)).
  returned: action is settled
  type: bool
answers:
  description: With C(settled) and C(code_only), the live release's snapshot's C(answers) (its build's answers, a digest).
  returned: action is settled
  type: str
why:
  description: With C(settled), why not (empty when it is).
  returned: action is settled
  type: str
written:
  description: With C(snapshot), the snapshot's files that changed.
  returned: action is snapshot
  type: list
  elements: str
unlocked:
  description: With C(snapshot) and O(unlock), whether the lock was released (false when this run did not hold it).
  returned: action is snapshot and unlock is given
  type: bool
'''

from ansible_collections.pyfleet.deploy.plugins.module_utils import entry
from ansible_collections.pyfleet.deploy.plugins.module_utils.releases import ARGUMENT_SPEC, run_task


def main():
    entry.run(ARGUMENT_SPEC, run_task, pass_check_mode=True)


if __name__ == '__main__':
    main()
