#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: app_cutover
short_description: Blue/green's cutover on one host, in one round-trip
description:
  - Under a lock of the app's own (C(<state_dir>/.cutover.lock)), reads where blue/green stands (the web instance
    nginx's upstream file names as live, and the release each instance's link C(<slots_dir>/<port>) points at).
    A cutover still running on the host (its deploy was killed) is waited for, never raced.
  - When O(release_dir) is not the live release, or O(restart), or nothing is live, it starts on the other
    instance, beside the live one, and is asked directly (its socket or port, with O(host)) until it answers as
    healthy or O(timeout) seconds pass. Only then is nginx's upstream written (O(upstreams)), checked with
    C(nginx -t) and reloaded gracefully.
  - Then O(current) points at the live release (a rename), the live instance runs and starts at boot, the other
    instance stops once nginx's workers from before the reload have exited (at most O(drain_seconds)), O(others)
    restart when O(current) moved or O(restart_others), and O(target) runs and starts at boot.
  - On a failure before nginx serves the release, nginx goes back to the upstream it had, the new instance stops,
    and the release is marked failed (C(<state_dir>/<release>.failed)) and loses its checked mark, so a rerun checks
    it again. The failure is said once, as lines, in the task's message, as M(pyfleet.deploy.http_check) says it.
  - When the release is the live one, an instance found down is started and asked; with O(check_site) the app is
    asked through nginx (O(site_url)).
  - The cutover goes on when the connection to the controller drops (it ignores SIGHUP), so an interrupted deploy
    leaves one checked release serving; the next run finishes what it left.
  - In check mode nothing is touched; the result says whether a run would change anything.
version_added: "1.0.0"
author: pyfleet contributors
extends_documentation_fragment:
  - pyfleet.deploy.health
options:
  release_dir:
    description: The release to serve.
    type: path
    required: true
  restart:
    description: Start the release beside the live one even when it is the live one (its unit or environment changed).
    type: bool
    default: false
  current:
    description: The C(current) link.
    type: path
    required: true
  state_dir:
    description: Where the releases' marks are (C(<id>.checked), C(<id>.failed)) and the lock.
    type: path
    required: true
  slots_dir:
    description: Where each web instance's link to its release is (C(<port>)).
    type: path
    default: ""
  slots:
    description: The web instances (port, unit, url, socket), blue and green; empty when the app has no web process.
    type: list
    elements: dict
    default: []
  others:
    description: The other processes' units (workers, clock), restarted on a new O(current).
    type: list
    elements: str
    default: []
  restart_others:
    description: Restart O(others) even when O(current) does not move (their units or environment changed).
    type: bool
    default: false
  target:
    description: The app's target, kept running and starting at boot.
    type: str
    default: ""
  upstream_conf:
    description: nginx's upstream file for the app.
    type: path
    default: ""
  upstreams:
    description: The upstream file's content with each instance live, by port (as a string).
    type: dict
    default: {}
  site_url:
    description: Where nginx answers for the app on the host.
    type: str
    default: ""
  check_site:
    description: When the release is the live one, ask the app through nginx (nginx changed).
    type: bool
    default: false
  check_instance:
    description: When the release is the live one, ask its instance even when it was running.
    type: bool
    default: false
  health_path:
    description: The path asked.
    type: str
    default: /
  health_also:
    description:
      - More paths, asked in turn after O(health_path); an instance is healthy when any one of them answers as healthy
        (LeanEngine's probe - C(/__engine/1/ping), its SDK's, or C(/)).
    type: list
    elements: str
    default: []
  request_timeout:
    description: Seconds one request may take (Cloud Foundry's C(health-check-invocation-timeout), app.json's C(timeout)).
    type: float
    default: 5
  host:
    description: The Host header sent.
    type: str
  drain_seconds:
    description: At most this many seconds for nginx's old workers to finish the requests they took.
    type: float
    default: 10
  first_deploy:
    description: A check run where nothing is deployed yet.
    type: bool
    default: false
  env_file:
    description:
      - The deploy's environment file. Each web instance runs with a copy of its own, C(<env_file>.<port>), written just
        before it starts, and the other processes with C(<env_file>.current), written once C(current) moved; so a deploy
        that fails never reaches what serves, at a restart or a reboot. Empty leaves environments alone.
    type: path
    default: ""
  snapshot:
    description:
      - Once the switch went through, the live release's snapshot in the same round-trip - the parameters of
        pyfleet.deploy.app_releases' C(snapshot) action (C(releases), C(state), C(current), C(files), C(plan), C(prune),
        C(keep), C(venvs), C(slots), C(unlock)) but the release, which is the live one (kept from the clean-up), and
        the plan's C(check), which is this switch's health check through nginx. The action adds this run's token to
        C(unlock). Empty - no snapshot. Skipped in a check run where nothing serves yet.
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: Switch to the release beside the live one (or keep the live one serving), drain and stop the old one
  pyfleet.deploy.app_cutover:
    release_dir: /srv/shop/releases/5346d4e22832
    current: /srv/shop/current
    state_dir: /srv/shop/state
    slots_dir: /srv/shop/slots
    slots:
      - {port: 8000, unit: pyfleet-shop-web@8000.service, url: "http://localhost", socket: /run/pyfleet-shop/web-8000.sock}
      - {port: 8001, unit: pyfleet-shop-web@8001.service, url: "http://localhost", socket: /run/pyfleet-shop/web-8001.sock}
    target: pyfleet-shop.target
    upstream_conf: /etc/nginx/pyfleet/shop.upstream.conf
    upstreams:
      "8000": "# live: 8000\nserver unix:/run/pyfleet-shop/web-8000.sock fail_timeout=0;\n"
      "8001": "# live: 8001\nserver unix:/run/pyfleet-shop/web-8001.sock fail_timeout=0;\n"
    host: shop.example.com
'''

RETURN = r'''
live_release:
  description: The release that serves now.
  returned: success
  type: str
served_before:
  description: The release whose web instance served before this run (what a fleet that stops its rollout goes back to);
    empty when none served, or the app has no web process.
  returned: success
  type: str
switched:
  description: Whether the release started beside the live one and nginx switched to it.
  returned: success
  type: bool
instance:
  description: The unit of the web instance that serves now; empty without a web process.
  returned: success
  type: str
current_changed:
  description: Whether C(current) moved.
  returned: success
  type: bool
check:
  description: The health check a rerun's fast path asks through nginx - url (empty without a site URL), host,
    status_codes, body, request_timeout.
  returned: success
  type: dict
snapshot:
  description: With O(snapshot), what pyfleet.deploy.app_releases' C(snapshot) action returns (changed, release,
    written; with prune, what it removed; with unlock, unlocked).
  returned: success, with O(snapshot)
  type: dict
actions:
  description: What was done, in order (started, asked, wrote, reloaded, drained, stopped).
  returned: always
  type: list
  elements: str
msg:
  description: The failure, as lines.
  returned: failure
  type: str
'''

import signal

from ansible_collections.pyfleet.deploy.plugins.module_utils import entry
from ansible_collections.pyfleet.deploy.plugins.module_utils.cutover import ARGUMENT_SPEC, run_task


def main():
    # a dropped connection (the deploy killed, the network gone) must not stop a cutover halfway
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    entry.run(ARGUMENT_SPEC, run_task, pass_check_mode=True)


if __name__ == '__main__':
    main()
