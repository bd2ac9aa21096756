"""Blue/green's cutover in one round-trip (module_utils/cutover.py), against a fake machine: the order of what it
does, what a failure puts back, how long it drains, and what check mode predicts."""
import contextlib
import json
import os
import subprocess

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import cutover, slots

BLUE, GREEN = 'pyfleet-shop-web@8000.service', 'pyfleet-shop-web@8001.service'
TARGET, WORKER = 'pyfleet-shop.target', 'pyfleet-shop-worker.service'


class FakeHost:
    """systemd, nginx and the health gate as a dict of unit states and a script of answers."""

    def __init__(self, active=(), enabled=(), healthy=True, nginx_ok=True, workers=({11, 12}, set()), fail=()):
        self.units = {u: ['active' if u in active else 'inactive', 'enabled' if u in enabled else 'disabled']
                      for u in (BLUE, GREEN, TARGET, WORKER)}
        self.healthy, self.nginx_ok, self.fail = healthy, nginx_ok, set(fail)
        self.workers = list(workers)     # what each look at nginx's workers finds, in turn (the last repeats)
        self.log, self.asked, self.now = [], [], 0.0

    def systemctl(self, *args):
        self.log.append(' '.join(args))
        verb, unit = args[0], args[-1]
        if ' '.join(args) in self.fail:
            return 1, 'Job for %s failed.' % unit
        if verb in ('start', 'restart'):
            self.units[unit][0] = 'active'
        elif verb == 'stop':
            self.units[unit][0] = 'inactive'
        elif verb in ('enable', 'disable'):
            self.units[unit][1] = verb + 'd'
        return 0, ''

    def states(self, units):
        self.log.append('show ' + ' '.join(units))
        return {u: tuple(self.units[u]) for u in units}

    def where(self, upstream_conf, slots_dir, units):
        def show(cmd, **kw):
            out = ''.join('Id=%s\nActiveState=%s\n\n' % (u, self.units[u][0]) for u in cmd[4:])
            return subprocess.CompletedProcess(cmd, 0, out, '')
        self.log.append('where')
        return slots.read(upstream_conf, slots_dir, units, run=show)

    @contextlib.contextmanager
    def lock(self, path):
        self.log.append('lock ' + os.path.basename(path))
        yield
        self.log.append('unlock')

    def nginx_test(self):
        self.log.append('nginx -t')
        return (0, '') if self.nginx_ok else (1, 'nginx: [emerg] host not found in upstream')

    def nginx_workers(self):
        return self.workers.pop(0) if len(self.workers) > 1 else self.workers[0]

    def check(self, q):
        self.asked.append(q)
        self.log.append('ask ' + q['url'] + (' on ' + q['unix_socket'] if q['unix_socket'] else ''))
        ok = self.healthy(q) if callable(self.healthy) else self.healthy
        return {'ok': ok, 'status': 200 if ok else 500, 'why': None if ok else 'status 500 is not an accepted one',
                'body': 'ok' if ok else 'Server Error', 'attempts': 1 if ok else 7, 'elapsed': 0.2}

    def journal(self, unit, lines):
        return 'Traceback (most recent call last):\nRuntimeError: boom in %s' % unit

    listeners = {}      # port -> [{pid, command, unit}]: who listens on it

    def port_holders(self, port):
        self.log.append('holders %d' % port)
        return self.listeners.get(port, [])

    unit_listens = {}   # unit -> the ports it listens on

    def unit_ports(self, unit):
        return self.unit_listens.get(unit, [])

    def sleep(self, seconds):
        self.now += seconds

    def clock(self):
        return self.now


@pytest.fixture
def app(tmp_path):
    for d in ('releases/r1', 'releases/r2', 'state', 'slots'):
        (tmp_path / d).mkdir(parents=True)
    os.symlink(str(tmp_path / 'releases/r1'), str(tmp_path / 'current'))
    os.symlink(str(tmp_path / 'releases/r1'), str(tmp_path / 'slots/8000'))
    (tmp_path / 'state/r2.checked').write_text('')
    (tmp_path / 'upstream.conf').write_text('# live: 8000\nserver unix:/run/shop/web-8000.sock;\n')
    return tmp_path


