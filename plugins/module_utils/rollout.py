# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a rolling deploy stands, from what each app host of the run reported (plain Python, on the controller).

A deploy goes through the app hosts in batches (``serial``). Each host that took part leaves its report (the run's
``pyfleet__reported``: its outcome, the batch it switched with, what it serves and what served before) and, when it
failed, its failure (the task and the first line of what it said). From those alone:

- the rollout *stopped* when, in some batch, more than ``max_fail_percentage`` % of its hosts failed: no later
  host starts;
- then every host that switched to a new release in this run goes *back* to the release it served before
  (``served_before``), so the fleet serves one release again; a host that had none before (its first deploy), or
  whose switch restarted the release it served (a new configuration only), cannot go back and is named;
- a host that has no report was *not reached*.

A host that went back already (its outcome ``went back``) counts among those that go back, at the release it
serves now.
"""

from __future__ import annotations


def rollout(hosts, max_fail_percentage=0):
    """``hosts``: ``{name: {'reported': dict or None, 'failed': dict or None}}`` in the play's order.

    Returns ``{'stopped', 'failed', 'back', 'stays', 'not_reached'}``: whether the rollout stopped, the failed
    hosts (``{name: failure}``), the hosts that go back (``{name: release}``), the hosts that switched and cannot
    go back (``{name: why}``), and the hosts with no report."""
    pct = float(max_fail_percentage or 0)
    failed = {n: h['failed'] for n, h in hosts.items() if h.get('failed')}
    batches = {}
    for name in failed:
        batch = tuple((hosts[name].get('reported') or {}).get('batch') or [name])
        batches.setdefault(batch, set()).add(name)
    stopped = any(len(names) * 100.0 > pct * len(batch) for batch, names in batches.items())
    back, stays = {}, {}
    for name, h in hosts.items():
        r = h.get('reported') or {}
        if stopped and r.get('outcome') == 'went back':     # it went back already (the play after the deploy's)
            back[name] = r.get('serves') or ''
            continue
        if not stopped or name in failed or r.get('outcome') != 'deployed' or not r.get('switched'):
            continue
        before = r.get('served_before') or ''
        if not before:
            stays[name] = 'nothing served on it before this run'
        elif before == r.get('serves'):
            stays[name] = 'its switch restarted the release it served (a new configuration only)'
        else:
            back[name] = before
    return {'stopped': stopped, 'failed': failed, 'back': back, 'stays': stays,
            'not_reached': [n for n, h in hosts.items() if not h.get('reported')]}


def said(state):
    """What the run says when a host failed (its own error was said where it failed): which host, at which task,
    and where the fleet stands; '' when no host failed."""
    if not state['failed']:
        return ''
    parts = ['pyfleet: the deploy failed on %s (said above, where it failed).'
             % ', '.join('%s at %r' % (n, f.get('task') or '?') for n, f in state['failed'].items())]
    if not state['stopped']:
        parts.append('It is within pyfleet_max_fail_percentage, so the rollout went on.')
        return ' '.join(parts)
    if len(state['failed']) > 1 or state['back'] or state['stays'] or state['not_reached']:   # a fleet, not one host
        parts.append('The rollout stopped there.')
    if state['back']:
        parts.append('Back to the release they served before: %s.'
                     % ', '.join('%s (%s)' % (n, r) for n, r in state['back'].items()))
    if state['stays']:
        parts.append('Switched in this run and left as they are: %s.'
                     % ', '.join('%s (%s)' % (n, why) for n, why in state['stays'].items()))
    if state['not_reached']:
        parts.append('Never reached, serving what they served: %s.' % ', '.join(state['not_reached']))
    return ' '.join(parts)
