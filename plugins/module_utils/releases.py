# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A release's life on a host, in one place: its marks, its state, and which releases a clean-up removes.

A release is a directory ``releases/<id>``; root's marks beside it in ``state/`` say how far it got:

  <id>.checked   it passed its build steps (only then may it be switched to)
  <id>.failed    a build step or its health gate failed (a rerun checks it again)
  <id>.config/   it was live: the snapshot of its configuration, which a rollback puts back

Its state, read from those and from where ``current`` points:

  live      current points at it
  failed    marked failed
  retired   it was live (a snapshot) and is checked: a rollback may go back to it
  checked   checked, never live
  built     none of these: unpacked, or cut off half-way

``mark`` marks a release checked or failed (each takes the other mark away; a checked mark may hold what
the build steps found out, such as gunicorn's answer); ``one`` says where one release stands; ``snapshot`` keeps what the live
release runs with; ``restore`` puts a release's configuration back from its snapshot: the live one's after a deploy that failed
(or was cut off), so that what serves runs with its own configuration on its next restart or reboot; an
earlier one's for a rollback.

``settled`` is a rerun's fast path, read-only: the host is done for this run when the live release's snapshot
holds the fingerprint of what this run asks for (the plan's, of every input), each of its files is still as it
was kept, the release is checked and its virtualenv's Python is there, its units and nginx run, the live web
instance is the one nginx proxies to and runs the live release, and it answers its health check through nginx.
Anything else says why not, and the deploy takes its full path.

The clean-up after a healthy deploy (``prune``) counts only releases that were live: it keeps the live one
and the newest ``keep`` - 1 retired ones, and never the newest retired one (the rollback target), whatever
``keep`` is. Releases that were never live (failed, built, checked) are removed, except those a web
instance's link points at and the one being deployed. Virtualenvs no kept release uses go with them, and so
do the marks of every release that is gone.

Plain Python (the standard library): the module pyfleet.deploy.app_releases runs it on the host in one
round-trip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

from ansible_collections.pyfleet.deploy.plugins.module_utils import health, slots as slots_

MARKS = ('checked', 'failed', 'config')

ARGUMENT_SPEC = dict(
    action=dict(type='str', choices=['look', 'one', 'prepare', 'prune', 'restore', 'mark', 'snapshot', 'settled'],
                default='look'),
    releases=dict(type='path', required=True),
    state=dict(type='path', required=True),
    current=dict(type='path', required=True),
    venvs=dict(type='path', default=''),
    slots=dict(type='path', default=''),
    keep=dict(type='int', default=5),
    protect=dict(type='list', elements='path', default=[]),
    release=dict(type='str', default=''),
    env_dir=dict(type='path', default=''),
    mark=dict(type='str', choices=['checked', 'failed'], default='checked'),
    why=dict(type='str', default=''),
    data=dict(type='dict', default={}),
    files=dict(type='list', elements='path', default=[]),
    plan=dict(type='dict', default={}),
    fingerprint=dict(type='str', default=''),
    config=dict(type='str', default=''),
    target=dict(type='str', default=''),
    upstream_conf=dict(type='path', default=''),
    owner=dict(type='str', default=''),
    archive=dict(type='path', default=''),
    venv=dict(type='path', default=''),
    prune=dict(type='bool', default=False),
    # with snapshot: the deploy lock (module_utils/deploy_lock.py) released once it is taken; the action adds the token
    unlock=dict(type='dict', options=dict(path=dict(type='path', required=True),
                                          token=dict(type='str', required=True, no_log=False))),
)


def state_of(rid, marks, live):
    """The state of release ``rid`` from the names of the marks in state/ and the live release's id."""
    if rid == live:
        return 'live'
    if rid + '.failed' in marks:
        return 'failed'
    if rid + '.config' in marks and rid + '.checked' in marks:
        return 'retired'
    if rid + '.checked' in marks:
        return 'checked'
    return 'built'


def link_id(path):
    """The release id a link (current, a slot's) points to, or '' when it is no link."""
    try:
        return os.path.basename(os.readlink(path).rstrip('/'))
    except OSError:
        return ''


def _python(release):
    try:
        with open(os.path.join(release, '.venv', '.pyfleet-lock.json')) as fh:
            return str(json.load(fh).get('python') or '-')
    except (OSError, ValueError, AttributeError):
        return '-'


def look(p):
    """Every release on the host, newest first: id, created (UTC), mtime, state, was_live, python, lock_key,
    live; and the marks in state/."""
    try:
        names = sorted(n for n in os.listdir(p['releases']) if os.path.isdir(os.path.join(p['releases'], n)))
    except OSError:
        names = []
    try:
        marks = set(os.listdir(p['state']))
    except OSError:
        marks = set()
    live = link_id(p['current'])
    rows = []
    for rid in names:
        path = os.path.join(p['releases'], rid)
        mtime = os.lstat(path).st_mtime
        rows.append({'id': rid, 'path': path, 'mtime': mtime,
                     'created': time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(mtime)),
                     'state': state_of(rid, marks, live), 'was_live': rid == live or rid + '.config' in marks,
                     'python': _python(path), 'lock_key': link_id(os.path.join(path, '.venv')) or '-',
                     'live': rid == live})
    rows.sort(key=lambda r: (r['mtime'], r['id']), reverse=True)
    return rows, marks


def slot_targets(slots_dir):
    """The release ids the web instances' links point at."""
    try:
        return {link_id(os.path.join(slots_dir, n)) for n in os.listdir(slots_dir)} - {''}
    except OSError:
        return set()


def to_remove(rows, keep, protected=()):
    """The ids a clean-up removes from ``rows`` (newest first): of the releases that were live, all but the live
    one and the newest ``keep`` - 1 retired ones (at least one); every release that was never live, except the
    ``protected`` ids (the one being deployed, the ones a web instance runs)."""
    if keep < 1:
        raise ValueError('pyfleet_keep is %d: it must be 1 or more (the live release counts as one; the newest '
                         'retired release is always kept too, as the rollback target)' % keep)
    retired = [r['id'] for r in rows if r['was_live'] and not r['live']]
    kept = set(r['id'] for r in rows if r['live']) | set(retired[:max(keep - 1, 1)]) | set(protected)
    return [r['id'] for r in rows if r['id'] not in kept]


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def prune(p, check_mode=False):
    """Remove what ``to_remove`` says, the marks of every release that is gone, and the virtualenvs no kept
    release uses. The marks go first: a mark without its release would skip the checks of a release that is
    packed again later with the same id."""
    rows, marks = look(p)
    protected = {os.path.basename(x.rstrip('/')) for x in p['protect']} | slot_targets(p['slots'])
    gone = to_remove(rows, p['keep'], protected)
    ids = {r['id'] for r in rows}
    kept = ids - set(gone)
    stale = sorted(m for m in marks if m.rsplit('.', 1)[-1] in MARKS and m.rsplit('.', 1)[0] not in kept)
    used = {link_id(os.path.join(p['releases'], rid, '.venv')) for rid in kept} - {''}
    try:
        venvs = sorted(n for n in os.listdir(p['venvs']) if os.path.isdir(os.path.join(p['venvs'], n))
                       and n not in used) if p['venvs'] else []
    except OSError:
        venvs = []
    if not check_mode:
        for mark in stale:
            _remove(os.path.join(p['state'], mark))
        for rid in gone:
            _remove(os.path.join(p['releases'], rid))
        for key in venvs:
            _remove(os.path.join(p['venvs'], key))
    return dict(changed=bool(stale or gone or venvs), removed=gone, removed_marks=stale, removed_venvs=venvs,
                kept=sorted(kept))


def write(path, data, mode=0o644):
    """Write ``path`` whole (text or bytes): a temporary file made with ``mode``, then a rename, so it is never
    half-written nor, for a moment, more open than ``mode``; True when it changed."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    if _same(path, data):
        return False
    tmp = '%s.pyfleet-%d' % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


def mark(state_dir, rid, what, why='', check_mode=False, data=None):
    """Mark release ``rid`` ``checked`` (it passed every build step; an earlier failure's mark goes) or
    ``failed`` (a build step or its health gate failed; its checked mark goes, so a rerun checks it again).
    A checked mark holds ``data`` (what the build steps found out: gunicorn's answer), as JSON, for the
    runs that do not run them again. True when a mark changed."""
    rid = os.path.basename(rid.rstrip('/'))
    put, drop = (('checked', 'failed') if what == 'checked' else ('failed', 'checked'))
    path, other = os.path.join(state_dir, rid + '.' + put), os.path.join(state_dir, rid + '.' + drop)
    if what != 'checked':
        text = (why or 'failed') + '\n'
    else:
        text = (json.dumps(dict(data, id=rid), sort_keys=True) if data else rid) + '\n'
    text = text.encode()
    changed = not _same(path, text) or os.path.lexists(other)
    if changed and not check_mode:
        write(path, text, 0o600)
        if os.path.lexists(other):
            os.unlink(other)
    return changed


def one(p):
    """Where release ``p['release']`` (a path or an id) stands, in one look: checked (and what its checked mark
    holds, ``data``), failed, and whether a copy of it is unpacked (``left``)."""
    rid = os.path.basename(p['release'].rstrip('/'))
    data, checked = {}, False
    try:
        with open(os.path.join(p['state'], rid + '.checked'), 'rb') as fh:
            text = fh.read().decode('utf-8', 'replace').strip()
        checked = True
        data = json.loads(text) if text.startswith('{') else {}
    except OSError:
        pass
    except ValueError:
        data = {}
    data.pop('id', None)
    return dict(changed=False, release=rid, checked=checked, data=data if isinstance(data, dict) else {},
                marked_failed=os.path.lexists(os.path.join(p['state'], rid + '.failed')),
                left=os.path.isdir(os.path.join(p['releases'], rid)))


def prepare(p, check_mode=False):
    """``one``, and for a release that is not checked (a new one, or a copy a failed or interrupted deploy left,
    whatever a hook did to it): the copy removed, and an empty directory for it, ``owner``'s, 0751, in
    releases/ (root's, group ``owner``, 0751: nginx passes through to STATIC_ROOT). Never a live or slot's
    release: only a checked release is ever either. ``changed`` when anything was (or, in check mode, would be)
    done; ``left`` is what was found. With ``venv`` (the release's virtualenv), ``venv_complete`` says whether
    it is complete (its last step wrote .pyfleet-lock.json), so that its build need not look again."""
    import grp
    import pwd

    res = one(p)
    if p['venv']:
        res['venv_complete'] = os.path.isfile(os.path.join(p['venv'], '.pyfleet-lock.json'))
    if res['checked']:
        return res
    path = os.path.join(p['releases'], res['release'])
    try:
        uid, gid = pwd.getpwnam(p['owner']).pw_uid, grp.getgrnam(p['owner']).gr_gid
    except KeyError:
        if check_mode:  # the account a check run would make
            return dict(res, changed=True)
        raise
    # a release that is not checked is always made afresh: the result changed
    if check_mode:
        return dict(res, changed=True)
    st = os.stat(p['releases']) if os.path.isdir(p['releases']) else None
    if st is None or (st.st_uid, st.st_gid, st.st_mode & 0o7777) != (0, gid, 0o751):
        os.makedirs(p['releases'], mode=0o751, exist_ok=True)
        os.chown(p['releases'], 0, gid)
        os.chmod(p['releases'], 0o751)
    if res['left']:
        _remove(path)
    os.mkdir(path, 0o751)
    os.chown(path, uid, gid)
    os.chmod(path, 0o751)
    failed = unpack(p['archive'], path, p['owner']) if p['archive'] else None
    if failed:
        return dict(res, changed=True, failed=True, msg='pyfleet: ' + failed)
    return dict(res, changed=True)


def unpack(archive, path, owner, run=subprocess.run):
    """Unpack the release's gzipped tar ``archive`` (root's, read here and fed to tar) into its new directory
    ``path``, as ``owner``: its files are the app's, with the archive's modes (nothing for other users; private
    files 0600), and tar writes nothing the app's user could not. What failed, or None."""
    with open(archive, 'rb') as fh:
        res = run(['runuser', '-u', owner, '--', 'tar', '-x', '-z', '-p', '--no-same-owner', '-C', path, '-f', '-'],
                  stdin=fh, capture_output=True, text=True)
    if res.returncode != 0:
        return 'unpacking the release into %s failed: %s' % (path, (res.stderr or res.stdout).strip())
    return None


def snapshot(p, check_mode=False):
    """Keep what release ``p['release']`` runs with (``files``: its environment, units, site and port filter,
    each as it is now) and the plan's slice the switch needs (``plan``) in state/<id>.config/ (root's, 0700):
    what ``restore`` puts back. True when anything in it changed."""
    rid = os.path.basename(p['release'].rstrip('/'))
    snap = os.path.join(p['state'], rid + '.config')
    files = [f for f in p['files'] if os.path.isfile(f)]
    plan = dict(p['plan'], files=files)
    wanted = {os.path.basename(f): f for f in files}
    changed = []
    if not check_mode:
        os.makedirs(snap, mode=0o700, exist_ok=True)
        os.chmod(snap, 0o700)
    for name, src in sorted(wanted.items()):
        with open(src, 'rb') as fh:
            data = fh.read()
        if not _same(os.path.join(snap, name), data):
            changed.append(name)
            if not check_mode:
                write(os.path.join(snap, name), data, 0o600)
    text = (json.dumps(plan, indent=4, sort_keys=True) + '\n').encode()
    if not _same(os.path.join(snap, 'plan.json'), text):
        changed.append('plan.json')
        if not check_mode:
            write(os.path.join(snap, 'plan.json'), text, 0o600)
    try:
        stale = sorted(set(os.listdir(snap)) - set(wanted) - {'plan.json'})
    except OSError:
        stale = []
    for name in stale:
        changed.append(name)
        if not check_mode:
            _remove(os.path.join(snap, name))
    return dict(changed=bool(changed), release=rid, snapshot=snap, written=changed)


def _same(path, data):
    try:
        with open(path, 'rb') as fh:
            return fh.read() == data
    except OSError:
        return False


def restore(p, check_mode=False):
    """Put a release's configuration back as its snapshot (state/<id>.config/) has it: every file its plan.json
    lists, written whole (a temporary file, then a rename) where it differs. The release is ``release`` (an id),
    or the live one. Nothing to do when it has no snapshot (a first deploy, a release that was never live).
    The result says which files changed, and whether among them are units, the nginx site or the port filter."""
    rid = os.path.basename((p['release'] or link_id(p['current'])).rstrip('/'))
    snap = os.path.join(p['state'], rid + '.config') if rid else ''
    try:
        with open(os.path.join(snap, 'plan.json')) as fh:
            plan = json.load(fh)
    except (OSError, ValueError):
        return dict(changed=False, release=rid, snapshot=False, restored=[], units=False, site=False, filter=False,
                    plan={})
    restored = []
    for dest in plan.get('files') or []:
        try:
            with open(os.path.join(snap, os.path.basename(dest)), 'rb') as fh:
                data = fh.read()
        except OSError:
            continue
        if _same(dest, data):
            continue
        restored.append(dest)
        if check_mode:
            continue
        secret = bool(p['env_dir']) and dest.startswith(p['env_dir'].rstrip('/') + '/')
        write(dest, data, 0o600 if secret else 0o644)
    return dict(changed=bool(restored), release=rid, snapshot=True, restored=restored, plan=plan,
                units=any(d.startswith('/etc/systemd/') for d in restored),
                site=any(d.startswith('/etc/nginx/') for d in restored),
                filter=any(d.endswith(('/ports.nft', '-ports.service')) for d in restored))


def _snapshot_plan(state_dir, rid):
    try:
        with open(os.path.join(state_dir, rid + '.config', 'plan.json')) as fh:
            plan = json.load(fh)
    except (OSError, ValueError):
        return None
    return plan if isinstance(plan, dict) else None


def settled(p, run=subprocess.run, fetch=health.fetch):
    """Whether the host already is what this run asks for (``p['fingerprint']``) and runs it, looked at in the
    order of what costs least. Read-only. ``settled``: the host is done. ``code_only``: all of it holds except
    the release, and the live release was deployed with this run's configuration (``p['config']``, the
    fingerprint of all but the release), so a deploy need only ship, build and switch to the new release; then
    ``answers`` (what the live release's build found out, as a digest) and ``site`` (where its nginx site
    answers) are the snapshot's. ``why`` says what differs; ``release`` is the live one."""
    live = link_id(p['current'])
    out = dict(settled=False, code_only=False, release=live, why='', answers='', site={})

    def no(why):
        return dict(out, why=why)
    if not live:
        return no('no release is live here yet')
    plan = _snapshot_plan(p['state'], live)
    if plan is None:
        return no('the live release, %s, has no snapshot of its configuration' % live)
    same = bool(p['fingerprint']) and plan.get('fingerprint') == p['fingerprint']
    if not same and not (p['config'] and plan.get('config') == p['config']):
        return no('this run asks for something other than what the live release, %s, was deployed with' % live)
    if not os.path.isfile(os.path.join(p['state'], live + '.checked')) \
            or os.path.lexists(os.path.join(p['state'], live + '.failed')):
        return no('the live release, %s, is not marked checked' % live)
    python = os.path.join(p['releases'], live, '.venv', 'bin', 'python')
    if not os.path.exists(python):
        return no('%s is missing (or its interpreter is)' % python)
    snap = os.path.join(p['state'], live + '.config')
    for dest in plan.get('files') or []:
        try:
            with open(os.path.join(snap, os.path.basename(dest)), 'rb') as fh:
                kept = fh.read()
        except OSError:
            return no('the snapshot lacks its copy of %s' % dest)
        if not _same(dest, kept):
            return no('%s is not as the live release was deployed with' % dest)
    # the target, the port filter and every process (a scheduled job's timer, not the unit it starts now and then)
    others = list((plan.get('units') or {}).get('others') or [])
    units = [p['target']] if p['target'] else []
    units += [os.path.basename(f) for f in plan.get('files') or []
              if '/systemd/' in f and f.endswith('.service') and '@.' not in f
              and os.path.basename(f)[:-len('.service')] + '.timer' not in others]
    units += others
    web = plan.get('web') or {}
    web_units = {str(s['port']): s['unit'] for s in web.get('slots') or []}
    if web_units:
        units.append('nginx.service')
        where = slots_.read(p['upstream_conf'], p['slots'], web_units, run)
        if not where['live']:
            return no('nginx proxies to no web instance of the app')
        if link_id(os.path.join(p['slots'], where['live'])) != live:
            return no('the live web instance (port %s) does not run the live release' % where['live'])
        units.append(web_units[where['live']])
    states = slots_.unit_states(units, run)
    down = [u for u in units if states.get(u) != 'active']
    if down:
        return no(', '.join('%s is %s' % (u, states.get(u)) for u in down))
    check = plan.get('check') or {}
    if web_units and check.get('url'):
        status, body = fetch(check['url'], check.get('host'), float(check.get('request_timeout') or 5))
        why = health.judge(status, body, tuple(check.get('status_codes') or health.DEFAULT_STATUSES),
                           check.get('body') or '')
        if why:
            return no('the live release does not answer %s through nginx: %s' % (check['url'], why))
    if same:
        return dict(out, settled=True)
    return dict(out, code_only=True, answers=str(plan.get('answers') or ''), site=plan.get('site') or {},
                scale=_kept_scale(os.path.join(snap, 'config.json')),
                why='only the code differs from the live release, %s (same configuration)' % live)


def _kept_scale(path):
    """The process counts scale.yml kept (config.json, as the snapshot holds it): the code path runs as many."""
    from ansible_collections.pyfleet.deploy.plugins.module_utils import appconfig   # (it writes through this file)
    try:
        return appconfig.load(path)['scale']
    except ValueError:
        return {}


def run_task(p, check_mode=False):
    """The module's result for validated parameters ``p``."""
    if p['action'] == 'settled':
        return dict(settled(p), changed=False)
    if p['action'] == 'restore':
        return restore(p, check_mode)
    if p['action'] == 'mark':
        return dict(changed=mark(p['state'], p['release'], p['mark'], p['why'], check_mode, p['data']),
                    release=os.path.basename(p['release'].rstrip('/')), mark=p['mark'])
    if p['action'] == 'snapshot':
        return keep(p, check_mode)
    if p['action'] == 'one':
        return one(p)
    if p['action'] == 'prepare':
        return prepare(p, check_mode)
    if p['action'] == 'look':
        rows, marks = look(p)
        return dict(changed=False, releases=[dict((k, v) for k, v in r.items() if k not in ('path', 'mtime'))
                                             for r in rows])
    if p['keep'] < 1:
        return _keep_refused(p['keep'])
    return prune(p, check_mode)


def keep(p, check_mode=False):
    """The snapshot action: ``snapshot``; with ``prune``, then the clean-up (``prune``); with ``unlock``, then the
    deploy lock goes (the deploy's last step on the host), all in the same round-trip (check mode too)."""
    if p['prune'] and p['keep'] < 1:
        return _keep_refused(p['keep'])
    res = snapshot(p, check_mode)
    if p['prune']:
        pruned = prune(p, check_mode)
        res = dict(res, **dict(pruned, changed=res['changed'] or pruned['changed']))
    if p['unlock']:
        from ansible_collections.pyfleet.deploy.plugins.module_utils import deploy_lock  # (it reads through this file)
        res['unlocked'] = deploy_lock.release(p['unlock']['path'], p['unlock']['token'])
    return res


def snapshot_params(values):
    """``values`` (the snapshot action's parameters, as another module passes them on) checked against this
    module's argument spec, with its defaults: the parameters ``keep`` takes. A ValueError says what is wrong."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    checked = ArgumentSpecValidator(ARGUMENT_SPEC).validate(dict(values, action='snapshot'))
    if checked.error_messages:
        raise ValueError('; '.join(checked.error_messages))
    return checked.validated_parameters


def _keep_refused(keep):
    return dict(failed=True, msg='pyfleet: pyfleet_keep is %d; it must be 1 or more. The live release counts as one, '
                                 'and the newest retired one is always kept as the rollback target.' % keep)
