#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: acme_certificate
short_description: A site's certificate from an ACME CA (Let's Encrypt), got with certbot and renewed by its timer
description:
  - The certbot lineage O(cert_name) covers O(names). A lineage that covers exactly them and has not expired is
    left alone (no request to the CA; renewing ahead of expiry is the job of Debian's C(certbot.timer), which reads
    the lineage's renewal file - the same authenticator, CA and O(deploy_hook)). Otherwise certbot's C(certonly)
    gets it (or replaces its names) over HTTP-01.
  - A CA that refuses (DNS, port 80, a rate limit) does not fail the task - the lineage keeps what it had (an older
    certificate, or none), and the result's C(failure) says the cause and the fix, also once as a warning.
  - One round-trip; the rules are C(plugins/module_utils/acme.py).
version_added: "1.3.0"
author: pyfleet contributors
options:
  names:
    description: The site's DNS names, the first one the lineage's subject.
    type: list
    elements: str
    required: true
  cert_name:
    description: The lineage's name (C(/etc/letsencrypt/live/NAME)).
    type: str
    required: true
  directory:
    description: The CA's ACME directory URL.
    type: str
    default: https://acme-v02.api.letsencrypt.org/directory
  email:
    description: The account's contact address (the CA's expiry notices); empty registers without one.
    type: str
    default: ""
  authenticator:
    description: C(webroot) (nginx serves O(webroot)'s C(/.well-known/acme-challenge/)) or C(standalone) (certbot
      answers on O(http_port) itself; HAProxy sends the challenge there).
    type: str
    choices: [webroot, standalone]
    default: webroot
  webroot:
    description: The directory the challenge answers are written to (webroot).
    type: path
    default: /var/www/pyfleet-acme
  http_port:
    description: The port certbot answers the challenge on (standalone).
    type: int
    default: 80
  http_address:
    description: The address certbot answers the challenge on (standalone; empty, every address).
    type: str
    default: ""
  deploy_hook:
    description: Run by certbot after it got or renewed the certificate (it checks the server's configuration,
      then reloads it).
    type: path
    default: ""
  renew_before_days:
    description: certbot's timer renews the certificate this many days before it expires.
    type: int
    default: 30
  config_dir:
    description: certbot's configuration directory.
    type: path
    default: /etc/letsencrypt
  certbot:
    description: The certbot command.
    type: str
    default: certbot
  serves:
    description: What the names must point at, as the failure's fix says it.
    type: str
    default: this host
attributes:
  check_mode:
    support: full
    description: It says whether it would ask the CA, and asks nothing.
  diff_mode:
    support: none
    description: Nothing to show.
'''

EXAMPLES = r'''
- name: Get the site's certificate
  pyfleet.deploy.acme_certificate:
    names: [shop.example.com, www.shop.example.com]
    cert_name: pyfleet-shop
    email: ops@example.com
    deploy_hook: /etc/letsencrypt/renewal-hooks/pyfleet-nginx
'''

RETURN = r'''
state:
  description: present (it was there), issued, replaced (new names), would get (check mode) or failed.
  returned: success
  type: str
needed:
  description: Why the CA was asked - none, issue, names (they changed) or expired.
  returned: success
  type: str
certificate:
  description: The lineage after the task - present, names, serial, not_after (ISO 8601), fullchain, privkey.
  returned: success
  type: dict
failure:
  description: When the CA refused - cause (dns, port 80, not this host, caa, rate limit, name refused, certbot),
    fix, detail (certbot's words) and the names it concerns.
  returned: when state is failed
  type: dict
'''

from ansible_collections.pyfleet.deploy.plugins.module_utils import entry
from ansible_collections.pyfleet.deploy.plugins.module_utils.acme import ARGUMENT_SPEC, run_task


def main():
    entry.run(ARGUMENT_SPEC, run_task, pass_check_mode=True)


if __name__ == '__main__':
    main()