SLOTS = [{'port': 8000, 'unit': BLUE, 'url': 'http://localhost', 'socket': '/run/shop/web-8000.sock'},
         {'port': 8001, 'unit': GREEN, 'url': 'http://localhost', 'socket': '/run/shop/web-8001.sock'}]


def params(app, **kw):
    p = {k: v.get('default') for k, v in cutover.ARGUMENT_SPEC.items()}
    p.update(release_dir=str(app / 'releases/r2'), current=str(app / 'current'), state_dir=str(app / 'state'),
             slots_dir=str(app / 'slots'), slots=SLOTS, others=[WORKER], target=TARGET,
             upstream_conf=str(app / 'upstream.conf'),
             upstreams={str(s['port']): '# live: %d\nserver unix:%s;\n' % (s['port'], s['socket']) for s in SLOTS},
             host='shop.example.com', name='shop')
    p.update(kw)
    return p


def live(app, **kw):
    """The parameters of a run whose release is the live one (r1, on 8000)."""
    return params(app, release_dir=str(app / 'releases/r1'), **kw)


def test_a_switch_starts_asks_switches_drains_and_stops_the_old_in_that_order(app):
    # nginx's workers: two before the reload, both still there at the first look after it, then gone
    host = FakeHost(active={BLUE, TARGET, WORKER}, enabled={BLUE, TARGET}, workers=({11, 12}, {11, 12, 13}, {13}))
    res = cutover.run_task(params(app), host)
    assert not res.get('failed') and res['changed'] and res['current_changed']
    assert os.readlink(str(app / 'current')) == str(app / 'releases/r2')
    assert os.readlink(str(app / 'slots/8001')) == str(app / 'releases/r2')
    assert res['served_before'] == str(app / 'releases/r1')      # what a fleet that stops its rollout goes back to
    assert (app / 'upstream.conf').read_text().startswith('# live: 8001')
    order = [line for line in host.log if not line.startswith(('show', 'where', 'lock', 'unlock'))]
    assert order == ['restart ' + GREEN, 'ask http://localhost/ on /run/shop/web-8001.sock', 'nginx -t', 'reload nginx',
                     'enable --no-reload ' + GREEN, 'disable --no-reload ' + BLUE, 'daemon-reload',
                     'stop --no-block ' + BLUE, 'restart ' + WORKER]
    assert host.asked[0]['host'] == 'shop.example.com'        # the site's real Host, on the instance's own socket
    # the old instance stopped as soon as nginx's workers from before the reload were gone, not after a fixed wait
    assert any(a.startswith('drained in 0.05 s') for a in res['actions']), res['actions']


def test_enables_and_disables_share_one_reload_which_comes_before_a_start(app):
    # the live instance is down and not enabled, the target not enabled: the enables come first, then one reload
    # (a start after it sees the dependencies a boot would), then the starts
    host = FakeHost(active={WORKER}, enabled=set())
    res = cutover.run_task(live(app), host)
    assert not res.get('failed'), res
    order = [line for line in host.log if not line.startswith(('show', 'where', 'lock', 'unlock', 'ask'))]
    assert order == ['enable --no-reload ' + BLUE, 'daemon-reload', 'start ' + BLUE, 'enable --no-reload ' + TARGET,
                     'daemon-reload', 'start ' + TARGET], order
    # nothing to enable or disable: no reload at all
    again = FakeHost(active={BLUE, TARGET, WORKER}, enabled={BLUE, TARGET})
    cutover.run_task(live(app), again)
    assert 'daemon-reload' not in again.log


def test_the_drain_gives_up_waiting_after_drain_seconds(app):
    host = FakeHost(active={BLUE}, enabled={BLUE}, workers=({11, 12}, {12, 13}))
    res = cutover.run_task(params(app, drain_seconds=1.0), host)
    assert not res.get('failed')
    assert any('still running' in a for a in res['actions']) and 0.99 <= host.now <= 1.1


