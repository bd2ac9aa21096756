"""A release's life on a host (module_utils/releases.py): its states, and what a clean-up keeps."""
import os
import shutil

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import releases


@pytest.mark.parametrize('marks,live,state', [
    ((), 'a', 'live'),
    (('a.failed', 'a.config', 'a.checked'), 'a', 'live'),
    (('a.failed',), '', 'failed'),
    (('a.failed', 'a.config', 'a.checked'), '', 'failed'),
    (('a.config', 'a.checked'), 'b', 'retired'),
    (('a.config',), 'b', 'built'),          # a snapshot but its checks were taken away: not a rollback target
    (('a.checked',), 'b', 'checked'),
    ((), 'b', 'built'),
])
def test_the_state_of_a_release(marks, live, state):
    assert releases.state_of('a', set(marks), live) == state


def rows(spec):
    """Rows newest first from 'id:state' words; L marks the live one, R one that was live."""
    out = []
    for word in spec.split():
        rid, _, kind = word.partition(':')
        out.append({'id': rid, 'live': kind == 'L', 'was_live': kind in ('L', 'R')})
    return out


@pytest.mark.parametrize('spec,keep,protected,removed', [
    # only releases that were live count: four failed deploys and a good one keep the rollback target
    ('g:L f4 f3 f2 f1 a:R', 2, (), ['f4', 'f3', 'f2', 'f1']),
    ('g:L f4 f3 f2 f1 a:R', 5, (), ['f4', 'f3', 'f2', 'f1']),
    # keep counts the live one; the rest are the newest retired ones
    ('e:L d:R c:R b:R a:R', 3, (), ['b', 'a']),
    ('e:L d:R c:R b:R a:R', 5, (), []),
    # keep 1: the newest retired one stays anyway (a rollback target)
    ('e:L d:R c:R', 1, (), ['c']),
    # what a web instance runs, and the release being deployed, are never removed
    ('e:L x d:R c:R', 1, ('c', 'x'), []),
    # a first deploy: the live one only
    ('a:L', 1, (), []),
    # no live release (a cut-off first deploy): the half-built ones go, the protected one stays
    ('b a', 3, ('b',), ['a']),
])
def test_what_a_clean_up_removes(spec, keep, protected, removed):
    assert releases.to_remove(rows(spec), keep, protected) == removed


def test_keep_below_one_is_refused():
    with pytest.raises(ValueError, match='pyfleet_keep is 0'):
        releases.to_remove(rows('a:L'), 0)
    res = releases.run_task(dict(params('/nonexistent'), action='prune', keep=0))
    assert res['failed'] and 'pyfleet_keep is 0; it must be 1 or more' in res['msg']


def params(root, **kw):
    p = {k: v.get('default') for k, v in releases.ARGUMENT_SPEC.items()}
    p.update(releases=root + '/releases', state=root + '/state', current=root + '/current', venvs=root + '/venvs',
             slots=root + '/slots')
    p.update(kw)
    return p


def make(tmp_path, spec):
    """An app's tree: releases newest first from 'id:kind:venv' words (kind L live, R retired, F failed, C
    checked, B built), each with its .venv link; the slots and current links."""
    root = str(tmp_path)
    for d in ('releases', 'state', 'venvs', 'slots'):
        os.makedirs(os.path.join(root, d))
    words = spec.split()
    for n, word in enumerate(words):
        rid, kind, venv = word.split(':')
        path = os.path.join(root, 'releases', rid)
        os.makedirs(path)
        os.makedirs(os.path.join(root, 'venvs', venv), exist_ok=True)
        os.symlink(os.path.join(root, 'venvs', venv), os.path.join(path, '.venv'))
        t = 1700000000 + (len(words) - n) * 60
        os.utime(path, (t, t))
        marks = {'L': ['checked', 'config'], 'R': ['checked', 'config'], 'F': ['failed'], 'C': ['checked'],
                 'B': []}[kind]
        for mark in marks:
            target = os.path.join(root, 'state', rid + '.' + mark)
            if mark == 'config':
                os.makedirs(target)
            else:
                open(target, 'w').close()
        if kind == 'L':
            os.symlink(path, os.path.join(root, 'current'))
    return root


