#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: http_check
short_description: Wait, for at most a number of seconds, until a URL on the host answers as healthy
description:
  - Polls O(url) from the managed host until it answers with an accepted status (by default 2xx and 3xx) and,
    when O(body) is given, a body that matches it; or until O(timeout) seconds have passed, measured on the host.
  - The whole wait is one task and one connection, so the timeout is seconds, not a count of retries.
  - Redirects are not followed (a 3xx is the answer). HTTPS certificates are not checked (the site's own, asked
    for on 127.0.0.1). The request carries O(host) as its Host header, so the app sees the name its visitors use.
  - A failure is said once, as lines, in the task's message. It gives what did not answer and why, the last status
    and the first lines of the body, O(outcome), the journal's last lines and a hint (O(hints)).
  - Read-only.
version_added: "1.0.0"
author: pyfleet contributors
extends_documentation_fragment:
  - pyfleet.deploy.health
options:
  url:
    description: The URL polled, e.g. C(http://127.0.0.1:80/).
    type: str
    required: true
  host:
    description: The Host header to send; the URL's host when not given.
    type: str
  request_timeout:
    description: Seconds one request may take (never beyond O(timeout)).
    type: float
    default: 5
  unix_socket:
    description:
      - Send the request to this unix socket (a gunicorn instance's, as nginx reaches it), not to the URL's
        host; the URL gives the path, and the Host unless O(host) is given.
    type: path
  outcome:
    description: What serves now, said on failure after the last answer (the caller knows what it will do).
    type: str
    default: ""
  journal_unit:
    description: On failure, the message ends with the last O(journal_lines) lines of this unit's journal.
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    description: It only reads; check mode runs it as it is.
  diff_mode:
    support: none
    description: Nothing to show a diff of.
'''

EXAMPLES = r'''
- name: Wait for the new release behind nginx, with the site's name
  pyfleet.deploy.http_check:
    url: http://127.0.0.1/
    host: shop.example.com
    body: "<title>Shop</title>"
    timeout: 60

- name: Ask a new gunicorn instance directly, on its socket, before nginx sends it anything
  pyfleet.deploy.http_check:
    url: http://localhost/health
    unix_socket: /run/pyfleet-shop/web-8001.sock
    host: shop.example.com
    timeout: 30
'''

RETURN = r'''
ok:
  description: Whether the URL answered as healthy in time.
  returned: always
  type: bool
status:
  description: The last answer's status; null when there was no HTTP answer.
  returned: always
  type: int
why:
  description: Why the last answer was not healthy; null when it was.
  returned: always
  type: str
body:
  description: The first lines of the last answer's body (on failure, they are in O(ignore:msg)).
  returned: success
  type: str
attempts:
  description: How many requests were made.
  returned: always
  type: int
elapsed:
  description: Seconds the wait took.
  returned: always
  type: float
msg:
  description: The failure, as lines (see the description).
  returned: failure
  type: str
'''

from ansible_collections.pyfleet.deploy.plugins.module_utils import entry
from ansible_collections.pyfleet.deploy.plugins.module_utils.health import ARGUMENT_SPEC, run_task


def main():
    entry.run(ARGUMENT_SPEC, run_task)


if __name__ == '__main__':
    main()
