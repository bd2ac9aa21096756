"""The test bed boots real machines, and `down` leaves nothing behind."""
import os
import re
import subprocess
import time

import pytest

from bed import TESTBED, on, run_testbed, up

BRIDGE = os.environ.get('PYFLEET_TESTBED_BRIDGE', 'pf-br0')
STATE = os.environ.get('PYFLEET_TESTBED_STATE', '/var/lib/pyfleet-testbed')
PREFIX = os.environ.get('PYFLEET_TESTBED_PREFIX', 'pf')
# this bed's rules: iptables-save may quote the comment, and another bridge's name may extend ours
OURS = re.compile(r'pyfleet-testbed:%s(?![\w-])' % re.escape(BRIDGE))


def _other_beds():
    """Another test bed (another bridge, subnet and state dir) may be up on this host: it is not ours to check."""
    rules = subprocess.run(['iptables-save', '-t', 'nat'], capture_output=True, text=True).stdout
    return [l for l in rules.splitlines() if 'pyfleet-testbed:' in l and not OURS.search(l)]


def leftovers():
    """Everything this test bed (its bridge, state dir and machine names) can leave on the controller."""
    out = {}
    out['nspawn'] = subprocess.run(['pgrep', '-f', '^systemd-nspawn .*%s' % STATE], capture_output=True,
                                   text=True).stdout.split()
    out['bridge'] = subprocess.run(['ip', 'link', 'show', BRIDGE], capture_output=True).returncode == 0
    out['veth'] = [l for l in subprocess.run(['ip', '-br', 'link'], capture_output=True, text=True).stdout.splitlines()
                   if l.startswith('vb-%s' % PREFIX)]
    rules = subprocess.run(['iptables-save'], capture_output=True, text=True).stdout
    out['rules'] = [l for l in rules.splitlines() if OURS.search(l)]
    with open('/proc/self/mounts') as fh:
        out['mounts'] = [l.split()[1] for l in fh if l.split()[1].startswith(STATE)]
    out['state_dir'] = os.path.exists(os.path.join(STATE, 'machines'))
    out['cgroups'] = [h for h in ('/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd', '/sys/fs/cgroup')
                      if os.path.exists(os.path.join(h, 'pyfleet-testbed', BRIDGE))]
    return out


CLEAN = {'nspawn': [], 'bridge': False, 'veth': [], 'rules': [], 'mounts': [], 'state_dir': False, 'cgroups': []}


@pytest.fixture
def clean_bed():
    run_testbed('down')
    with open('/proc/sys/net/ipv4/ip_forward') as fh:
        forward = fh.read().strip()
    yield
    run_testbed('down')
    assert leftovers() == CLEAN
    if not _other_beds():   # forwarding is the host's: put back only when no other bed routes through it
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


def test_a_machine_comes_back_after_a_reboot_from_inside(clean_bed):
    """As systemd-nspawn@.service does (exit status 133), so "back after a restart" can be tested."""
    name = up(1)['machines'][0]['name']
    before = on(name, 'cat /proc/sys/kernel/random/boot_id')
    run_testbed('ssh', name, 'systemctl reboot', check=False, timeout=60)
    deadline = time.time() + 60
    after = None
    while time.time() < deadline:
        res = run_testbed('ssh', name, 'systemctl is-system-running --wait; cat /proc/sys/kernel/random/boot_id',
                          check=False, timeout=60)
        lines = res.stdout.split()
        if res.returncode == 0 and lines[:1] == ['running'] and lines[-1] != before:
            after = lines[-1]
            break
        time.sleep(1)
    assert after, 'the machine did not come back within 60 s'
    assert len(leftovers()['nspawn']) == 1


def test_down_leaves_nothing_and_up_recovers_from_a_crash(clean_bed):
    up(1)
    assert leftovers()['nspawn'] and leftovers()['bridge'] and leftovers()['rules'] and leftovers()['mounts']
    # a crashed run: the state file is gone but the machine, mounts, bridge and rules are still there
    os.unlink(os.path.join(STATE, 'state.json'))
    summary = up(2)
    assert [m['name'] for m in summary['machines']] == [PREFIX + '1', PREFIX + '2']
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
        subprocess.run(['ip', 'addr', 'add', '10.239.77.5/24', 'dev', 'pftest0'], check=True)
        res = run_testbed('--subnet', '10.239.77.0/24', 'up', '1', check=False)
        assert res.returncode == 2
        assert '--subnet' in res.stderr and 'pftest0' in res.stderr
        assert leftovers() == CLEAN
    finally:
        subprocess.run(['ip', 'link', 'del', 'pftest0'])


def test_machines_have_their_own_unified_cgroup_and_ip_firewall(clean_bed):
    """Like a real Debian 12 VM: the unified cgroup hierarchy (v2), and systemd's IPAddressDeny= holds. Each
    machine has a cgroup tree of its own (machines that shared one would stop each other's units)."""
    machines = up(2)['machines']
    names, addr = [m['name'] for m in machines], machines[0]['address']
    for name in names:
        assert on(name, 'stat -fc %T /sys/fs/cgroup') == 'cgroup2fs'
    assert on(names[0], 'systemd-run --unit=pf-probe -p IPAddressDeny=any -p IPAddressAllow=localhost '
                        'python3 -m http.server 8099 >/dev/null 2>&1; sleep 1; systemctl is-active pf-probe') == 'active'
    # the other machine's systemd does not see (or own) the first one's unit
    assert on(names[1], 'systemctl is-active pf-probe', check=False) != 'active'
    assert on(names[0], "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8099/") == '200'
    res = subprocess.run(['curl', '-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', 'http://%s:8099/' % addr],
                         capture_output=True, text=True)
    assert res.stdout == '000' and res.returncode == 28, (res.returncode, res.stdout)