def test_a_failing_health_check_never_reaches_nginx_and_leaves_the_live_release_serving(app):
    host = FakeHost(active={BLUE, TARGET}, enabled={BLUE, TARGET}, healthy=False)
    upstream_before = (app / 'upstream.conf').read_text()
    res = cutover.run_task(params(app), host)
    assert res['failed']
    assert 'nginx -t' not in host.log and 'reload nginx' not in host.log
    assert (app / 'upstream.conf').read_text() == upstream_before
    assert os.readlink(str(app / 'current')) == str(app / 'releases/r1')      # current never moved
    assert host.units[BLUE][0] == 'active' and host.units[GREEN] == ['inactive', 'disabled']
    assert (app / 'state/r2.failed').read_text() == 'switch\n' and oct((app / 'state/r2.failed').stat().st_mode)[-3:] == '600'
    assert not (app / 'state/r2.checked').exists() and not os.path.lexists(str(app / 'slots/8001'))
    msg = res['msg']
    assert msg.startswith('pyfleet: shop http://localhost/ (on /run/shop/web-8001.sock) did not answer as healthy')
    assert 'The live release, r1, kept serving' in msg and 'RuntimeError: boom in ' + GREEN in msg
    assert msg.count('Last status: 500') == 1


def test_a_restart_of_the_live_release_that_fails_its_check_leaves_it_serving_and_marked_as_it_was(app):
    # a restart, or config.yml's new environment: the live release (r1) starts afresh on the other instance
    (app / 'state/r1.checked').write_text('')
    host = FakeHost(active={BLUE, TARGET}, enabled={BLUE, TARGET}, healthy=False)
    res = cutover.run_task(live(app, restart=True), host)
    assert res['failed'] and 'The live release, r1, kept serving' in res['msg']
    assert host.units[BLUE][0] == 'active' and host.units[GREEN] == ['inactive', 'disabled']
    assert (app / 'state/r1.checked').exists() and not (app / 'state/r1.failed').exists()
    assert os.readlink(str(app / 'current')) == str(app / 'releases/r1')


def test_a_failing_nginx_check_puts_the_upstream_back_and_reloads_nothing(app):
    host = FakeHost(active={BLUE}, enabled={BLUE}, nginx_ok=False)
    upstream_before = (app / 'upstream.conf').read_text()
    res = cutover.run_task(params(app), host)
    assert res['failed'] and 'nginx -t failed' in res['msg'] and 'host not found in upstream' in res['msg']
    assert (app / 'upstream.conf').read_text() == upstream_before
    assert host.log.count('reload nginx') == 1      # once, to go back: the failed file was never loaded, but it was written
    assert 'nginx went back to the live release, r1' in res['msg']
    assert host.units[GREEN][0] == 'inactive' and os.readlink(str(app / 'current')) == str(app / 'releases/r1')


def test_an_instance_that_does_not_start_is_said_with_its_journal(app):
    host = FakeHost(active={BLUE}, enabled={BLUE}, fail={'restart ' + GREEN})
    res = cutover.run_task(params(app), host)
    assert res['failed'] and res['msg'].startswith('pyfleet: %s did not start' % GREEN)
    assert 'RuntimeError: boom' in res['msg'] and not host.asked
    assert (app / 'state/r2.failed').exists()


def test_a_first_deploy_says_that_nothing_served(app):
    os.unlink(str(app / 'current'))
    host = FakeHost(healthy=False)
    os.unlink(str(app / 'slots/8000'))
    res = cutover.run_task(params(app), host)
    assert 'Nothing served before it: it was stopped, and nothing serves.' in res['msg']
    assert 'went back' not in res['msg']


def test_the_live_release_rerun_changes_nothing(app):
    host = FakeHost(active={BLUE, TARGET, WORKER}, enabled={BLUE, TARGET})
    p = live(app)
    res = cutover.run_task(p, host)
    assert res == {'changed': False, 'switched': False, 'live_release': str(app / 'releases/r1'), 'current_changed': False,
                   'served_before': str(app / 'releases/r1'), 'instance': BLUE, 'actions': [],
                   'check': {'url': '', 'host': 'shop.example.com', 'status_codes': None, 'body': '',
                             'request_timeout': 5.0}}
    assert not host.asked
    assert cutover.run_task(p, host, check_mode=True)['changed'] is False


