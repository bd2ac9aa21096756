# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app's environment as a host keeps it, and what an operator changed in it without a deploy.

- The environment file (``/etc/pyfleet/<app>/env``, root's, 0600): one ``NAME="value"`` line a name, sorted, a
  ``\\`` and a ``"`` escaped with a backslash, as systemd's EnvironmentFile reads them. ``render`` writes it (the
  deploy's template, through the filter ``pyfleet.deploy.env_file``, and ``playbooks/config.yml``) and ``parse``
  reads it back.
- The operator's changes (``/etc/pyfleet/<app>/config.json``, root's, 0600): names ``playbooks/config.yml`` set
  (with their values) or unset. They stay on the host and win over the inventory's ``pyfleet_env`` and
  ``pyfleet_secrets``: every deploy applies them (``apply``) to what it writes, until ``config.yml`` changes
  them again.

Plain Python: the module ``pyfleet.deploy.app_config`` and the filters use it; unit-tested.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.pyfleet.deploy.plugins.module_utils.releases import write

NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_LINE_RE = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"$')
EMPTY = {'set': {}, 'unset': [], 'scale': {}}


def value_text(value):
    """A value as the environment holds it: booleans as true/false, everything else as its text."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return '%s' % (value,)


def render(env):
    """{name: value} -> the environment file's text (sorted; without the header the template adds)."""
    return ''.join('%s="%s"\n' % (name, value_text(value).replace('\\', '\\\\').replace('"', '\\"'))
                   for name, value in sorted(env.items()))


def parse(text):
    """The environment file's text -> {name: value}; comments and blank lines are passed over. A line of another
    form raises ValueError naming its number."""
    env = {}
    for number, line in enumerate((text or '').splitlines(), 1):
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        found = _LINE_RE.match(line)
        if not found:
            raise ValueError('line %d is not NAME="value"' % number)
        env[found.group(1)] = re.sub(r'\\(.)', r'\1', found.group(2))
    return env


def load(path):
    """The operator's changes kept at ``path`` ({'set': {...}, 'unset': [...]}); none when there is no file."""
    try:
        with open(path) as fh:
            return load_text(fh.read(), path)
    except FileNotFoundError:
        return load_text('')


def load_text(text, path='config.json'):
    """The operator's changes from config.json's text; none for an empty text."""
    try:
        data = json.loads(text) if (text or '').strip() else {}
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get('set', {}), dict) \
            or not isinstance(data.get('unset', []), list) or not isinstance(data.get('scale', {}), dict) \
            or bad_counts(data.get('scale', {})):
        raise ValueError('%s is not {"set": {...}, "unset": [...], "scale": {...}}' % path)
    return {'set': {str(k): value_text(v) for k, v in data.get('set', {}).items()},
            'unset': sorted(str(n) for n in data.get('unset', [])),
            'scale': {str(k): int(v) for k, v in data.get('scale', {}).items()}}


def bad_counts(scale):
    """The process names of ``scale`` ({process: count}) whose count is not a whole number from 0 to 100."""
    return sorted(str(k) for k, v in scale.items()
                  if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100))


def change(kept, set_=None, unset=(), scale=None):
    """The operator's changes after ``set_`` ({name: value}) and ``unset`` (names): a name set is no longer unset,
    a name unset is no longer set; and after ``scale`` ({process: count}, None: the inventory's count again).
    ``kept`` is left as it is."""
    counts = dict(kept.get('scale') or {})
    for proc, count in (scale or {}).items():
        if count is None:
            counts.pop(proc, None)
        else:
            counts[proc] = int(count)
    out = {'set': dict(kept.get('set') or {}), 'unset': set(kept.get('unset') or ())}
    for name, value in (set_ or {}).items():
        out['set'][name] = value_text(value)
        out['unset'].discard(name)
    for name in unset or ():
        out['set'].pop(name, None)
        out['unset'].add(name)
    return {'set': out['set'], 'unset': sorted(out['unset']), 'scale': counts}