def test_look_reads_every_release_newest_first(tmp_path):
    root = make(tmp_path, 'g:L:v2 f:F:v2 b:B:v2 c:C:v1 a:R:v1')
    with open(os.path.join(root, 'venvs', 'v2', '.pyfleet-lock.json'), 'w') as fh:
        fh.write('{"python": "3.13.9"}')
    res = releases.run_task(params(root))
    assert [(r['id'], r['state'], r['was_live'], r['live']) for r in res['releases']] == [
        ('g', 'live', True, True), ('f', 'failed', False, False), ('b', 'built', False, False),
        ('c', 'checked', False, False), ('a', 'retired', True, False)]
    assert res['releases'][0]['python'] == '3.13.9' and res['releases'][0]['lock_key'] == 'v2'
    assert res['releases'][-1]['python'] == '-' and res['releases'][-1]['created'] == '2023-11-14 22:14:20'
    assert not res['changed']


def test_prune_removes_releases_their_marks_and_their_virtualenvs_and_check_mode_removes_nothing(tmp_path):
    root = make(tmp_path, 'h:L:v3 f2:F:v4 f1:F:v4 c:R:v2 b:R:v1 a:R:v1')
    open(os.path.join(root, 'state', 'gone.checked'), 'w').close()   # a mark whose release is gone
    os.symlink(os.path.join(root, 'releases', 'c'), os.path.join(root, 'slots', '8001'))
    before = sorted(os.listdir(os.path.join(root, 'releases')))
    dry = releases.prune(params(root, keep=2), check_mode=True)
    assert dry['changed'] and dry['removed'] == ['f2', 'f1', 'b', 'a']
    assert sorted(os.listdir(os.path.join(root, 'releases'))) == before
    res = releases.run_task(params(root, action='prune', keep=2, protect=[root + '/releases/h']))
    assert res['removed'] == ['f2', 'f1', 'b', 'a'] and res['removed_venvs'] == ['v1', 'v4']
    assert res['removed_marks'] == ['a.checked', 'a.config', 'b.checked', 'b.config', 'f1.failed', 'f2.failed',
                                    'gone.checked']
    assert sorted(os.listdir(os.path.join(root, 'releases'))) == ['c', 'h']
    assert sorted(os.listdir(os.path.join(root, 'venvs'))) == ['v2', 'v3']
    assert sorted(os.listdir(os.path.join(root, 'state'))) == ['c.checked', 'c.config', 'h.checked', 'h.config']
    # a second run has nothing to do
    again = releases.run_task(params(root, action='prune', keep=2))
    assert not again['changed'] and again['removed'] == []


def test_restore_puts_the_live_releases_snapshot_back_where_it_differs(tmp_path):
    root = make(tmp_path, 'b:C:v1 a:L:v1')
    etc = tmp_path / 'etc'
    (etc / 'pyfleet' / 'shop').mkdir(parents=True)
    env, unit = str(etc / 'pyfleet' / 'shop' / 'env'), str(etc / 'systemd' / 'pyfleet-shop-web@.service')
    (etc / 'systemd').mkdir()
    snap = tmp_path / 'state' / 'a.config'
    (snap / 'env').write_text('A=live\n')
    (snap / 'pyfleet-shop-web@.service').write_text('[Service]\nExecStart=/live\n')
    import json
    (snap / 'plan.json').write_text(json.dumps({'files': [env, unit], 'web': None}))
    # a failed deploy wrote its own
    open(env, 'w').write('A=failed\n')
    open(unit, 'w').write('[Service]\nExecStart=/live\n')
    p = params(root, action='restore', env_dir=str(etc / 'pyfleet' / 'shop'))
    dry = releases.run_task(p, check_mode=True)
    assert dry['restored'] == [env] and open(env).read() == 'A=failed\n'
    res = releases.run_task(p)
    assert res['changed'] and res['release'] == 'a' and res['restored'] == [env]
    assert not res['units'] and not res['site'] and open(env).read() == 'A=live\n'
    assert oct(os.stat(env).st_mode & 0o777) == '0o600'
    assert not releases.run_task(p)['changed']
    # a release with no snapshot: nothing
    none = releases.run_task(dict(p, release='b'))
    assert not none['changed'] and not none['snapshot']


