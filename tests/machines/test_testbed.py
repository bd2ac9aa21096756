"""The test bed boots real machines, and `down` leaves nothing behind."""
import json
import os
import subprocess

import pytest

from bed import TESTBED, on, run_testbed, up

BRIDGE = os.environ.get('PYFLEET_TESTBED_BRIDGE', 'pf-br0')
STATE = os.environ.get('PYFLEET_TESTBED_STATE', '/var/lib/pyfleet-testbed')


def leftovers():
    """Everything a test bed can leave on the controller."""
    out = {}
    out['nspawn'] = subprocess.run(['pgrep', '-f', 'systemd-nspawn.*%s' % STATE], capture_output=True,
                                   text=True).stdout.split()
    out['bridge'] = subprocess.run(['ip', 'link', 'show', BRIDGE], capture_output=True).returncode == 0
    out['veth'] = [l for l in subprocess.run(['ip', '-br', 'link'], capture_output=True, text=True).stdout.splitlines()
                   if l.startswith('vb-')]
    rules = subprocess.run(['iptables-save'], capture_output=True, text=True).stdout
    out['rules'] = [l for l in rules.splitlines() if 'pyfleet-testbed' in l]
    with open('/proc/self/mounts') as fh:
        out['mounts'] = [l.split()[1] for l in fh if l.split()[1].startswith(STATE)]
    out['state_dir'] = os.path.exists(os.path.join(STATE, 'machines'))
    return out


CLEAN = {'nspawn': [], 'bridge': False, 'veth': [], 'rules': [], 'mounts': [], 'state_dir': False}


@pytest.fixture
def clean_bed():
    run_testbed('down')
    with open('/proc/sys/net/ipv4/ip_forward') as fh:
        forward = fh.read().strip()
    yield
    run_testbed('down')
    assert leftovers() == CLEAN
    with open('/proc/sys/net/ipv4/ip_forward') as fh:
        assert fh.read().strip() == forward


def test_four_machines(clean_bed):
    summary = up(4)
    names = [m['name'] for m in summary['machines']]
    addrs = [m['address'] for m in summary['machines']]
    assert len(set(addrs)) == 4 and len(names) == 4
    for name, addr in zip(names, addrs):
        # its own address, seen from inside
        assert addr in on(name, 'ip -4 -o addr show dev host0')
        assert on(name, 'hostname') == name
        # systemd as PID 1, fully up, nothing failed
        assert on(name, 'systemctl is-system-running') == 'running'
        assert on(name, 'systemctl --failed --no-legend --plain') == ''
        assert on(name, 'cat /proc/1/comm') == 'systemd'
        # the registries, through NAT, with the controller's CA
        assert on(name, "curl -sS -o /dev/null -w '%{http_code}' https://pypi.org/simple/pip/") == '200'
        assert on(name, "curl -sS -o /dev/null -w '%{http_code}' http://deb.debian.org/debian/dists/bookworm/Release") == '200'
    # machines see each other on the bridge (and have distinct machine-ids)
    assert len({on(n, 'cat /etc/machine-id') for n in names}) == 4
    assert on(names[0], 'python3 -c "import socket; socket.create_connection((\'%s\', 22), 3); print(1)"' % addrs[3]) == '1'
    # the inventory reaches each over SSH through Ansible
    inv = run_testbed('inventory').stdout
    for name, addr in zip(names, addrs):
        assert 'ansible_host: %s' % addr in inv
    bin_dir = os.path.dirname(os.sys.executable)
    res = subprocess.run([os.path.join(bin_dir, 'ansible'), 'all', '-i', os.path.join(STATE, 'inventory.yml'),
                          '-m', 'ansible.builtin.ping', '-o'], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count('SUCCESS') == 4


def test_down_leaves_nothing_and_up_recovers_from_a_crash(clean_bed):
    up(1)
    assert leftovers()['nspawn'] and leftovers()['bridge'] and leftovers()['rules'] and leftovers()['mounts']
    # a crashed run: the state file is gone but the machine, mounts, bridge and rules are still there
    os.unlink(os.path.join(STATE, 'state.json'))
    summary = up(2)
    assert [m['name'] for m in summary['machines']] == ['pf1', 'pf2']
    assert len(leftovers()['nspawn']) == 2
    run_testbed('down')
    assert leftovers() == CLEAN


def test_refuses_without_root(clean_bed):
    res = subprocess.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', os.sys.executable,
                          TESTBED, 'up', '1'], capture_output=True, text=True)
    assert res.returncode == 2 and 'must run as root' in res.stderr


def test_refuses_without_tools_and_names_packages(clean_bed, tmp_path):
    os.symlink(os.sys.executable, tmp_path / 'python3')
    res = subprocess.run([str(tmp_path / 'python3'), TESTBED, 'up', '1'], capture_output=True, text=True,
                         env={'PATH': str(tmp_path)})
    assert res.returncode == 2
    for pkg in ('debootstrap', 'systemd-container', 'iproute2', 'iptables'):
        assert pkg in res.stderr


def test_refuses_a_subnet_in_use(clean_bed):
    subprocess.run(['ip', 'link', 'add', 'pftest0', 'type', 'bridge'], check=True)
    try:
        subprocess.run(['ip', 'addr', 'add', '10.232.0.5/24', 'dev', 'pftest0'], check=True)
        res = run_testbed('--subnet', '10.232.0.0/24', 'up', '1', check=False)
        assert res.returncode == 2
        assert '--subnet' in res.stderr and 'pftest0' in res.stderr
        assert leftovers() == CLEAN
    finally:
        subprocess.run(['ip', 'link', 'del', 'pftest0'])