def test_a_live_instance_found_down_is_started_and_asked(app):
    host = FakeHost(active={TARGET}, enabled={BLUE, TARGET}, healthy=False)
    p = live(app)
    assert cutover.run_task(p, host, check_mode=True)['changed'] is True and host.units[BLUE][0] == 'inactive'
    res = cutover.run_task(p, host)
    assert res['failed'] and 'start ' + BLUE in host.log
    assert 'was started again, and it does not answer; there is no other checked release' in res['msg']
    assert (app / 'state/r2.checked').exists() and not (app / 'state/r1.failed').exists()   # nothing to undo


def test_a_changed_site_is_asked_through_nginx(app):
    host = FakeHost(active={BLUE, TARGET}, enabled={BLUE, TARGET})
    p = live(app, site_url='http://127.0.0.1:80', check_site=True)
    res = cutover.run_task(p, host)
    assert not res['changed'] and [q['url'] for q in host.asked] == ['http://127.0.0.1:80/']


def test_an_app_without_a_web_process_moves_current_and_restarts_its_processes(app):
    host = FakeHost(active={TARGET, WORKER}, enabled={TARGET})
    p = params(app, slots=[], upstream_conf='', upstreams={})
    res = cutover.run_task(p, host)
    assert res['current_changed'] and os.readlink(str(app / 'current')) == str(app / 'releases/r2')
    assert [line for line in host.log if not line.startswith(('show', 'where', 'lock', 'unlock'))] == ['restart ' + WORKER]
    assert cutover.run_task(p, host)['changed'] is False          # a rerun: nothing moved, nothing restarts


def test_environment_changes_restart_the_other_processes_without_a_move(app):
    host = FakeHost(active={BLUE, TARGET, WORKER}, enabled={BLUE, TARGET})
    p = live(app, restart_others=True)
    assert cutover.run_task(p, host, check_mode=True)['changed'] is True
    assert cutover.run_task(p, host)['actions'] == ['restart ' + WORKER]


def test_check_mode_touches_nothing(app):
    host = FakeHost(active={BLUE}, enabled={BLUE})
    before = sorted(os.listdir(str(app))), (app / 'upstream.conf').read_text()
    res = cutover.run_task(params(app), host, check_mode=True)
    assert res['changed'] and not [line for line in host.log if not line.startswith(('show', 'where'))]
    assert (sorted(os.listdir(str(app))), (app / 'upstream.conf').read_text()) == before


def test_a_bad_body_pattern_is_refused_before_anything_runs(app):
    host = FakeHost()
    res = cutover.run_task(params(app, body='('), host)
    assert res['failed'] and 'body' in res['msg'] and host.log == []


def test_point_replaces_a_link_by_a_rename(tmp_path):
    link = str(tmp_path / 'current')
    assert cutover.point(link, '/a') is True and cutover.point(link, '/a') is False
    assert cutover.point(link, '/b') is True and os.readlink(link) == '/b'
    assert sorted(os.listdir(str(tmp_path))) == ['current']


def test_what_serves_is_read_under_the_lock_that_the_cutover_holds(app):
    host = FakeHost(active={BLUE}, enabled={BLUE})
    cutover.run_task(params(app), host)
    assert host.log[:2] == ['lock .cutover.lock', 'where'] and host.log[-1] == 'unlock'


def test_a_rerun_after_a_cutover_cut_short_finishes_it(app):
    # killed after nginx switched: the upstream names 8001, whose link has the release; current and the old are behind
    os.symlink(str(app / 'releases/r2'), str(app / 'slots/8001'))
    (app / 'upstream.conf').write_text('# live: 8001\nserver unix:/run/shop/web-8001.sock;\n')
    host = FakeHost(active={BLUE, GREEN, TARGET, WORKER}, enabled={BLUE, TARGET})
    res = cutover.run_task(params(app), host)
    assert not res['switched'] and res['changed'] and res['current_changed']      # said honestly: it changed
    assert os.readlink(str(app / 'current')) == str(app / 'releases/r2')
    assert host.units[BLUE] == ['inactive', 'disabled'] and host.units[GREEN] == ['active', 'enabled']
    assert 'restart ' + GREEN not in host.log and 'reload nginx' not in host.log