@pytest.mark.parametrize('before,what,after,changed', [
    ((), 'checked', ['r.checked'], True),
    (('r.failed',), 'checked', ['r.checked'], True),
    (('r.checked',), 'checked', ['r.checked'], False),
    (('r.checked',), 'failed', ['r.failed'], True),
    (('r.failed',), 'failed', ['r.failed'], False),
])
def test_a_mark_takes_the_other_away(tmp_path, before, what, after, changed):
    for name in before:
        (tmp_path / name).write_text('r\n' if name.endswith('.checked') else 'failed\n')
        os.chmod(str(tmp_path / name), 0o600)
    assert releases.mark(str(tmp_path), '/srv/shop/releases/r', what) is changed
    assert sorted(os.listdir(str(tmp_path))) == after
    assert oct(os.stat(str(tmp_path / after[0])).st_mode & 0o777) == '0o600'


def test_a_snapshot_writes_what_changed_and_restore_puts_it_back(tmp_path):
    root = make(tmp_path, 'a:L:v1')
    etc = tmp_path / 'etc'
    etc.mkdir()
    env, unit, gone = str(etc / 'env'), str(etc / 'pyfleet-shop-web@.service'), str(etc / 'missing.conf')
    open(env, 'w').write('A=1\n')
    open(unit, 'w').write('[Service]\n')
    p = params(root, action='snapshot', release=root + '/releases/a', files=[env, unit, gone],
               plan={'web': None, 'units': {'templates': []}, 'site': {}}, env_dir=str(etc))
    res = releases.run_task(p)
    snap = tmp_path / 'state' / 'a.config'
    assert res['changed'] and res['written'] == ['env', 'pyfleet-shop-web@.service', 'plan.json']
    assert oct(os.stat(str(snap)).st_mode & 0o777) == '0o700'
    assert not releases.run_task(p)['changed']
    # a failed deploy writes its own; restore puts the snapshot's back
    open(env, 'w').write('A=2\n')
    back = releases.run_task(dict(p, action='restore', release=''))
    assert back['restored'] == [env] and open(env).read() == 'A=1\n'
    assert back['plan']['files'] == [env, unit]


def test_a_snapshot_with_prune_cleans_up_in_the_same_call(tmp_path):
    root = make(tmp_path, 'h:L:v3 f1:F:v4 c:R:v2 b:R:v1')
    etc = tmp_path / 'etc'
    etc.mkdir()
    open(str(etc / 'env'), 'w').write('A=1\n')
    p = params(root, action='snapshot', release=root + '/releases/h', files=[str(etc / 'env')], plan={'web': None},
               prune=True, keep=2, protect=[root + '/releases/h'])
    dry = releases.run_task(dict(p), check_mode=True)
    assert dry['changed'] and dry['removed'] == ['f1', 'b'] and os.path.isdir(root + '/releases/b')
    res = releases.run_task(dict(p))
    assert res['changed'] and res['written'] == ['env', 'plan.json'] and res['removed'] == ['f1', 'b']
    assert res['removed_venvs'] == ['v1', 'v4'] and sorted(os.listdir(root + '/releases')) == ['c', 'h']
    assert not releases.run_task(dict(p))['changed']
    # without prune, a snapshot removes nothing; a keep below one is refused before anything is written
    assert 'removed' not in releases.run_task(dict(p, prune=False))
    bad = releases.run_task(dict(p, keep=0))
    assert bad['failed'] and 'pyfleet_keep is 0; it must be 1 or more' in bad['msg']


