# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health gate's options, as every module that asks an app whether it is healthy takes them
(module_utils/health.py, CHECK_SPEC)."""

from __future__ import annotations


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options:
  status_codes:
    description: The statuses that count as healthy; when not given, every status from 200 to 399.
    type: list
    elements: int
  body:
    description: A regular expression the body must match (searched); empty accepts any body.
    type: str
    default: ""
  timeout:
    description: Seconds, measured on the host, after which the wait for a healthy answer fails.
    type: float
    default: 60
  timeout_setting:
    description:
      - The setting that gives O(timeout), as a failure names it (e.g. C(app_switch_health_timeout)); when the app never
        answered at all, the failure says to raise it if the app needs longer to start.
    type: str
    default: ""
  interval:
    description: Seconds between tries after the first 5 s, in which it tries every 0.1 s.
    type: float
    default: 1
  name:
    description: The app, as a failure's first line names it.
    type: str
    default: ""
  journal_lines:
    description: How many of the unit's last journal lines a failure shows.
    type: int
    default: 30
  hints:
    description:
      - What a failure adds; the first whose O(hints[].match) (a regular expression) is found in the text
        C(status <N>) (or C(status no answer)), the body or the journal is said.
    type: list
    elements: dict
    default: []
    suboptions:
      match:
        description: A regular expression.
        type: str
      text:
        description: The hint.
        type: str
'''
