"""Who holds a port on a host, and whether an app may have its web ports (module_utils/ports.py)."""
import os

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import ports

HEAD = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'


def row(n, port, inode, state='0A', addr='00000000'):
    return '%4d: %s:%04X 00000000:0000 %s 00000000:00000000 00:00000000 00000000   0  0 %s 1 0 100 0 0 10 0\n' % (
        n, addr, port, state, inode)


def fake_proc(tmp_path, sockets, procs):
    """A /proc with listening ``sockets`` [(port, inode)] and ``procs`` {pid: (comm, cgroup, [inodes])}."""
    proc = tmp_path / 'proc'
    (proc / 'net').mkdir(parents=True)
    (proc / 'net' / 'tcp').write_text(HEAD + ''.join(row(n, port, inode) for n, (port, inode) in enumerate(sockets))
                                      + row(99, 8000, '555', state='01'))   # an established one on 8000: not a listener
    (proc / 'net' / 'tcp6').write_text(HEAD)
    for pid, (comm, cgroup, inodes) in procs.items():
        d = proc / str(pid)
        (d / 'fd').mkdir(parents=True)
        (d / 'comm').write_text(comm + '\n')
        (d / 'cgroup').write_text('1:cpu:/\n0::%s\n' % cgroup)
        for n, inode in enumerate(inodes):
            os.symlink('socket:[%s]' % inode, str(d / 'fd' / str(n + 3)))
        os.symlink('/dev/null', str(d / 'fd' / '0'))
    return str(proc)


SSH = (812, ('sshd', '/system.slice/ssh.service', ['100']))
OWN = (900, ('python', '/system.slice/system-pyfleet\\x2dshop\\x2dweb.slice/pyfleet-shop-web@8000.service', ['200']))
OTHER = (950, ('python', '/system.slice/system-pyfleet\\x2dblog\\x2dweb.slice/pyfleet-blog-web@8001.service', ['300']))


def test_holders_are_found_by_socket_and_named_by_their_unit(tmp_path):
    proc = fake_proc(tmp_path, [(22, '100'), (8000, '200'), (8001, '300'), (9000, '400')], dict([SSH, OWN, OTHER]))
    assert ports.holders(22, proc) == [{'pid': 812, 'command': 'sshd', 'unit': 'ssh.service'}]
    assert ports.holders(8000, proc)[0]['unit'] == 'pyfleet-shop-web@8000.service'
    assert ports.holders(8002, proc) == []
    # a socket whose process is out of sight
    assert ports.holders(9000, proc) == [{'pid': 0, 'command': '?', 'unit': ''}]
    assert ports.describe(ports.holders(22, proc)[0]) == 'sshd (pid 812, ssh.service)'
    # several ports in one pass over the processes
    both = ports.holders_of([22, 8001, 8002], proc)
    assert [h['pid'] for h in both[22]] == [812] and [h['pid'] for h in both[8001]] == [950] and both[8002] == []


@pytest.mark.parametrize('unit,app,mine', [
    ('pyfleet-shop-web@8000.service', 'shop', True),
    ('pyfleet-shop-worker@1.service', 'shop', True),
    ('pyfleet-shop-ports.service', 'shop', False),
    ('pyfleet-shop-build.service', 'shop', False),
    ('pyfleet-shop-v2-web@8000.service', 'shop', True),     # shop-v2's units begin like shop's: an app name's "-" is ambiguous
    ('pyfleet-blog-web@8000.service', 'shop', False),
    ('ssh.service', 'shop', False),
])
def test_a_listener_is_the_apps_own_only_in_its_units(unit, app, mine):
    assert ports.own({'pid': 1, 'command': 'x', 'unit': unit}, app) is mine


def test_ports_another_app_claims_or_another_process_holds_are_refused_with_a_free_pair(tmp_path):
    proc = fake_proc(tmp_path, [(22, '100'), (8000, '200'), (8001, '300')], dict([SSH, OWN, OTHER]))
    conf = tmp_path / 'etc'
    for app, claim in (('blog', '# ports: 8002 8003\n'), ('api', ''), ('shop', '# ports: 8000 8001\n')):
        (conf / app).mkdir(parents=True)
        (conf / app / 'ports.nft').write_text('#!/usr/sbin/nft -f\n# Ansible managed\n' + claim + 'table inet x\n')
    p = {'app': 'shop', 'ports': [8000, 8001], 'config_root': str(conf)}
    res = ports.check(p, proc)
    assert res['failed'] and res['msg'] == (
        'pyfleet: the app shop cannot have its web ports 8000 and 8001 here: port 8001 is taken by python (pid 950, '
        'pyfleet-blog-web@8001.service). Each app that listens on ports needs two of its own, which nothing else on '
        'the host listens on. Set pyfleet_web_port to 8004 (it and 8005 are free here).')
    res = ports.check(dict(p, ports=[8002, 8003]), proc)
    assert "port 8002 is the app blog's" in res['msg'] and "port 8003 is the app blog's" in res['msg']
    res = ports.check(dict(p, ports=[22, 23]), proc)
    assert 'port 22 is taken by sshd (pid 812, ssh.service)' in res['msg']
    # its own listener (a live instance) is no obstacle
    ok = ports.check(dict(p, ports=[8000]), proc)
    assert not ok.get('failed')
    assert ports.free_pair({8000, 8003}) == 8004 and ports.free_pair(set(range(8000, 10000))) is None


def test_the_real_host_tables_can_be_read():
    import socket
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        found = ports.holders(port)
        assert [h['pid'] for h in found] == [os.getpid()]
    finally:
        s.close()


def test_without_a_port_set_the_host_gives_the_app_a_free_pair_and_keeps_it(tmp_path):
    proc = fake_proc(tmp_path, [(8000, '300'), (8003, '400')], dict([OTHER]))
    conf = tmp_path / 'etc'
    (conf / 'api').mkdir(parents=True)
    (conf / 'api' / 'ports.nft').write_text('# ports: 8004 8005\n')
    slots = tmp_path / 'slots'
    p = {'app': 'shop', 'ports': [8000, 8001], 'config_root': str(conf), 'auto': True, 'slots_dir': str(slots)}
    # 8000 is held, 8002/8003 half held, 8004/8005 another app's: 8006
    res = ports.allocate(p, proc)
    assert not res.get('failed') and res['port'] == 8006 and res['ports'] == [8006, 8007]
    # once it has slots here, it keeps its pair
    slots.mkdir()
    for n in ('8010', '8011'):
        os.symlink('/srv/shop/releases/x', str(slots / n))
    assert ports.allocate(p, proc)['port'] == 8010
    # free: the plan's own
    assert ports.allocate(dict(p, slots_dir=''), fake_proc(tmp_path / 'b', [], {}))['port'] == 8000
