#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: deploy_lock
short_description: One deploy of an app at a time on a host - a lock that names its holder
description:
  - Takes (or releases) a per-app deploy lock on the host. The lock is a file naming its holder - the
    controller's host name, the user, the pid of C(ansible-playbook) and when it started - with a lease.
    Every change to it happens under C(flock) on a guard file beside it, so two deploys racing for it never
    both win.
  - A second deploy waits up to O(timeout) seconds, then fails naming the holder.
  - A stale lock is taken over, with a warning - its holder ran on this controller and its process is gone
    (killed, or the machine restarted), or its lease ran out (a holder on another controller).
  - A deploy's work on the host outlives its controller - a build step goes on to its end after its deploy was
    killed or lost its connection. While a unit of O(host_work) runs, the lock is not taken (from a stale holder,
    nor when it looks free); the deploy waits for it, within O(timeout), and says once what it waits for.
  - The action plugin of the same name waits and judges staleness on the controller; each try is one short
    call of the module on the host.
  - Taking or releasing the lock changes nothing that is deployed, so neither is reported as a change.
version_added: "1.1.0"
author: pyfleet contributors
options:
  path:
    description: The lock file on the host, e.g. C(/run/lock/pyfleet/shop.deploy) (a reboot clears it).
    type: path
    required: true
  state:
    description: C(present) takes the lock (waiting for it), C(absent) releases it when this run holds it.
    type: str
    choices: [present, absent]
    default: present
  timeout:
    description: Seconds to wait for a lock another deploy holds, then fail naming it.
    type: int
    default: 600
  lease:
    description: Seconds after which a lock whose holder is on another controller counts as stale.
    type: int
    default: 3600
  interval:
    description: Seconds between tries while waiting.
    type: float
    default: 2
  host_work:
    description: The systemd units that do the app's deploy work on the host (its build steps' unit).
    type: list
    elements: str
    default: []
  look:
    description:
      - Once the lock is taken, the look of pyfleet.deploy.app_releases' C(settled) action with these of its
        parameters (fingerprint, config, releases, state, current, slots, upstream_conf, target), in the same
        round-trip - what a deploy reads of the host under its lock (whether only the code differs).
    type: dict
    default: {}
  settled_first:
    description:
      - With O(look), a rerun's fast path in the same round-trip - the look comes first, and a host the look finds
        settled (what this run asks for already runs there) is left without taking the lock; else the lock is taken
        and the host looked at again under it, and when another deploy just made it settled, the lock is let go.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: A check run takes the lock too, so that it never reads a host halfway through a deploy.
  diff_mode:
    support: none
    description: Nothing to show a diff of.
notes:
  - The run's token derives from the controller, the pid of C(ansible-playbook) and its start time, so a
    later task of the same run releases the lock it took.
'''

EXAMPLES = r'''
- name: Take the app's deploy lock (wait up to 10 minutes, also for a killed deploy's build step)
  pyfleet.deploy.deploy_lock:
    path: /run/lock/pyfleet/shop.deploy
    timeout: 600
    host_work: [pyfleet-shop-build.service]

- name: A rerun - done when the host already runs what this run asks for, else the lock, and a look under it
  pyfleet.deploy.deploy_lock:
    path: /run/lock/pyfleet/shop.deploy
    look: {fingerprint: 3f1c..., config: 9ab2..., releases: /srv/shop/releases, state: /srv/shop/state,
           current: /srv/shop/current}
    settled_first: true
  register: shop_lock

- name: Release it
  pyfleet.deploy.deploy_lock:
    path: /run/lock/pyfleet/shop.deploy
    state: absent
'''

RETURN = r'''
holder:
  description: The holder the lock names now (this run, once taken) - controller, user, pid, started, expires.
  returned: when taken
  type: dict
waited:
  description: Seconds this run waited for the lock.
  returned: when taken
  type: float
took_over:
  description: The stale holder this run took the lock over from, described; empty when none.
  returned: when taken
  type: str
look:
  description: With O(look), what that look says (settled, code_only, why, release, answers, site, scale).
  returned: when taken, with look; with settled_first, also when settled
  type: dict
taken:
  description: Whether this run holds the lock now.
  returned: success
  type: bool
settled:
  description: With O(settled_first), whether the host is settled, so that the lock was not taken (or was let go).
  returned: success
  type: bool
running:
  description: The units of O(host_work) that still ran when the wait timed out (unit, since).
  returned: failure
  type: list
  elements: dict
'''

from ansible_collections.pyfleet.deploy.plugins.module_utils import entry
from ansible_collections.pyfleet.deploy.plugins.module_utils.deploy_lock import ARGUMENT_SPEC, run_task


def main():
    entry.run(ARGUMENT_SPEC, run_task)


if __name__ == '__main__':
    main()