def apply(env, kept):
    """The environment ``env`` ({name: value}) with the operator's changes ``kept`` applied over it."""
    out = {k: v for k, v in env.items() if k not in set(kept.get('unset') or ())}
    out.update(kept.get('set') or {})
    return out


def bad_names(names):
    """The names an environment file cannot hold."""
    return [n for n in names if not isinstance(n, str) or not NAME_RE.match(n)]


def dump(kept):
    """The operator's changes as config.json holds them."""
    data = {'set': dict(sorted(kept['set'].items())), 'unset': sorted(kept['unset'])}
    if kept.get('scale'):      # (a file without counts is as it always was)
        data['scale'] = dict(sorted(kept['scale'].items()))
    return json.dumps(data, indent=2, sort_keys=True) + '\n'


# --------------------------------------------------------------------------
# The pyfleet.deploy.app_config task (the module file documents it)
# --------------------------------------------------------------------------
ARGUMENT_SPEC = dict(
    action=dict(type='str', choices=['show', 'change', 'keep'], default='show'),
    env_dir=dict(type='path', required=True),
    set=dict(type='dict', default={}, no_log=True),
    unset=dict(type='list', elements='str', default=[]),
    # keep: process counts (playbooks/scale.yml's; null: the inventory's count again)
    scale=dict(type='dict', default={}),
)


def run_task(p, check_mode=False):
    """show: the environment's names, and which the operator set or unset. change: the environment file with
    ``set`` and ``unset`` applied (the switch starts the app on it; a failure puts the live one back). keep: the
    operator's changes with them, kept for every later deploy (after the switch went through)."""
    env_file, kept_file = os.path.join(p['env_dir'], 'env'), os.path.join(p['env_dir'], 'config.json')
    bad = bad_names(list(p['set']) + list(p['unset']))
    if bad:
        return dict(failed=True, msg='pyfleet: %s cannot name an environment variable ([A-Za-z_][A-Za-z0-9_]*).'
                    % ', '.join(repr(n) for n in bad))
    both = sorted(set(p['set']) & set(p['unset']))
    if both:
        return dict(failed=True, msg='pyfleet: %s is both set and unset; say one.' % ', '.join(both))
    try:
        with open(env_file) as fh:
            text = fh.read()
        env, kept = parse(text), load(kept_file)
    except FileNotFoundError:
        return dict(failed=True, msg='pyfleet: no app named %s is deployed here (%s has no environment file). Give '
                                     "the app's name with -e app_name=NAME; playbooks/status.yml says what a host runs."
                    % (os.path.basename(p['env_dir'].rstrip('/')), p['env_dir']))
    except ValueError as exc:
        return dict(failed=True, msg='pyfleet: %s: %s; deploy the app again to write it anew.' % (env_file, exc))
    changed = False
    if p['action'] == 'change':
        new = apply(env, change(EMPTY, p['set'], p['unset']))     # (values as the file holds them)
        if new != env:
            header = ''.join(line + '\n' for line in text.splitlines() if line.lstrip().startswith('#'))
            changed = True
            if not check_mode:
                write(env_file, header + render(new), 0o600)
            env = new
    elif p['action'] == 'keep':
        bad = bad_counts(p['scale'])
        if bad:
            return dict(failed=True, msg='pyfleet: the count of %s is not a whole number from 0 to 100.' % ', '.join(bad))
        new = change(kept, p['set'], p['unset'], p['scale'])
        if new != kept:
            changed = True
            if not check_mode:
                write(kept_file, dump(new), 0o600)
            kept = new
    return dict(changed=changed, names=sorted(env), operator_set=sorted(kept['set']), operator_unset=kept['unset'],
                operator_scale=kept['scale'],
                lines=[name + (' (set by config.yml)' if name in kept['set'] else '') for name in sorted(env)]
                + ['%s (unset by config.yml)' % name for name in kept['unset'] if name not in env])