def test_a_new_environment_restarts_the_live_release_beside_itself(app):
    host = FakeHost(active={BLUE}, enabled={BLUE})
    res = cutover.run_task(live(app, restart=True), host)
    assert res['switched'] and res['instance'] == GREEN and 'restart ' + GREEN in host.log
    assert os.readlink(str(app / 'slots/8001')) == str(app / 'releases/r1')


def test_with_none_live_the_release_starts_on_an_instance_that_is_not_running(app):
    os.unlink(str(app / 'slots/8000'))
    (app / 'upstream.conf').write_text('server unix:/run/shop/web-8000.sock;\n')   # an older pyfleet's, naming none
    host = FakeHost(active={BLUE}, enabled={BLUE})
    res = cutover.run_task(params(app), host)
    assert res['switched'] and res['instance'] == GREEN


TCP = [{'port': 8000, 'unit': BLUE, 'url': 'http://127.0.0.1:8000', 'socket': None},
       {'port': 8001, 'unit': GREEN, 'url': 'http://127.0.0.1:8001', 'socket': None}]
SQUATTER = {'pid': 4242, 'command': 'python3', 'unit': 'pyfleet-blog-web@8001.service'}


def tcp(app, **kw):
    (app / 'upstream.conf').write_text('# live: 8000\nserver 127.0.0.1:8000;\n')
    return params(app, slots=TCP, upstreams={str(s['port']): '# live: %d\nserver 127.0.0.1:%d;\n' % (s['port'], s['port'])
                                             for s in TCP}, **kw)


def test_a_port_another_process_holds_is_never_asked_and_the_live_release_keeps_serving(app):
    host = FakeHost(active={BLUE, TARGET, WORKER}, enabled={BLUE, TARGET})
    host.listeners = {8000: [{'pid': 10, 'command': 'python', 'unit': BLUE}], 8001: [SQUATTER]}
    res = cutover.run_task(tcp(app), host)
    assert res['failed'] and res['msg'].splitlines()[0] == (
        'pyfleet: port 8001, which %s listens on, is taken by python3 (pid 4242, pyfleet-blog-web@8001.service) '
        'before it started. pyfleet never sends a request to a listener that is not the instance\'s own.' % GREEN)
    assert 'restart ' + GREEN not in host.log and not host.asked
    assert (app / 'upstream.conf').read_text().startswith('# live: 8000')
    assert os.readlink(str(app / 'current')) == str(app / 'releases/r1') and host.units[BLUE][0] == 'active'
    assert (app / 'state/r2.failed').exists()


def test_a_squatter_that_answers_beside_the_new_instance_never_gets_nginx(app):
    host = FakeHost(active={BLUE, TARGET, WORKER}, enabled={BLUE, TARGET})
    host.listeners = {8000: [{'pid': 10, 'command': 'python', 'unit': BLUE}]}

    def answer(q):      # the squatter binds the port once the instance started (it answered for it)
        host.listeners[8001] = [SQUATTER]
        return True
    host.healthy = answer
    res = cutover.run_task(tcp(app), host)
    assert res['failed'] and 'is taken by python3 (pid 4242, pyfleet-blog-web@8001.service) beside it' in res['msg']
    assert 'reload nginx' not in host.log and 'stop ' + GREEN in host.log
    assert (app / 'upstream.conf').read_text().startswith('# live: 8000')


def test_its_own_listener_passes(app):
    host = FakeHost(active={BLUE, TARGET, WORKER}, enabled={BLUE, TARGET})
    host.listeners = {8000: [{'pid': 10, 'command': 'python', 'unit': BLUE}],
                      8001: [{'pid': 11, 'command': 'python', 'unit': GREEN}]}
    res = cutover.run_task(tcp(app), host)
    assert not res.get('failed') and (app / 'upstream.conf').read_text().startswith('# live: 8001')