def test_a_snapshot_lets_the_deploy_lock_go_in_the_same_call_but_only_this_runs(tmp_path):
    from ansible_collections.pyfleet.deploy.plugins.module_utils import deploy_lock
    root = make(tmp_path, 'h:L:v3 c:R:v2')
    lock = str(tmp_path / 'lock' / 'shop.deploy')
    p = params(root, action='snapshot', release=root + '/releases/h', plan={'web': None})
    assert 'unlocked' not in releases.run_task(dict(p))
    deploy_lock.acquire(lock, 'mine', {}, 60)
    # another run's token: the lock stays
    assert releases.run_task(dict(p, unlock={'path': lock, 'token': 'theirs'}))['unlocked'] is False
    assert os.path.exists(lock)
    # this run's, in check mode too (a check run holds the lock as well)
    res = releases.run_task(dict(p, unlock={'path': lock, 'token': 'mine'}), check_mode=True)
    assert res['unlocked'] is True and not os.path.exists(lock)
    # a keep that is refused refuses before the snapshot, and the lock stays for the caller to release
    deploy_lock.acquire(lock, 'mine', {}, 60)
    bad = releases.run_task(dict(p, prune=True, keep=0, unlock={'path': lock, 'token': 'mine'}))
    assert bad['failed'] and os.path.exists(lock)


class FakeSystemd:
    """systemctl show, answering from a table of unit states."""

    def __init__(self, states):
        self.states = states

    def __call__(self, argv, **kw):
        units = argv[argv.index('--') + 1:]
        out = ''.join('Id=%s\nActiveState=%s\n\n' % (u, self.states.get(u, 'inactive')) for u in units)
        return type('Res', (), {'stdout': out, 'returncode': 0})()


def settled_host(tmp_path):
    """A host where release a is live and runs as deployed with fingerprint f1: its snapshot, its files, the
    web instance on 8001 nginx proxies to, and a worker."""
    root = make(tmp_path, 'a:L:v1')
    os.makedirs(os.path.join(root, 'venvs', 'v1', 'bin'))
    open(os.path.join(root, 'venvs', 'v1', 'bin', 'python'), 'w').close()
    etc = tmp_path / 'etc'
    (etc / 'systemd').mkdir(parents=True)
    env, ports = str(etc / 'env'), str(etc / 'systemd' / 'pyfleet-shop-ports.service')
    open(env, 'w').write('A=1\n')
    open(ports, 'w').write('[Service]\n')
    os.symlink(os.path.join(root, 'releases', 'a'), os.path.join(root, 'slots', '8001'))
    upstream = str(tmp_path / 'upstream.conf')
    open(upstream, 'w').write('# live: 8001\nserver unix:/run/x;\n')
    slots = [{'port': 8000, 'unit': 'pyfleet-shop-web@8000.service'},
             {'port': 8001, 'unit': 'pyfleet-shop-web@8001.service'}]
    plan = {'web': {'slots': slots}, 'units': {'others': ['pyfleet-shop-worker@1.service'], 'templates': []},
            'site': {'url': 'http://127.0.0.1:80/', 'host': 'shop.example'}, 'fingerprint': 'f1', 'config': 'c1',
            'answers': 'a1',
            'check': {'url': 'http://127.0.0.1:80/health', 'host': 'shop.example', 'status_codes': [200], 'body': ''}}
    releases.snapshot(params(root, release=root + '/releases/a', files=[env, ports], plan=plan))
    return root, env, upstream


RUNNING = {'pyfleet-shop.target': 'active', 'pyfleet-shop-ports.service': 'active', 'nginx.service': 'active',
           'pyfleet-shop-worker@1.service': 'active', 'pyfleet-shop-web@8001.service': 'active'}


def _no_venv(root, env, upstream):
    os.unlink(os.path.join(root, 'venvs', 'v1', 'bin', 'python'))


def _edited(root, env, upstream):
    open(env, 'w').write('A=2\n')


def _unchecked(root, env, upstream):
    os.rename(os.path.join(root, 'state', 'a.checked'), os.path.join(root, 'state', 'a.failed'))


