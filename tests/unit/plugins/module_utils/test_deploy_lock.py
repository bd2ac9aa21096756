"""The per-app deploy lock (module_utils/deploy_lock.py and its action plugin): one holder at a time, named;
a stale holder is taken over; two deploys that race never both win."""
import json
import multiprocessing
import os
import subprocess
import sys
import textwrap
import time

from ansible_collections.pyfleet.deploy.plugins.module_utils import deploy_lock
from ansible_run import run
from helpers import write_tree

ME = {'controller': 'ctl', 'user': 'alice', 'pid': 4242, 'started': 1795000000.0}


def test_one_holder_at_a_time_and_the_holder_is_named(tmp_path):
    path = str(tmp_path / 'lock' / 'shop.deploy')
    assert deploy_lock.acquire(path, 'a', ME, 60)[0]
    taken, current = deploy_lock.acquire(path, 'b', dict(ME, user='bob'), 60)
    assert not taken and current['user'] == 'alice' and not current['expired']
    assert deploy_lock.acquire(path, 'a', ME, 60)[0]            # the holder may take it again
    assert oct(os.stat(path).st_mode & 0o777) == '0o600'
    assert not deploy_lock.release(path, 'b') and os.path.exists(path)
    assert deploy_lock.release(path, 'a') and not os.path.exists(path)
    assert deploy_lock.acquire(path, 'b', ME, 60)[0]


def test_a_look_under_the_lock_comes_with_it_and_only_once_it_is_taken(tmp_path):
    root = tmp_path / 'shop'
    for d in ('releases', 'state'):
        (root / d).mkdir(parents=True)
    look = {'fingerprint': 'f', 'config': 'c', 'releases': str(root / 'releases'), 'state': str(root / 'state'),
            'current': str(root / 'current')}
    p = {k: v.get('default') for k, v in deploy_lock.ARGUMENT_SPEC.items()}
    p.update(path=str(tmp_path / 'lock' / 'shop.deploy'), token='a', holder=ME, look=look)
    res = deploy_lock.run_task(dict(p))
    # nothing is live here: the look says so (the deploy takes its full path)
    assert res['taken'] and res['look']['settled'] is False and res['look']['code_only'] is False
    assert res['look']['why']
    other = deploy_lock.run_task(dict(p, token='b'))
    assert not other['taken'] and 'look' not in other
    assert 'look' not in deploy_lock.run_task(dict(p, look={}))


def test_a_lease_that_ran_out_is_expired_and_can_be_taken_over(tmp_path):
    path = str(tmp_path / 'shop.deploy')
    deploy_lock.acquire(path, 'a', ME, 60, now=1000.0)
    assert deploy_lock.acquire(path, 'b', ME, 60, now=1059.0)[1]['expired'] is False
    assert deploy_lock.acquire(path, 'b', ME, 60, now=1061.0)[1]['expired'] is True
    assert deploy_lock.acquire(path, 'b', ME, 60, take_over='a', now=1061.0)[0]
    # a take-over names the token it replaces: a third party's take-over of the old one fails
    assert not deploy_lock.acquire(path, 'c', ME, 60, take_over='a', now=1062.0)[0]


def test_a_holder_on_this_controller_whose_process_is_gone_is_stale():
    me = {'controller': 'here', 'pid': os.getpid(), 'started': deploy_lock.process_started(os.getpid())}
    assert not deploy_lock.holder_is_gone(me, 'here')
    assert not deploy_lock.holder_is_gone(me, 'elsewhere')           # cannot tell: the lease decides
    child = subprocess.Popen([sys.executable, '-c', 'pass'])
    child.wait()
    assert deploy_lock.holder_is_gone({'controller': 'here', 'pid': child.pid, 'started': time.time()}, 'here')
    # a pid that was reused by a later process is not the holder
    assert deploy_lock.holder_is_gone(dict(me, started=me['started'] - 100), 'here')


def test_describe_names_user_controller_pid_and_start():
    assert deploy_lock.describe(ME) == 'alice@ctl (pid 4242, started 2026-11-18 11:06:40 UTC)'


def fake_systemctl(states):
    """systemctl show, answering ActiveState from ``states`` (a dict the test changes) for each unit asked."""
    def _run(cmd, **kw):
        assert cmd[:2] == ['systemctl', 'show']
        out = ''.join('Id=%s\nActiveState=%s\nActiveEnterTimestamp=Thu 2026-12-03 07:00:00 UTC\n\n'
                      % (u, states.get(u, 'inactive')) for u in cmd[4:])
        return subprocess.CompletedProcess(cmd, 0, out, '')
    return _run


def test_a_killed_deploys_step_that_still_runs_keeps_the_lock_from_everyone_else(tmp_path):
    path, unit = str(tmp_path / 'shop.deploy'), 'pyfleet-shop-build.service'
    states = {unit: 'active'}
    run = fake_systemctl(states)
    assert deploy_lock.acquire(path, 'a', ME, 60, host_work=[unit], run=fake_systemctl({}))[0]
    # the holder was killed; its step runs on: the stale lock is not taken over yet, and says why
    taken, current = deploy_lock.acquire(path, 'b', ME, 60, take_over='a', host_work=[unit], run=run)
    assert not taken and current['token'] == 'a'
    assert current['running'] == [{'unit': unit, 'since': 'Thu 2026-12-03 07:00:00 UTC'}]
    # a lock that looks free (released by a run that lost its connection for one task) is not taken either
    os.unlink(path)
    for state in ('activating', 'deactivating'):
        states[unit] = state
        taken, current = deploy_lock.acquire(path, 'b', ME, 60, host_work=[unit], run=run)
        assert not taken and current['running'][0]['unit'] == unit and not os.path.exists(path)
    states[unit] = 'inactive'
    assert deploy_lock.acquire(path, 'b', ME, 60, host_work=[unit], run=run)[0]
    # the holder's own steps never keep it from its own lock
    states[unit] = 'active'
    assert deploy_lock.acquire(path, 'b', ME, 60, host_work=[unit], run=run)[0]
    # a step that has ended (failed, here) keeps nothing
    states[unit] = 'failed'
    assert deploy_lock.acquire(path, 'c', ME, 60, take_over='b', host_work=[unit], run=run)[0]


