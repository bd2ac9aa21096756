# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a rolling deploy stands, from what each app host of the run reported (plain Python, on the controller).

A deploy goes through the app hosts in batches (``batches``: as ``serial`` cuts a play's hosts, one after the other
in one play). Each host that took part leaves its report (the run's ``pyfleet__reported``: its outcome, the batch it
switched with, what it serves and what served before) and, when it failed, its failure (the task and the first line
of what it said). From those alone:

- a host of a batch that started which left neither was *lost*: its deploy never ended where the run could see it
  (the host could not be reached, or failed where its deploy's rescue could not note it); it counts as failed;
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

# a lost host's failure: the run never heard how its deploy ended
LOST = {'task': '', 'lost': True,
        'msg': 'no word from the host since its batch started: it could not be reached (said above, where it happened)'}


def batches(hosts, serial):
    """``hosts`` (the play's, in its order) cut into batches as Ansible's ``serial`` cuts them: ``serial`` is a
    number, a percentage of all the hosts (``'25%'``: at least one) or a list of them, the last one repeated until
    every host has its batch; 0 or an empty list is one batch of all. Raises ValueError on anything else."""
    hosts = list(hosts)
    sizes = serial if isinstance(serial, (list, tuple)) else [serial]
    try:
        sizes = [int(float(str(v).strip()[:-1]) / 100.0 * len(hosts)) or 1 if str(v).strip().endswith('%') else int(v)
                 for v in sizes] or [0]
    except (TypeError, ValueError):
        raise ValueError('pyfleet_batch is %r: give the app hosts switched at a time as a number, a percentage or a '
                         'list of them, e.g. 2, "25%%" or [1, "25%%"] (a canary, then a quarter of them at a time).'
                         % (serial,))
    out, i = [], 0
    while hosts:
        size = sizes[min(i, len(sizes) - 1)]
        if size <= 0:
            out.append(hosts)
            break
        out.append(hosts[:size])
        hosts = hosts[size:]
        i += 1
    return out


def rollout(hosts, max_fail_percentage=0, batches=None):
    """``hosts``: ``{name: {'reported': dict or None, 'failed': dict or None}}`` in the play's order; ``batches``:
    the rollout's batches that started, in order (None: as the hosts reported them, and none is lost).

    Returns ``{'stopped', 'failed', 'lost', 'fail_on', 'back', 'stays', 'not_reached'}``: whether the rollout
    stopped, the failed hosts (``{name: failure}``, a lost host's is ``LOST``), the lost ones among them, where the
    run fails (the failed hosts that can be reached, else the controller, ``localhost``, when only lost hosts
    failed), the hosts that go back (``{name: release}``), the hosts that switched and cannot go back
    (``{name: why}``), and the hosts never reached (no report, not failed)."""
    pct = float(max_fail_percentage or 0)
    failed = {n: h['failed'] for n, h in hosts.items() if h.get('failed')}
    lost_counts = batches is not None
    if batches is None:
        batches = []
        for name in hosts:
            batch = list((hosts[name].get('reported') or {}).get('batch') or [name])
            if batch not in batches:
                batches.append(batch)
    stopped = False
    for batch in batches:
        for name in batch:
            if lost_counts and name in hosts and not hosts[name].get('reported') and name not in failed:
                failed[name] = dict(LOST)
        if sum(1 for name in batch if name in failed) * 100.0 > pct * len(batch):
            stopped = True
            break
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
    lost = [n for n, f in failed.items() if f.get('lost')]
    fail_on = [n for n in failed if n not in lost] or (['localhost'] if failed else [])
    return {'stopped': stopped, 'failed': failed, 'lost': lost, 'fail_on': fail_on, 'back': back, 'stays': stays,
            'not_reached': [n for n, h in hosts.items() if not h.get('reported') and n not in failed]}


def said(state):
    """What the run says when a host failed (its own error was said where it failed): which host, at which task,
    and where the fleet stands; '' when no host failed."""
    if not state['failed']:
        return ''
    at = ['%s at %r' % (n, f.get('task') or '?') for n, f in state['failed'].items() if n not in state['lost']]
    lost = state['lost']
    parts = ['pyfleet: the deploy failed on %s (said above, where it failed).' % ', '.join(at)] if at else []
    if lost:
        parts.append('pyfleet: %s could not be reached during %s deploy (said above); what %s serves is as the '
                     'deploy left it there.' % (', '.join(lost), 'its' if len(lost) == 1 else 'their',
                                                'it' if len(lost) == 1 else 'each'))
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