@pytest.mark.parametrize('listens, said', [
    ([8080], 'listens on 8080, not on $PORT (8001 here)'),
    ([], 'listens on no TCP port'),
])
def test_an_instance_that_never_answers_on_its_port_is_named_with_the_ports_it_listens_on(app, listens, said):
    host = FakeHost(active={BLUE, TARGET, WORKER}, enabled={BLUE, TARGET})
    host.listeners = {8000: [{'pid': 10, 'command': 'python', 'unit': BLUE}]}
    host.unit_listens = {GREEN: listens}
    host.check = lambda q: {'ok': False, 'status': None, 'why': 'no answer ([Errno 111] Connection refused)', 'body': '',
                            'attempts': 9, 'elapsed': 60.0}
    res = cutover.run_task(tcp(app), host)
    assert res['failed'] and GREEN + ' ' + said in res['msg'] and res['msg'].count('PORT') >= 1
    assert (app / 'upstream.conf').read_text().startswith('# live: 8000')


def _snapshot(app, **kw):
    """app_switch's snapshot parameters (files: the environment, as it is now)."""
    (app / 'env').write_text('A=1\n')
    return dict(dict(releases=str(app / 'releases'), state=str(app / 'state'), current=str(app / 'current'),
                     files=[str(app / 'env')], plan={'web': {'slots': SLOTS}, 'fingerprint': 'f1', 'config': 'c1'}), **kw)


def test_a_switch_that_went_through_keeps_the_live_release_s_snapshot_in_the_same_round_trip(app):
    host = FakeHost(active={BLUE, TARGET, WORKER}, enabled={BLUE, TARGET})
    res = cutover.run_task(params(app, site_url='http://127.0.0.1', health_path='/up', snapshot=_snapshot(app)), host)
    assert not res.get('failed') and res['snapshot']['changed'] and res['snapshot']['release'] == 'r2'
    kept = json.loads((app / 'state/r2.config/plan.json').read_text())
    # the check a rerun asks through nginx is the switch's own
    assert kept['check'] == res['check'] == {'url': 'http://127.0.0.1/up', 'host': 'shop.example.com',
                                              'status_codes': None, 'body': '', 'request_timeout': 5.0}
    assert kept['fingerprint'] == 'f1' and kept['files'] == [str(app / 'env')]
    assert (app / 'state/r2.config/env').read_text() == 'A=1\n'
    # the same again changes nothing
    again = cutover.run_task(params(app, site_url='http://127.0.0.1', health_path='/up', snapshot=_snapshot(app)), host)
    assert again['changed'] is False and again['snapshot']['changed'] is False


def test_a_switch_that_failed_keeps_no_snapshot_and_the_lock_stays(app, monkeypatch):
    released = []
    from ansible_collections.pyfleet.deploy.plugins.module_utils import deploy_lock
    monkeypatch.setattr(deploy_lock, 'release', lambda path, token: released.append(path) or True)
    host = FakeHost(active={BLUE, TARGET, WORKER}, enabled={BLUE, TARGET}, healthy=False)
    res = cutover.run_task(params(app, snapshot=_snapshot(app, unlock={'path': '/run/lock/x', 'token': 't'})), host)
    assert res['failed'] and 'snapshot' not in res and not (app / 'state/r2.config').exists() and not released
    host = FakeHost(active={BLUE, TARGET, WORKER}, enabled={BLUE, TARGET})
    res = cutover.run_task(params(app, snapshot=_snapshot(app, unlock={'path': '/run/lock/x', 'token': 't'})), host)
    assert res['snapshot']['unlocked'] is True and released == ['/run/lock/x']


def test_a_check_run_of_a_first_deploy_keeps_no_snapshot(app):
    host = FakeHost()
    res = cutover.run_task(params(app, first_deploy=True, snapshot=_snapshot(app)), host, check_mode=True)
    assert 'snapshot' not in res and not (app / 'state/r2.config').exists()


def test_bad_snapshot_parameters_are_said(app):
    host = FakeHost(active={BLUE, TARGET, WORKER}, enabled={BLUE, TARGET})
    res = cutover.run_task(params(app, snapshot=dict(_snapshot(app), keep='many')), host)
    assert res['failed'] and "the live release's snapshot failed" in res['msg'] and 'keep' in res['msg']