def _race(path, token, out):
    out.put((token, deploy_lock.acquire(path, token, dict(ME, user=token), 60, take_over='stale')[0]))


def test_racing_take_overs_never_both_win(tmp_path):
    path = str(tmp_path / 'shop.deploy')
    for _ in range(5):
        deploy_lock.acquire(path, 'stale', ME, 60)
        out = multiprocessing.Queue()
        procs = [multiprocessing.Process(target=_race, args=(path, 't%d' % n, out)) for n in range(6)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        winners = [t for t, won in (out.get() for _ in procs) if won]
        assert len(winners) == 1 and json.load(open(path))['token'] == winners[0]
        deploy_lock.release(path, winners[0])


PLAY = textwrap.dedent('''\
    - hosts: localhost
      gather_facts: false
      vars:
        ansible_python_interpreter: "{{ ansible_playbook_python }}"
      tasks:
        - name: Take the lock
          pyfleet.deploy.deploy_lock:
            path: "{{ lock }}"
            timeout: "{{ wait }}"
            interval: 0.2
          register: taken
        - name: Show who holds it
          ansible.builtin.debug:
            msg: "HOLDER {{ taken.holder.user }} {{ taken.holder.pid }} took_over={{ taken.took_over }}"
        - name: Hold it
          ansible.builtin.wait_for:
            path: "{{ go }}"
            timeout: 60
        - name: Release it
          pyfleet.deploy.deploy_lock:
            path: "{{ lock }}"
            state: absent
    ''')


def _playbook(tmp_path, lock, go, wait):
    write_tree(tmp_path, {'play.yml': PLAY})
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
           str(tmp_path / 'play.yml'), '-e', 'lock=%s go=%s wait=%d' % (lock, go, wait)]
    from helpers import ROOT
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    env.pop('ANSIBLE_COLLECTIONS_PATH', None)
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def test_a_second_run_waits_fails_naming_the_holder_and_takes_over_when_it_is_killed(tmp_path):
    lock, go = str(tmp_path / 'app.deploy'), str(tmp_path / 'go')
    first = _playbook(tmp_path / 'one', lock, go, 30)
    deadline = time.time() + 60
    while not os.path.exists(lock) and time.time() < deadline:
        time.sleep(0.2)
    holder = json.load(open(lock))
    assert holder['pid'] == first.pid and holder['user']   # the run's own process, not a worker's
    second = _playbook(tmp_path / 'two', lock, go, 2)
    out = second.communicate(timeout=120)[0]
    assert second.returncode != 0
    assert 'another deploy of this app holds %s' % lock in out and '(pid %d, started ' % first.pid in out
    os.killpg(first.pid, 9)                                   # SIGKILL: it never releases the lock
    first.wait()
    third = _playbook(tmp_path / 'three', lock, go, 5)
    open(go, 'w').close()
    out = third.communicate(timeout=120)[0]
    assert third.returncode == 0, out
    assert 'took over a stale deploy lock held by' in out and '(its process is gone)' in out
    assert not os.path.exists(lock)                           # released at the end


def test_the_module_is_documented():
    res = run(['ansible-doc', 'pyfleet.deploy.deploy_lock'])
    assert res.returncode == 0 and 'per-app deploy lock on the host' in res.stdout


def test_settled_first_leaves_a_settled_host_without_the_lock_and_takes_it_otherwise(tmp_path):
    p = {k: v.get('default') for k, v in deploy_lock.ARGUMENT_SPEC.items()}
    path = str(tmp_path / 'lock' / 'shop.deploy')
    p.update(path=path, token='a', holder=ME, look={'fingerprint': 'f', 'releases': '/r', 'state': '/s', 'current': '/c'},
             settled_first=True)
    looks = []

    def says(*answers):
        answers = list(answers)

        def settled(look):
            looks.append((look['fingerprint'], os.path.exists(path)))
            return {'settled': answers.pop(0), 'code_only': False, 'why': ''}
        return settled
    # settled at the first look: the lock is never taken, and the look is said
    res = deploy_lock.run_task(dict(p), settled=says(True))
    assert res['settled'] and not res['taken'] and res['look']['settled'] and not os.path.exists(path)
    assert looks == [('f', False)]
    # not settled: the lock is taken, and the host looked at again under it
    looks.clear()
    res = deploy_lock.run_task(dict(p), settled=says(False, False))
    assert res['taken'] and 'settled' not in res and looks == [('f', False), ('f', True)]
    deploy_lock.release(path, 'a')
    # another deploy made it settled meanwhile: under the lock it is, and the lock is let go at once
    res = deploy_lock.run_task(dict(p), settled=says(False, True))
    assert res['settled'] and not res['taken'] and not os.path.exists(path)
    # held by another run: neither look is under it, and the caller waits as before
    deploy_lock.acquire(path, 'b', ME, 60)
    res = deploy_lock.run_task(dict(p), settled=says(False))
    assert not res['taken'] and 'look' not in res and res['holder']['token'] == 'b'