def _other_slot(root, env, upstream):
    open(upstream, 'w').write('# live: 8000\n')


def _nothing_live(root, env, upstream):
    os.unlink(os.path.join(root, 'current'))


def _no_snapshot(root, env, upstream):
    shutil.rmtree(os.path.join(root, 'state', 'a.config'))


@pytest.mark.parametrize('change,fingerprint,states,answer,why', [
    (None, 'f1', {}, (200, 'ok'), ''),
    (None, 'f2', {}, (200, 'ok'), 'asks for something other than what the live release, a, was deployed with'),
    (None, '', {}, (200, 'ok'), 'asks for something other than'),
    (_nothing_live, 'f1', {}, (200, 'ok'), 'no release is live here yet'),
    (_no_snapshot, 'f1', {}, (200, 'ok'), 'has no snapshot of its configuration'),
    (_unchecked, 'f1', {}, (200, 'ok'), 'is not marked checked'),
    (_no_venv, 'f1', {}, (200, 'ok'), '.venv/bin/python is missing'),
    (_edited, 'f1', {}, (200, 'ok'), '/env is not as the live release was deployed with'),
    (_other_slot, 'f1', {}, (200, 'ok'), 'nginx proxies to no web instance of the app'),
    (None, 'f1', {'pyfleet-shop-worker@1.service': 'failed'}, (200, 'ok'), 'pyfleet-shop-worker@1.service is failed'),
    (None, 'f1', {'nginx.service': 'inactive'}, (200, 'ok'), 'nginx.service is inactive'),
    (None, 'f1', {'pyfleet-shop-ports.service': 'inactive'}, (200, 'ok'), 'pyfleet-shop-ports.service is inactive'),
    (None, 'f1', {}, (500, 'oops'), 'does not answer http://127.0.0.1:80/health through nginx: status 500'),
    (None, 'f1', {}, (None, 'refused'), 'no answer (refused)'),
])
def test_a_rerun_is_settled_only_when_the_host_is_and_runs_what_it_asks_for(tmp_path, change, fingerprint, states,
                                                                           answer, why):
    root, env, upstream = settled_host(tmp_path)
    if change:
        change(root, env, upstream)
    asked = []

    def fetch(url, host, timeout):
        asked.append((url, host))
        return answer
    p = params(root, action='settled', fingerprint=fingerprint, target='pyfleet-shop.target', upstream_conf=upstream)
    res = releases.settled(p, run=FakeSystemd(dict(RUNNING, **states)), fetch=fetch)
    assert res['release'] == ('' if change is _nothing_live else 'a') and not res['code_only']
    if why:
        assert not res['settled'] and why in res['why']
    else:
        assert res['settled'] and res['why'] == '' and asked == [('http://127.0.0.1:80/health', 'shop.example')]


@pytest.mark.parametrize('change,config,states,answer,why', [
    # another release, with the live one's configuration, on a host that runs as deployed: only the code differs
    (None, 'c1', {}, (200, 'ok'), ''),
    (None, 'c2', {}, (200, 'ok'), 'asks for something other than what the live release, a, was deployed with'),
    (None, '', {}, (200, 'ok'), 'asks for something other than'),
    # whatever else does not hold sends the deploy down the full path
    (_edited, 'c1', {}, (200, 'ok'), '/env is not as the live release was deployed with'),
    (_unchecked, 'c1', {}, (200, 'ok'), 'is not marked checked'),
    (_other_slot, 'c1', {}, (200, 'ok'), 'nginx proxies to no web instance of the app'),
    (None, 'c1', {'pyfleet-shop-ports.service': 'inactive'}, (200, 'ok'), 'pyfleet-shop-ports.service is inactive'),
    (None, 'c1', {}, (502, 'bad gateway'), 'through nginx: status 502'),
])
def test_only_the_code_differs_when_all_but_the_release_holds(tmp_path, change, config, states, answer, why):
    root, env, upstream = settled_host(tmp_path)
    if change:
        change(root, env, upstream)
    p = params(root, action='settled', fingerprint='f2', config=config, target='pyfleet-shop.target',
               upstream_conf=upstream)
    res = releases.settled(p, run=FakeSystemd(dict(RUNNING, **states)), fetch=lambda *a: answer)
    assert not res['settled'] and res['release'] == 'a'
    if why:
        assert not res['code_only'] and why in res['why'] and res['answers'] == '' and res['site'] == {}
    else:
        assert res['code_only'] and res['answers'] == 'a1'
        assert res['site'] == {'url': 'http://127.0.0.1:80/', 'host': 'shop.example'}
        assert res['why'] == 'only the code differs from the live release, a (same configuration)'


