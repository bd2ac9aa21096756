# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where blue/green stands on a host, in one look: which web instance nginx proxies to (the live one, named
in the upstream file once it passed its check), which release each instance's link points to, and which
instances run.

Plain Python (the standard library, and systemctl): pyfleet.deploy.app_cutover reads it on the host, under
its lock, in the same task that acts on it.
"""

from __future__ import annotations

import os
import re
import subprocess

ARGUMENT_SPEC = dict(
    upstream_conf=dict(type='path', required=True),
    slots_dir=dict(type='path', required=True),
    units=dict(type='dict', required=True),        # port (as a string) -> unit name
)

_LIVE_RE = re.compile(r'^# live: ([0-9]+)$', re.M)
_ACTIVE = ('active', 'activating', 'reloading')


def live_port(text):
    """The port the upstream file names as live, or '' (a first deploy's file names none)."""
    m = _LIVE_RE.search(text or '')
    return m.group(1) if m else ''


def unit_props(units, props=('ActiveState',), run=subprocess.run):
    """{unit: {property: value}} from one ``systemctl show``; 'unknown' (or '') when systemctl cannot say."""
    blank = {k: 'unknown' if k == 'ActiveState' else '' for k in props}
    if not units:
        return {}
    try:
        res = run(['systemctl', 'show', '--property=Id,' + ','.join(props), '--'] + list(units), capture_output=True,
                  text=True, check=False)
    except OSError:
        return {u: dict(blank) for u in units}
    found, current = {}, {}
    for line in (res.stdout or '').splitlines() + ['']:
        if not line.strip():
            if current.get('Id'):
                found[current['Id']] = dict(blank, **{k: v for k, v in current.items() if k in props})
            current = {}
            continue
        key, _, value = line.partition('=')
        current[key] = value
    return {u: found.get(u, dict(blank)) for u in units}


def unit_states(units, run=subprocess.run):
    """{unit: ActiveState} from one systemctl call; 'unknown' when systemctl cannot say."""
    return {u: props['ActiveState'] for u, props in unit_props(units, run=run).items()}


def read(upstream_conf, slots_dir, units, run=subprocess.run):
    """{live, named, runs: {port: release dir}, running: [units], states, upstream_text (the file as it is, to
    put back if a switch fails)}: ``live`` only when its slot has a link."""
    try:
        with open(upstream_conf) as fh:
            text = fh.read()
    except OSError:
        text = ''
    runs = {}
    for port in units:
        link = os.path.join(slots_dir, str(port))
        if os.path.islink(link):
            runs[str(port)] = os.path.join(slots_dir, os.readlink(link)) if not os.path.isabs(os.readlink(link)) \
                else os.readlink(link)
    named = live_port(text)
    states = unit_states(list(units.values()), run)
    return {'live': named if named in runs else '', 'named': named, 'runs': runs, 'upstream_text': text,
            'running': sorted(u for u, s in states.items() if s in _ACTIVE), 'states': states}


def run_task(p):
    units = {str(k): v for k, v in (p['units'] or {}).items()}
    return dict(changed=False, **read(p['upstream_conf'], p['slots_dir'], units))
