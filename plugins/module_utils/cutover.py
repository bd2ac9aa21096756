# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Blue/green's cutover on one host, in one round-trip: what roles/app_switch did in some twenty tasks.

With ``switch``: the idle web instance's link points at the release, the instance starts beside the live
one and is asked directly (health.wait_healthy, with the site's Host); only then is nginx's upstream
written, checked (``nginx -t``) and reloaded gracefully. ``current`` moves to the release (a rename), the
other web instance drains and stops, the other processes restart on the new ``current``, and the app's
target runs. On any failure before nginx serves the release, nginx goes back to (or stays on) the live
instance, the new one stops, the release is marked failed and loses its checked mark: it is said once.

Without ``switch`` (the release is the live one): ``current`` points at it, the live instance runs and
starts at boot (asked again when it was found down), the site is asked through nginx when nginx changed,
and the rest is as above.

What serves is read on the host, under a lock of the app's own (``state_dir/.cutover.lock``), in the same
task that acts on it (module_utils/slots.py): an earlier cutover still running there (its deploy was killed,
and the host went on) is waited for, never raced.

Each instance runs with an environment of its own: ``env_file`` (the deploy's, which the build steps read) is
copied to ``<env_file>.<port>`` just before the instance starts, and to ``<env_file>.current`` (the other
processes') once ``current`` moved. A deploy that fails, or a later change of ``env_file``, never reaches the
live instance: it restarts, and boots, with the environment it went live with.

Draining: nginx's workers from before the reload are the only ones that can still send the old instance a
request; it stops once they have all exited (or after ``drain_seconds``), not after a fixed sleep. Its stop
(gunicorn's graceful one) is not waited for, and the enable and the disable of the pair cost one reload of
systemd between them.

Plain Python (the standard library, systemctl and nginx); ``Host`` is what touches the machine, so the unit
tests run the whole logic against a fake.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import time

from ansible_collections.pyfleet.deploy.plugins.module_utils import health, ports, releases, report, slots
from ansible_collections.pyfleet.deploy.plugins.module_utils.releases import write

ARGUMENT_SPEC = dict(
    health.CHECK_SPEC,
    release_dir=dict(type='path', required=True),
    restart=dict(type='bool', default=False),
    current=dict(type='path', required=True),
    state_dir=dict(type='path', required=True),
    slots_dir=dict(type='path', default=''),
    slots=dict(type='list', elements='dict', default=[]),
    others=dict(type='list', elements='str', default=[]),
    restart_others=dict(type='bool', default=False),
    target=dict(type='str', default=''),
    upstream_conf=dict(type='path', default=''),
    upstreams=dict(type='dict', default={}),
    site_url=dict(type='str', default=''),
    check_site=dict(type='bool', default=False),
    check_instance=dict(type='bool', default=False),
    health_path=dict(type='str', default='/'),
    health_also=dict(type='list', elements='str', default=[]),
    request_timeout=dict(type='float', default=5.0),
    host=dict(type='str'),
    drain_seconds=dict(type='float', default=10.0),
    first_deploy=dict(type='bool', default=False),
    env_file=dict(type='path', default=''),
    # once the switch went through: the live release's snapshot, in the same round-trip (releases.keep; the
    # parameters of pyfleet.deploy.app_releases' snapshot action but the release and its health check, which
    # are this switch's); empty: none
    snapshot=dict(type='dict', default={}),
)

_ACTIVE = ('active', 'activating', 'reloading')


class Failed(Exception):
    """A failure, said once: its text is the task's message."""


class Host:
    """What the cutover does to the machine. The unit tests replace it with a fake."""

    def systemctl(self, *args):
        res = subprocess.run(['systemctl'] + list(args), capture_output=True, text=True, check=False)
        return res.returncode, (res.stdout + res.stderr).strip()

    def states(self, units):
        """{unit: (ActiveState, UnitFileState)} from one systemctl call."""
        found = slots.unit_props(units, ('ActiveState', 'UnitFileState'))
        return {u: (v['ActiveState'], v['UnitFileState']) for u, v in found.items()}

    def nginx_test(self):
        res = subprocess.run(['nginx', '-t', '-q'], capture_output=True, text=True, check=False)
        return res.returncode, (res.stdout + res.stderr).strip()

    def nginx_workers(self):
        """The pids of nginx's worker processes now (by their titles)."""
        pids = set()
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            try:
                with open('/proc/%s/cmdline' % entry, 'rb') as fh:
                    title = fh.read().split(b'\0')[0]
            except OSError:
                continue
            if title.startswith(b'nginx: worker process'):
                pids.add(int(entry))
        return pids

    def where(self, upstream_conf, slots_dir, units):
        """Where blue/green stands (module_utils/slots.py): live, runs, running."""
        return slots.read(upstream_conf, slots_dir, units)

    @contextlib.contextmanager
    def lock(self, path):
        with open(path, 'a') as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def check(self, p):
        unit = p.get('journal_unit')
        return health.wait_healthy([p['url']] + list(p.get('also') or []), p['host'],
                                   tuple(p['status_codes'] or health.DEFAULT_STATUSES), p['body'], p['timeout'],
                                   p['interval'], request_timeout=p.get('request_timeout') or 5.0,
                                   unix_socket=p.get('unix_socket'), gone=(lambda: self.exited(unit)) if unit else None)

    def exited(self, unit):
        """Why ``unit`` is not running its process any more since it was started (it exited, and systemd
        restarts it or gave up), or None while it runs."""
        props = slots.unit_props([unit], ('ActiveState', 'SubState', 'NRestarts', 'ExecMainStatus', 'Result'))[unit]
        restarts = int(props['NRestarts']) if props['NRestarts'].isdigit() else 0
        if restarts or props['SubState'] in ('auto-restart', 'failed', 'dead', 'exited'):
            return 'its process exited (status %s, %s; systemd restarted it %d time%s), so it was not waited for' % (
                props['ExecMainStatus'] or '?', props['Result'] or props['SubState'], restarts, '' if restarts == 1 else 's')
        return None

    def unit_ports(self, unit):
        """The TCP ports ``unit``'s processes listen on (module_utils/ports.py)."""
        return ports.listened_by(unit)

    def journal(self, unit, lines):
        return health.journal(unit, lines)

    def port_holders(self, port):
        """Who listens on TCP ``port`` (module_utils/ports.py): [{pid, command, unit}]."""
        return ports.holders(port)

    def sleep(self, seconds):
        time.sleep(seconds)

    def clock(self):
        return time.monotonic()


def point(link, target):
    """Point ``link`` at ``target`` by a rename (never missing on the way); True when it changed."""
    if os.path.islink(link) and os.readlink(link) == target:
        return False
    tmp = '%s.pyfleet-%d' % (link, os.getpid())
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)
    return True


def remove(path):
    if os.path.lexists(path):
        os.unlink(path)


def read(path):
    """The text of ``path``, or None."""
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


def decide(p, seen):
    """What this run does, from where blue/green stands (``seen``: live, runs, running): whether the release
    starts beside the live one (``switch``), on which instance, and which release serves after it."""
    web = p['slots']
    live = seen.get('live', '')
    live_release = seen.get('runs', {}).get(live, '') if live else ''
    if live:
        idle = [s for s in web if str(s['port']) != live]
    else:  # none live: the first that is not running (an older pyfleet's single instance may be serving)
        idle = [s for s in web if s['unit'] not in seen.get('running', [])]
    idle = (idle or web or [{}])[0]
    switch = bool(web) and (not live or live_release != p['release_dir'] or p['restart'])
    if switch:
        return dict(switch=True, instance=idle, serves=p['release_dir'], live_release=live_release)
    instance = next((s for s in web if str(s['port']) == live), {})
    return dict(switch=False, instance=instance, serves=p['release_dir'] if not web else live_release,
                live_release=live_release)


class Cutover:
    def __init__(self, p, host=None, check_mode=False):
        self.p = p
        self.host = host or Host()
        self.check_mode = check_mode
        self.done = []          # what was done, in order (the result's ``actions``)
        self.changed = False
        self.switch, self.instance, self.serves, self.live_release = False, {}, p['release_dir'], ''
        self.web_units = [s['unit'] for s in p['slots']]
        self.seen = {}
        self.reload_due = False  # an enable or disable was done without systemd's reload (_reload)

    # -- systemd
    def _do(self, *args):
        rc, out = self.host.systemctl(*args)
        if rc != 0:
            raise Failed('pyfleet: systemctl %s failed (exit %d).\n%s' % (' '.join(args), rc, out))
        self.done.append(' '.join(args))
        self.changed = True

    def _run_at_boot(self, unit, states):
        """``unit`` runs and starts at boot; True when it had to be started."""
        active, enabled = states.get(unit, ('unknown', ''))
        if enabled not in ('enabled', 'static', 'indirect', 'generated', 'alias'):
            self._do('enable', '--no-reload', unit)
            self.reload_due = True
        if active not in _ACTIVE:
            self._reload()
            self._do('start', unit)
            return True
        return False

    def _retire(self, units, states):
        """``units`` no longer start at boot, and stop (without waiting: nginx no longer sends them anything). The
        reload comes before the stops, which would only slow it down."""
        for unit in units:
            if states.get(unit, ('unknown', ''))[1] == 'enabled':
                self._do('disable', '--no-reload', unit)
                self.reload_due = True
        self._reload()
        for unit in units:
            if states.get(unit, ('unknown', ''))[0] in _ACTIVE:
                self._do('stop', '--no-block', unit)

    def _reload(self):
        """One daemon-reload for the enables and disables before it (each would reload on its own), so that the
        target's dependencies at run time are those a boot would have."""
        if self.reload_due:
            self.reload_due = False
            self._do('daemon-reload')

    def _foreign(self, inst):
        """The listeners on a port instance's port that are not in its own unit."""
        if inst.get('socket') or not inst.get('port'):
            return []
        return [h for h in self.host.port_holders(int(inst['port'])) if h['unit'] != inst['unit']]

    def _own_port(self, inst, outcome, when):
        """A port instance's port is listened on by its own unit alone: no other process (another app, a
        squatter that bound it first) ever answers for it, to the health gate or to nginx."""
        foreign = self._foreign(inst)
        if foreign:
            raise Failed(report.compose(
                'pyfleet: port %s, which %s listens on, is taken by %s %s. pyfleet never sends a request to a listener '
                'that is not the instance\'s own.' % (inst['port'], inst['unit'],
                                                      ', '.join(ports.describe(h) for h in foreign), when),
                outcome, 'Stop what holds it, or give the app ports of its own (pyfleet_web_port), and deploy again.'))

    def _ask(self, url, unix_socket, journal_unit, outcome):
        p = self.p
        q = dict(url=url + p['health_path'], also=[url + path for path in p['health_also']],
                 request_timeout=p['request_timeout'], unix_socket=unix_socket or None, host=p['host'],
                 status_codes=p['status_codes'], body=p['body'], timeout=p['timeout'], interval=p['interval'],
                 name=p['name'], journal_unit=journal_unit, journal_lines=p['journal_lines'], hints=p['hints'],
                 outcome=outcome, timeout_setting=p['timeout_setting'])
        res = self.host.check(q)
        self.done.append('asked %s%s: %s in %.2f s' % (q['url'], ' on ' + q['unix_socket'] if q['unix_socket'] else '',
                                                        'healthy' if res['ok'] else res['why'], res['elapsed']))
        if not res['ok']:
            raise Failed(report.compose(health.failure(q, res, self.host.journal),
                                        self._listens_elsewhere(journal_unit, unix_socket, url, res)))
        return res

    def _listens_elsewhere(self, unit, unix_socket, url, res):
        """For an instance on a port that never answered there: the ports it does listen on, and $PORT."""
        if unix_socket or res.get('status') is not None or not unit:
            return ''
        port = url.rsplit(':', 1)[-1].split('/')[0]
        found = [str(n) for n in self.host.unit_ports(unit) if str(n) != port]
        if not found:
            return ('%s listens on no TCP port. pyfleet sends its requests to $PORT (%s here): the web process must '
                    'listen there, on any address or 127.0.0.1.' % (unit, port))
        return ('%s listens on %s, not on $PORT (%s here). pyfleet gives each web instance its port in the PORT '
                'environment variable (and LEANCLOUD_APP_PORT on LeanEngine), and asks it there: make the web process '
                'listen on it, e.g. port=int(os.environ["PORT"]) in the app, or "--port $PORT" in its command.'
                % (unit, ', '.join(found), port))

    # -- the two paths
    def run(self):
        p = self.p
        if self.check_mode:
            return self._decide_and_act()
        with self.host.lock(os.path.join(p['state_dir'], '.cutover.lock')):
            return self._decide_and_act()

    def _decide_and_act(self):
        p = self.p
        seen = {}
        if p['slots'] and not (self.check_mode and p['first_deploy']):
            seen = self.host.where(p['upstream_conf'], p['slots_dir'], {str(s['port']): s['unit'] for s in p['slots']})
        self.seen = seen
        d = decide(p, seen)
        self.switch, self.instance, self.serves, self.live_release = d['switch'], d['instance'], d['serves'], d['live_release']
        if self.check_mode:
            return self._predict()
        if self.switch:
            return self._switch()
        return self._settle(self.serves, self.instance, started=False)

    def _result(self, current_changed):
        return dict(changed=self.changed, switched=self.switch, live_release=self.serves,
                    served_before=self.live_release, current_changed=current_changed,
                    instance=self.instance.get('unit', ''), actions=self.done)

    def _switch(self):
        p, inst = self.p, self.instance
        live = os.path.basename(self.live_release.rstrip('/')) if self.live_release else ''
        outcome = ('The live release, %s, kept serving: nginx never sent this one a request.' % live if live
                   else 'Nothing served before it: it was stopped, and nothing serves.')
        slot = os.path.join(p['slots_dir'], str(inst['port']))
        before = None
        try:
            self._seed_live_env(live)
            os.makedirs(p['slots_dir'], mode=0o755, exist_ok=True)
            if point(slot, p['release_dir']):
                self.done.append('pointed %s at %s' % (slot, p['release_dir']))
            self._own_port(inst, outcome, 'before it started')
            self._env_to(str(inst['port']))
            rc, out = self.host.systemctl('restart', inst['unit'])
            self.done.append('restart %s' % inst['unit'])
            self.changed = True
            if rc != 0:
                raise Failed(report.compose(
                    'pyfleet: %s did not start (systemctl restart, exit %d): %s' % (inst['unit'], rc, out),
                    outcome, ['Last journal lines (%s):' % inst['unit']]
                    + self.host.journal(inst['unit'], p['journal_lines']).splitlines()))
            self._ask(inst['url'], inst.get('socket'), inst['unit'], outcome)
            self._own_port(inst, outcome, 'beside it')
            before = read(p['upstream_conf']) or ''
            workers = set()
            if write(p['upstream_conf'], p['upstreams'][str(inst['port'])]):
                self.done.append('wrote %s' % p['upstream_conf'])
                rc, out = self.host.nginx_test()
                if rc != 0:
                    raise Failed('pyfleet: nginx -t failed with the new upstream (exit %d); %s\n%s' % (rc, outcome, out))
                workers = self.host.nginx_workers()
                self._do('reload', 'nginx')
        except Failed as exc:
            raise Failed(self._undo(str(exc), before, slot))
        return self._settle(p['release_dir'], inst, started=True, workers=workers)

    def _env_to(self, name, text=None):
        """Write ``<env_file>.<name>`` (an instance's environment, or the other processes'): ``text``, or else the
        deploy's environment as it is."""
        env = self.p['env_file']
        text = read(env) if text is None and env else text
        if text is not None and write('%s.%s' % (env, name), text, 0o600):
            self.done.append('wrote %s.%s' % (env, name))
            self.changed = True

    def _seed_live_env(self, live):
        """A live instance from before environments were its own gets one: its release's snapshot's (what it
        went live with), or else the deploy's file as it is."""
        env, port = self.p['env_file'], (self.seen or {}).get('live', '')
        if env and port and not os.path.exists('%s.%s' % (env, port)):
            self._env_to(port, read(os.path.join(self.p['state_dir'], live + '.config', os.path.basename(env)))
                         if live else None)

    def _undo(self, msg, before, slot):
        """After a failed switch: nginx back on the live instance, the new one stopped, the release failed."""
        p, inst = self.p, self.instance
        lines = [msg]
        try:
            if before and write(p['upstream_conf'], before):
                self.host.systemctl('reload', 'nginx')
                lines.append('nginx went back to the live release, %s, and this one is stopped.'
                             % os.path.basename(self.live_release.rstrip('/')))
            self.host.systemctl('stop', inst['unit'])
            self.host.systemctl('disable', inst['unit'])
            # a rerun of the same deploy checks it again, from its build steps on; the live release itself
            # (a restart, or config.yml's new environment, that failed) serves on, and stays as it was
            if p['release_dir'].rstrip('/') != (self.live_release or '').rstrip('/'):
                releases.mark(p['state_dir'], p['release_dir'], 'failed', 'switch')
            remove(slot)
        except OSError as exc:
            lines.append('pyfleet: putting the live release back failed too: %s' % exc)
        return '\n'.join(lines)

    def _settle(self, release, inst, started, workers=()):
        """``current`` at ``release``, the instance ``inst`` live and at boot, the rest retired or restarted."""
        p = self.p
        current_changed = point(p['current'], release)
        if current_changed:
            self.done.append('pointed %s at %s' % (p['current'], release))
            self.changed = True
        if p['env_file'] and (current_changed or p['restart_others'] or self.switch
                              or not os.path.exists(p['env_file'] + '.current')):
            self._env_to('current')
        if p['env_file'] and inst.get('port') and not os.path.exists('%s.%s' % (p['env_file'], inst['port'])):
            self._env_to(str(inst['port']))
        others_web = [u for u in self.web_units if u != inst.get('unit')]
        states = self.host.states([u for u in [inst.get('unit')] + others_web + [p['target']] if u])
        if inst.get('unit'):
            started = self._run_at_boot(inst['unit'], states) or started
            if not self.switch and (started or p['check_instance']):
                again = ('The live release, %s, was started again, and it does not answer; there is no other checked '
                         'release running to fall back to.' % os.path.basename(release.rstrip('/')))
                self._ask(inst['url'], inst.get('socket'), inst['unit'], again)
                self._own_port(inst, again, 'beside it')
            if not self.switch and p['site_url'] and p['check_site']:
                self._ask(p['site_url'], None, inst['unit'],
                          'nginx changed, and the live release, %s, does not answer through it.'
                          % os.path.basename(release.rstrip('/')))
        if workers and any(states.get(u, ('',))[0] in _ACTIVE for u in others_web):
            self._drain(workers)
        self._retire(others_web, states)
        if p['others'] and (current_changed or p['restart_others']):
            for unit in p['others']:
                self._do('restart', unit)
        if p['target']:
            self._run_at_boot(p['target'], states)
        self._reload()
        return self._result(current_changed)

    def _drain(self, workers):
        """Wait until nginx's workers from before the reload have exited, for at most drain_seconds."""
        start = self.host.clock()
        deadline = start + self.p['drain_seconds']
        left = set(workers)
        while True:
            left &= self.host.nginx_workers()
            if not left or self.host.clock() >= deadline:
                break
            self.host.sleep(0.05)
        self.done.append('drained in %.2f s%s' % (self.host.clock() - start,
                                                   ' (%d old nginx workers still running)' % len(left) if left else ''))

    def _predict(self):
        """Check mode: what a run would change, from what is there; nothing is touched."""
        p, inst = self.p, self.instance
        if self.switch or p['first_deploy']:
            if self.switch:
                self.done.append('would start %s beside the live one and switch nginx to it' % inst.get('unit', ''))
            self.changed = True
            return self._result(True)
        current_changed = not (os.path.islink(p['current']) and os.readlink(p['current']) == self.serves)
        others_web = [u for u in self.web_units if u != inst.get('unit')]
        states = self.host.states([u for u in [inst.get('unit')] + others_web + [p['target']] if u])
        ok = {'enabled', 'static', 'indirect', 'generated', 'alias'}
        changed = current_changed or bool(p['others'] and p['restart_others'])
        if inst.get('unit'):
            active, enabled = states.get(inst['unit'], ('unknown', ''))
            changed = changed or active not in _ACTIVE or enabled not in ok
        for unit in others_web:
            active, enabled = states.get(unit, ('unknown', ''))
            changed = changed or active in _ACTIVE or enabled == 'enabled'
        if p['target']:
            active, enabled = states.get(p['target'], ('unknown', ''))
            changed = changed or active not in _ACTIVE or enabled not in ok
        self.changed = changed
        return self._result(current_changed)


def run_task(p, host=None, check_mode=False):
    """The module's result for validated parameters ``p``."""
    bad = report.bad_pattern([('body', p['body'])] + [('hints', h.get('match')) for h in p['hints']])
    if bad:
        return dict(failed=True, msg=bad)
    cut = Cutover(p, host, check_mode)
    try:
        res = cut.run()
    except Failed as exc:
        return dict(failed=True, changed=cut.changed, msg=str(exc), actions=cut.done)
    # the health check a rerun's fast path asks through nginx (kept in the snapshot)
    res['check'] = dict(url=p['site_url'] + p['health_path'] if p['site_url'] else '', host=p['host'],
                        status_codes=p['status_codes'], body=p['body'], request_timeout=p['request_timeout'])
    if p['snapshot'] and not (check_mode and p['first_deploy']):
        live = res['live_release']
        try:
            kept = releases.keep(releases.snapshot_params(dict(
                p['snapshot'], release=live, protect=[live],
                plan=dict(p['snapshot'].get('plan') or {}, check=res['check']))), check_mode)
        except (ValueError, OSError) as exc:
            return dict(res, failed=True, msg='pyfleet: the switch went through, but the live release\'s snapshot '
                                              'failed: %s' % exc)
        if kept.get('failed'):
            return dict(res, **kept)
        res.update(snapshot=kept, changed=res['changed'] or kept['changed'])
    return res