def test_a_scheduled_job_between_its_runs_is_settled_and_its_timer_is_asked(tmp_path):
    root, env, upstream = settled_host(tmp_path)
    job, timer = str(tmp_path / 'etc' / 'systemd' / 'pyfleet-shop-cron_x.service'), 'pyfleet-shop-cron_x.timer'
    open(job, 'w').write('[Service]\nType=oneshot\n')
    plan = releases._snapshot_plan(os.path.join(root, 'state'), 'a')
    plan['units']['others'].append(timer)
    releases.snapshot(params(root, release=root + '/releases/a', files=plan['files'] + [job], plan=plan))
    p = params(root, action='settled', fingerprint='f1', target='pyfleet-shop.target', upstream_conf=upstream)
    # the job's unit is inactive between its runs; its timer is what runs
    ok = releases.settled(p, run=FakeSystemd(dict(RUNNING, **{timer: 'active'})), fetch=lambda *a: (200, 'ok'))
    assert ok['settled'], ok['why']
    stopped = releases.settled(p, run=FakeSystemd(RUNNING), fetch=lambda *a: (200, 'ok'))
    assert not stopped['settled'] and stopped['why'] == 'pyfleet-shop-cron_x.timer is inactive'


def test_a_web_instance_that_runs_another_release_is_not_settled(tmp_path):
    root, env, upstream = settled_host(tmp_path)
    os.makedirs(os.path.join(root, 'releases', 'b'))
    os.unlink(os.path.join(root, 'slots', '8001'))
    os.symlink(os.path.join(root, 'releases', 'b'), os.path.join(root, 'slots', '8001'))
    p = params(root, action='settled', fingerprint='f1', target='pyfleet-shop.target', upstream_conf=upstream)
    res = releases.settled(p, run=FakeSystemd(RUNNING), fetch=lambda *a: (200, ''))
    assert not res['settled'] and res['why'] == 'the live web instance (port 8001) does not run the live release'


def test_the_settled_action_is_read_only(tmp_path):
    root, env, upstream = settled_host(tmp_path)
    before = sorted(os.walk(root))
    res = releases.run_task(params(root, action='settled', fingerprint='f2', upstream_conf=upstream))
    assert res == {'changed': False, 'settled': False, 'code_only': False, 'release': 'a', 'answers': '', 'site': {},
                   'why': 'this run asks for something other than what the live release, a, was deployed with'}
    assert sorted(os.walk(root)) == before


def test_prepare_makes_a_new_release_a_clean_directory_and_leaves_a_checked_one(tmp_path):
    # the test runs as root on the bed's controller, or as anyone: the owner is whoever runs it
    import grp
    import pwd
    me = pwd.getpwuid(os.getuid()).pw_name
    if grp.getgrgid(os.getgid()).gr_name != me or os.getuid() != 0:
        pytest.skip('needs root, with a group of its own name')
    root = make(tmp_path, 'b:L:v1 a:F:v1')
    os.chmod(os.path.join(root, 'releases'), 0o755)
    # a new release: its directory, empty; releases/ made 0751
    p = params(root, action='prepare', release='n', owner=me)
    assert releases.run_task(dict(p), check_mode=True)['changed'] and not os.path.exists(root + '/releases/n')
    res = releases.run_task(dict(p))
    assert res['changed'] and not res['checked'] and not res['left']
    assert os.listdir(root + '/releases/n') == [] and os.stat(root + '/releases/n').st_mode & 0o7777 == 0o751
    assert os.stat(root + '/releases').st_mode & 0o7777 == 0o751
    # a copy a failed deploy left: made afresh
    open(os.path.join(root, 'releases', 'a', 'half'), 'w').close()
    res = releases.run_task(params(root, action='prepare', release='a', owner=me))
    assert res['changed'] and res['left'] and res['marked_failed'] and os.listdir(root + '/releases/a') == []
    # the live (checked) release is never touched
    before = sorted(os.listdir(root + '/releases/b'))
    res = releases.run_task(params(root, action='prepare', release='b', owner=me))
    assert not res['changed'] and res['checked'] and sorted(os.listdir(root + '/releases/b')) == before


