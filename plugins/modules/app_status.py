#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: app_status
short_description: How an app runs on a host - its live release, each process's state, restarts, memory, uptime
description:
  - In one round-trip - the live release and how long it has been there, the web instance nginx sends requests
    to and the release each instance runs, every unit of the app (its target, web instances, other processes,
    port filter) with its state, restarts, memory and uptime, and the expiry of the certificate the site serves.
  - An app that has neither a live release nor units on the host is refused, naming the apps the host has.
  - Read-only.
version_added: "1.2.0"
author: pyfleet contributors
extends_documentation_fragment: [pyfleet.deploy.operate]
options:
  releases:
    description: The app's releases directory (the layout's C(releases)).
    type: path
    required: true
  slots:
    description: The web instances' links (the layout's C(slots)).
    type: path
    default: ""
  upstream_conf:
    description: The nginx upstream file that names the live web instance (the layout's C(upstream_conf)).
    type: path
    default: ""
  site_conf:
    description: The app's nginx site (the layout's C(site_conf)), for its certificate.
    type: path
    default: ""
'''

EXAMPLES = r'''
- name: How the app runs here
  pyfleet.deploy.app_status:
    name: shop
    unit_prefix: pyfleet-shop
    current: /srv/shop/current
    releases: /srv/shop/releases
    slots: /srv/shop/slots
    upstream_conf: /etc/nginx/pyfleet/shop.upstream.conf
    site_conf: /etc/nginx/sites-enabled/pyfleet-shop.conf
    host: "{{ inventory_hostname }}"
'''

RETURN = r'''
release:
  description: The live release's id (empty when none is live).
  returned: success
  type: str
age:
  description: How long the live release has been on the host (C(3 h)).
  returned: success
  type: str
web:
  description: C(live_port), the web instance nginx sends requests to, and C(runs), port -> the release it runs.
  returned: success
  type: dict
units:
  description: Each unit - unit, process, state, active, restarts, memory, uptime.
  returned: success
  type: list
  elements: dict
certificate_expiry:
  description: When the site's certificate expires, as openssl says it; empty without TLS.
  returned: success
  type: str
lines:
  description: The same as lines to read.
  returned: success
  type: list
  elements: str
'''

from ansible_collections.pyfleet.deploy.plugins.module_utils import entry
from ansible_collections.pyfleet.deploy.plugins.module_utils.operate import STATUS_SPEC, status


def main():
    entry.run(STATUS_SPEC, status)


if __name__ == '__main__':
    main()