def test_prepare_in_check_mode_for_an_account_not_made_yet(tmp_path):
    root = make(tmp_path, 'b:L:v1')
    res = releases.run_task(params(root, action='prepare', release='n', owner='pyfleet-no-such-user-x'), check_mode=True)
    assert res['changed'] and not res['checked'] and not os.path.exists(root + '/releases/n')


def test_prepare_unpacks_a_new_release_as_its_owner_with_the_archives_modes(tmp_path):
    import grp
    import pwd
    from ansible_collections.pyfleet.deploy.plugins.module_utils import pack
    me = pwd.getpwuid(os.getuid()).pw_name
    if grp.getgrgid(os.getgid()).gr_name != me or os.getuid() != 0:
        pytest.skip('needs root, with a group of its own name')
    src = tmp_path / 'src'
    (src / 'app').mkdir(parents=True)
    (src / 'app' / 'wsgi.py').write_text('application = None\n')
    (src / 'secret.txt').write_text('s\n')
    os.chmod(src / 'secret.txt', 0o600)
    packed = pack.pack_release(str(src), str(tmp_path / 'packs'))
    root = make(tmp_path, 'b:L:v1')
    p = params(root, action='prepare', release=packed['id'], owner=me, archive=packed['path'])
    # check mode unpacks nothing
    assert releases.run_task(dict(p), check_mode=True)['changed'] and not os.path.exists(root + '/releases/' + packed['id'])
    res = releases.run_task(dict(p))
    new = os.path.join(root, 'releases', packed['id'])
    assert res['changed'] and not res.get('failed')
    assert open(os.path.join(new, 'app', 'wsgi.py')).read() == 'application = None\n'
    assert os.stat(os.path.join(new, 'secret.txt')).st_mode & 0o777 == 0o600
    assert os.stat(os.path.join(new, 'app', 'wsgi.py')).st_mode & 0o007 == 0   # nothing for other users
    assert os.path.exists(os.path.join(new, pack.MARKER))
    # an archive tar cannot read: the task fails, saying where
    bad = tmp_path / 'bad.tar.gz'
    bad.write_bytes(b'not a tarball')
    res = releases.run_task(params(root, action='prepare', release='c', owner=me, archive=str(bad)))
    assert res['failed'] and res['msg'].startswith('pyfleet: unpacking the release into %s/releases/c failed' % root)


def test_prepare_says_whether_the_releases_virtualenv_is_complete(tmp_path):
    root = make(tmp_path, 'b:L:v1')
    os.makedirs(root + '/venvs/v9')
    p = params(root, action='prepare', release='n', owner='pyfleet-no-such-user-x', venv=root + '/venvs/v9')
    assert releases.run_task(dict(p), check_mode=True)['venv_complete'] is False
    open(root + '/venvs/v9/.pyfleet-lock.json', 'w').close()
    assert releases.run_task(dict(p), check_mode=True)['venv_complete'] is True
    # the live (checked) release's, in the same look
    assert releases.run_task(params(root, action='prepare', release='b', venv=root + '/venvs/v9'))['venv_complete']
    assert 'venv_complete' not in releases.run_task(params(root, action='prepare', release='b'))
