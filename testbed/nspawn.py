#!/usr/bin/env python3
"""pyfleet test bed: real Debian machines (systemd as PID 1, sshd, apt) as systemd-nspawn containers.

    testbed.py up N [--release bookworm|trixie]   boot N machines, write their inventory
    testbed.py down [--purge-cache]                remove machines, roots, bridge, NAT rules, mounts
    testbed.py status                              list the machines
    testbed.py ssh NAME [COMMAND...]               log in to a machine (or run a command)
    testbed.py inventory                           print the Ansible inventory (YAML)
    testbed.py image [--release R]                 only build (or reuse) the cached root

Each machine is a copy-on-write overlay of a cached debootstrap root, sits on one private bridge with its
own static address, reaches the package registries through NAT that covers that subnet only, and trusts the
controller's CA certificates. Traffic goes only to the machines' own addresses and loopback.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid

DEFAULTS = {
    'state_dir': os.environ.get('PYFLEET_TESTBED_STATE', '/var/lib/pyfleet-testbed'),
    'cache_dir': os.environ.get('PYFLEET_TESTBED_CACHE', '/var/cache/pyfleet/images'),
    'bridge': os.environ.get('PYFLEET_TESTBED_BRIDGE', 'pf-br0'),
    'subnet': os.environ.get('PYFLEET_TESTBED_SUBNET', '10.231.0.0/24'),
    'mirror': os.environ.get('PYFLEET_TESTBED_MIRROR', 'http://deb.debian.org/debian'),
    'prefix': os.environ.get('PYFLEET_TESTBED_PREFIX', 'pf'),
}
RULE_TAG = 'pyfleet-testbed'
# the host's ip_forward before the first bed turned it on; the last bed down puts it back
FORWARD_PREV = '/run/pyfleet-testbed.ip_forward'
# What a fresh Debian cloud image has, give or take cloud-init.
PACKAGES = ['systemd-sysv', 'dbus', 'libpam-systemd', 'openssh-server', 'python3', 'python3-apt', 'sudo',
            'ca-certificates', 'curl', 'gnupg', 'iproute2', 'iputils-ping', 'procps', 'less', 'netbase',
            'locales', 'tzdata', 'cron', 'apt-utils', 'xz-utils', 'bzip2', 'rsync', 'git', 'vim-tiny',
            'logrotate', 'ifupdown-']
RELEASES = {'bookworm': 12, 'trixie': 13}
# Bump when configure_image() changes what it writes: the cache key follows.
IMAGE_CONFIG_VERSION = 3
REQUIRED_TOOLS = {  # binary -> Debian package that provides it
    'debootstrap': 'debootstrap', 'systemd-nspawn': 'systemd-container', 'ip': 'iproute2',
    'iptables': 'iptables', 'ssh': 'openssh-client', 'ssh-keygen': 'openssh-client', 'mount': 'mount',
}


class TestbedError(Exception):
    """A clear refusal: printed without a traceback."""


def log(msg):
    print('testbed: %s' % msg, file=sys.stderr, flush=True)


def run(cmd, check=True, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and res.returncode != 0:
        raise TestbedError('%s failed (%d): %s' % (' '.join(cmd), res.returncode,
                                                   (res.stderr or res.stdout or '').strip()[-2000:]))
    return res


# ------------------------------------------------------------------ recipe and image cache
def recipe(release, mirror):
    if release not in RELEASES:
        raise TestbedError('unknown release %r; choose one of %s' % (release, ', '.join(RELEASES)))
    return {'release': release, 'mirror': mirror, 'variant': 'minbase', 'packages': sorted(PACKAGES),
            'config_version': IMAGE_CONFIG_VERSION, 'arch': os.uname().machine}


def recipe_key(rec):
    return '%s-%s' % (rec['release'], hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()[:12])


def image_path(cfg, rec):
    return os.path.join(cfg.cache_dir, recipe_key(rec))


@contextlib.contextmanager
def held(path):
    """An exclusive lock on ``path`` (made if missing), held for the block: beds that come up at once build a
    shared cache once, one after the other, and never into each other's half-built directory."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'a') as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_image(cfg, release):
    """The cached root for ``release``: built once per recipe, reused after (and by one bed at a time)."""
    rec = recipe(release, cfg.mirror)
    path = image_path(cfg, rec)
    if os.path.isfile(os.path.join(path, '.pyfleet-image.json')):
        return path, False
    with held(path + '.lock'):
        return _build_image(cfg, release, rec, path)


def _build_image(cfg, release, rec, path):
    if os.path.isfile(os.path.join(path, '.pyfleet-image.json')):
        return path, False  # another bed built it while this one waited
    os.makedirs(cfg.cache_dir, exist_ok=True)
    tmp = path + '.tmp'
    if os.path.exists(tmp):
        _umount_below(tmp)
        shutil.rmtree(tmp)
    include = ','.join(p for p in rec['packages'] if not p.endswith('-'))
    exclude = ','.join(p[:-1] for p in rec['packages'] if p.endswith('-'))
    log('building the %s root (debootstrap, cached as %s)' % (release, os.path.basename(path)))
    t0 = time.time()
    cmd = ['debootstrap', '--variant=' + rec['variant'], '--include=' + include]
    if exclude:
        cmd.append('--exclude=' + exclude)
    cmd += [release, tmp, rec['mirror']]
    try:
        run(cmd)
    except TestbedError as exc:
        _umount_below(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        raise TestbedError('debootstrap of %s failed; check that %s is reachable.\n%s' % (release, rec['mirror'], exc))
    _umount_below(tmp)
    configure_image(tmp, rec)
    with open(os.path.join(tmp, '.pyfleet-image.json'), 'w') as fh:
        json.dump(dict(rec, built_seconds=round(time.time() - t0, 1), built_at=time.strftime('%FT%TZ', time.gmtime())),
                  fh, indent=2)
    os.rename(tmp, path)
    log('built %s in %.0f s' % (os.path.basename(path), time.time() - t0))
    return path, True


def _write(root, rel, text, mode=0o644):
    path = os.path.join(root, rel.lstrip('/'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.islink(path):
        os.unlink(path)
    with open(path, 'w') as fh:
        fh.write(text)
    os.chmod(path, mode)


def _symlink(root, target, rel):
    path = os.path.join(root, rel.lstrip('/'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)


def configure_image(root, rec):
    """Make the debootstrap root boot like a cloud VM: networkd, sshd, apt sources, no stale identity."""
    release, mirror = rec['release'], rec['mirror']
    security = mirror.rsplit('/', 1)[0] + '/debian-security'
    _write(root, '/etc/apt/sources.list',
           'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n'
           % (mirror, release, mirror, release, security, release))
    _write(root, '/etc/default/locale', 'LANG=C.UTF-8\n')
    # systemd-networkd configures host0 (the veth nspawn gives the machine); the address is per machine.
    _symlink(root, '/lib/systemd/system/systemd-networkd.service',
             '/etc/systemd/system/multi-user.target.wants/systemd-networkd.service')
    _symlink(root, '/lib/systemd/system/systemd-networkd.socket',
             '/etc/systemd/system/sockets.target.wants/systemd-networkd.socket')
    # nothing waits for "online"; sshd starts as soon as the address is up
    _symlink(root, '/dev/null', '/etc/systemd/system/systemd-networkd-wait-online.service')
    # units that have nothing to do in a container and would only fail
    for unit in ('systemd-timesyncd.service', 'getty@tty1.service', 'e2scrub_reap.service'):
        _symlink(root, '/dev/null', '/etc/systemd/system/%s' % unit)
    # identity is per machine: host keys and machine-id are made at `up`
    for name in os.listdir(os.path.join(root, 'etc/ssh')):
        if name.startswith('ssh_host_'):
            os.unlink(os.path.join(root, 'etc/ssh', name))
    _write(root, '/etc/machine-id', '')
    _write(root, '/etc/ssh/sshd_config.d/pyfleet-testbed.conf',
           'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n')
    # clean apt caches debootstrap left behind, like a cloud image
    for d in ('var/cache/apt/archives',):
        full = os.path.join(root, d)
        for name in os.listdir(full):
            if name.endswith('.deb'):
                os.unlink(os.path.join(full, name))


# ------------------------------------------------------------------ state
class Config(object):
    def __init__(self, args):
        for key, value in DEFAULTS.items():
            setattr(self, key, getattr(args, key, None) or value)
        self.state_file = os.path.join(self.state_dir, 'state.json')
        self.key_file = os.path.join(self.cache_dir, 'ssh', 'id_ed25519')
        self.inventory_file = os.path.join(self.state_dir, 'inventory.yml')


def load_state(cfg):
    try:
        with open(cfg.state_file) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def save_state(cfg, state):
    os.makedirs(cfg.state_dir, exist_ok=True)
    tmp = cfg.state_file + '.tmp'
    with open(tmp, 'w') as fh:
        json.dump(state, fh, indent=2)
    os.rename(tmp, cfg.state_file)


# ------------------------------------------------------------------ preflight
def preflight(cfg, need_root=True):
    if need_root and os.geteuid() != 0:
        raise TestbedError('must run as root (it creates a bridge, NAT rules, mounts and containers); '
                           'try: sudo %s' % ' '.join(sys.argv))
    missing = sorted({pkg for tool, pkg in REQUIRED_TOOLS.items() if shutil.which(tool) is None})
    if missing:
        raise TestbedError('missing tools; install them with: apt-get install -y %s' % ' '.join(missing))


def subnet_conflicts(cfg):
    """Interfaces other than our bridge that already use an address or route in the subnet."""
    net = ipaddress.ip_network(cfg.subnet, strict=True)
    found = []
    addrs = json.loads(run(['ip', '-j', 'addr', 'show']).stdout or '[]')
    for link in addrs:
        if link.get('ifname') == cfg.bridge:
            continue
        for a in link.get('addr_info', []):
            if a.get('family') != 'inet':
                continue
            other = ipaddress.ip_network('%s/%s' % (a['local'], a['prefixlen']), strict=False)
            if other.overlaps(net):
                found.append('%s has %s/%s' % (link['ifname'], a['local'], a['prefixlen']))
    routes = json.loads(run(['ip', '-j', 'route', 'show']).stdout or '[]')
    for r in routes:
        dst = r.get('dst')
        if not dst or dst == 'default' or r.get('dev') == cfg.bridge:
            continue
        try:
            other = ipaddress.ip_network(dst if '/' in dst else dst + '/32', strict=False)
        except ValueError:
            continue
        if other.overlaps(net):
            found.append('route %s via %s' % (dst, r.get('dev')))
    return found


def controller_dns():
    """Nameservers the machines can use: the controller's own, unless they are loopback stubs."""
    servers = []
    for path in ('/etc/resolv.conf', '/run/systemd/resolve/resolv.conf'):
        try:
            with open(path) as fh:
                for line in fh:
                    parts = line.split()
                    if len(parts) >= 2 and parts[0] == 'nameserver':
                        try:
                            if not ipaddress.ip_address(parts[1]).is_loopback and parts[1] not in servers:
                                servers.append(parts[1])
                        except ValueError:
                            pass
        except OSError:
            continue
        if servers:
            break
    if not servers:
        raise TestbedError('the controller has no non-loopback nameserver in /etc/resolv.conf or '
                           '/run/systemd/resolve/resolv.conf to hand to the machines')
    return servers


def controller_ca_files():
    """The controller's trust store: the bundle and any locally added CA certificates."""
    bundle = '/etc/ssl/certs/ca-certificates.crt'
    if not os.path.isfile(bundle):
        raise TestbedError('%s is missing; install ca-certificates on the controller' % bundle)
    local = []
    base = '/usr/local/share/ca-certificates'
    for dirpath, _dirs, names in os.walk(base):
        for n in sorted(names):
            if n.endswith('.crt'):
                local.append(os.path.join(dirpath, n))
    return bundle, local


# ------------------------------------------------------------------ network
def setup_network(cfg, state):
    net = ipaddress.ip_network(cfg.subnet)
    gw = next(net.hosts())
    if run(['ip', 'link', 'show', cfg.bridge], check=False).returncode != 0:
        run(['ip', 'link', 'add', cfg.bridge, 'type', 'bridge'])
    run(['ip', 'addr', 'replace', '%s/%d' % (gw, net.prefixlen), 'dev', cfg.bridge])
    run(['ip', 'link', 'set', cfg.bridge, 'up'])
    with open('/proc/sys/net/ipv4/ip_forward') as fh:
        prev = fh.read().strip()
    if prev != '1':
        # the host's setting, for whichever bed goes down last (another may come up and outlive this one)
        if not os.path.exists(FORWARD_PREV):
            with open(FORWARD_PREV, 'w') as fh:
                fh.write(prev + '\n')
        state['ip_forward_prev'] = prev
        save_state(cfg, state)
        with open('/proc/sys/net/ipv4/ip_forward', 'w') as fh:
            fh.write('1\n')
    rules = [
        ('nat', 'POSTROUTING', ['-s', str(net), '!', '-d', str(net), '-j', 'MASQUERADE']),
        ('filter', 'FORWARD', ['-i', cfg.bridge, '-s', str(net), '-j', 'ACCEPT']),
        ('filter', 'FORWARD', ['-o', cfg.bridge, '-d', str(net), '-m', 'conntrack', '--ctstate',
                               'RELATED,ESTABLISHED', '-j', 'ACCEPT']),
    ]
    for table, chain, spec in rules:
        full = spec + ['-m', 'comment', '--comment', '%s:%s' % (RULE_TAG, cfg.bridge)]
        if run(['iptables', '-t', table, '-C', chain] + full, check=False).returncode != 0:
            run(['iptables', '-t', table, '-I', chain, '1'] + full)
    return str(gw)


def teardown_network(cfg, state):
    for table, chain in (('nat', 'POSTROUTING'), ('filter', 'FORWARD')):
        res = run(['iptables', '-t', table, '-S', chain], check=False)
        for line in (res.stdout or '').splitlines():
            if '%s:%s' % (RULE_TAG, cfg.bridge) in line and line.startswith('-A '):
                args = shlex.split(line[3:])
                run(['iptables', '-t', table, '-D'] + args, check=False)
    # nspawn names the host side of each machine's veth vb-<machine>; the kernel may still hold it
    links = json.loads(run(['ip', '-j', 'link', 'show'], check=False).stdout or '[]')
    for link in links:
        name = link.get('ifname', '')
        if name.startswith('vb-' + cfg.prefix) or link.get('master') == cfg.bridge:
            run(['ip', 'link', 'del', name], check=False)
    if run(['ip', 'link', 'show', cfg.bridge], check=False).returncode == 0:
        run(['ip', 'link', 'del', cfg.bridge], check=False)
    if other_beds_rules(cfg):       # another test bed still routes through this host: the last one down restores
        return
    prev = (state or {}).get('ip_forward_prev')
    if os.path.exists(FORWARD_PREV):
        with open(FORWARD_PREV) as fh:
            prev = fh.read().strip() or prev
        os.unlink(FORWARD_PREV)
    if prev is not None:
        with open('/proc/sys/net/ipv4/ip_forward', 'w') as fh:
            fh.write(prev + '\n')


def other_beds_rules(cfg):
    """NAT rules of test beds on other bridges."""
    dump = run(['iptables-save', '-t', 'nat'], check=False).stdout
    ours = re.compile(r'%s:%s(?![\w-])' % (re.escape(RULE_TAG), re.escape(cfg.bridge)))
    return [l for l in dump.splitlines() if RULE_TAG + ':' in l and not ours.search(l)]


# ------------------------------------------------------------------ machines
def ensure_key(cfg):
    if not os.path.isfile(cfg.key_file):
        os.makedirs(os.path.dirname(cfg.key_file), mode=0o700, exist_ok=True)
        run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'pyfleet-testbed', '-f', cfg.key_file])
    with open(cfg.key_file + '.pub') as fh:
        return fh.read().strip()


def prepare_machine(cfg, image, name, ip, prefixlen, gateway, dns, pubkey, ca_bundle, ca_local):
    mdir = os.path.join(cfg.state_dir, 'machines', name)
    upper, work, root = (os.path.join(mdir, d) for d in ('upper', 'work', 'root'))
    for d in (upper, work, root):
        os.makedirs(d, exist_ok=True)
    run(['mount', '-t', 'overlay', 'overlay', '-o',
         'lowerdir=%s,upperdir=%s,workdir=%s' % (image, upper, work), root])
    _write(root, '/etc/hostname', name + '\n')
    _write(root, '/etc/hosts', '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost ip6-loopback\n' % name)
    _write(root, '/etc/machine-id', uuid.uuid4().hex + '\n', 0o444)
    _write(root, '/etc/systemd/network/10-pyfleet-host0.network',
           '[Match]\nName=host0\n\n[Network]\nAddress=%s/%d\nGateway=%s\n%sLinkLocalAddressing=no\nIPv6AcceptRA=no\n'
           % (ip, prefixlen, gateway, ''.join('DNS=%s\n' % s for s in dns)))
    _write(root, '/etc/resolv.conf', ''.join('nameserver %s\n' % s for s in dns))
    # the controller's trust store, so the machine reaches the registries exactly as the controller does
    for src in ca_local:
        shutil.copy2(src, os.path.join(root, 'usr/local/share/ca-certificates', os.path.basename(src)))
    shutil.copy2(ca_bundle, os.path.join(root, 'etc/ssl/certs/ca-certificates.crt'))
    _write(root, '/etc/pip.conf', '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n')
    # SSH: the test bed's key for root, fresh host keys
    _write(root, '/root/.ssh/authorized_keys', pubkey + '\n', 0o600)
    os.chmod(os.path.join(root, 'root/.ssh'), 0o700)
    run(['ssh-keygen', '-A', '-f', root])
    return {'name': name, 'ip': ip, 'dir': mdir, 'root': root}


def cgroup_hierarchies():
    """Where a machine's own cgroup goes on a host whose PID 1 is not systemd: the cgroup v2 mount and, on a
    hybrid host, the name=systemd v1 hierarchy (the two that systemd-nspawn uses)."""
    out = []
    with open('/proc/self/mounts') as fh:
        for line in fh:
            dev, path, fstype, opts = line.split()[:4]
            if fstype == 'cgroup2' or (fstype == 'cgroup' and 'name=systemd' in opts.split(',')):
                out.append(path)
    return out


def machine_cgroups(cfg, name):
    return [os.path.join(h, 'pyfleet-testbed', cfg.bridge, name) for h in cgroup_hierarchies()]


def remove_cgroups(cfg):
    """Remove this test bed's cgroups (bottom up; a cgroup directory goes once its processes have)."""
    for h in cgroup_hierarchies():
        top = os.path.join(h, 'pyfleet-testbed', cfg.bridge)
        if not os.path.isdir(top):
            continue
        for dirpath, dirnames, filenames in os.walk(top, topdown=False):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass
        try:
            os.rmdir(os.path.dirname(top))
        except OSError:
            pass


def boot_machine(cfg, m):
    """Start one machine under systemd-nspawn.

    Like a real Debian 12 VM, the machine sees the unified cgroup hierarchy (v2) and may load BPF programs, so
    systemd's IPAddressDeny= and the rest of its sandboxing really hold inside it. Each machine has a cgroup of
    its own: with --keep-unit, nspawn puts the machine below the cgroup it was started in, and machines that
    share one would share (and fight over) one tree of units.
    """
    logf = open(os.path.join(m['dir'], 'console.log'), 'ab')
    cmd = ['systemd-nspawn', '--register=no', '--keep-unit', '-b', '-D', m['root'], '-M', m['name'],
           '--network-bridge=' + cfg.bridge, '--resolv-conf=off', '--timezone=off', '--link-journal=no',
           '--system-call-filter=bpf',
           '--console=' + os.environ.get('PYFLEET_TESTBED_CONSOLE', 'passive')]
    env = dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY='1')
    # `systemctl reboot` inside a machine makes nspawn exit with 133; like systemd-nspawn@.service
    # (RestartForceExitStatus=133), the machine is then started again
    again = 'while :; do "$@"; rc=$?; [ "$rc" = 133 ] || exit "$rc"; done'
    if os.path.isdir('/run/systemd/system'):   # a systemd host: a delegated scope of its own
        cmd = ['systemd-run', '--scope', '--quiet', '--property=Delegate=yes',
               '--unit=pyfleet-testbed-%s-%s' % (cfg.bridge, m['name']), '/bin/sh', '-c', again, 'testbed-boot'] + cmd
    else:   # sh moves itself into the machine's cgroups, then runs nspawn (again after a reboot)
        procs = []
        for path in machine_cgroups(cfg, m['name']):
            os.makedirs(path, exist_ok=True)
            procs.append(os.path.join(path, 'cgroup.procs'))
        script = 'for f in %s; do echo $$ > "$f" || exit 1; done; %s' % (' '.join(shlex.quote(f) for f in procs), again)
        cmd = ['/bin/sh', '-c', script, 'testbed-boot'] + cmd
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True, close_fds=True)
    logf.close()
    m['pid'] = proc.pid
    return m


def ssh_base(cfg, ip, timeout=5):
    return ['ssh', '-i', cfg.key_file, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
            '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=%d' % timeout,
            'root@%s' % ip]


def wait_ready(cfg, machines, timeout=120):
    """Until each machine answers SSH and `systemctl is-system-running` says running."""
    pending = {m['name']: m for m in machines}
    deadline = time.time() + timeout
    ready_at = {}
    t0 = time.time()
    while pending and time.time() < deadline:
        for name, m in list(pending.items()):
            if not _alive(m['pid']):
                raise TestbedError('machine %s exited during boot:\n%s' % (name, _tail(os.path.join(m['dir'], 'console.log'))))
            try:
                with socket.create_connection((m['ip'], 22), timeout=0.5):
                    pass
            except OSError:
                continue
            res = run(ssh_base(cfg, m['ip'], 3) + ['systemctl', 'is-system-running', '--wait'], check=False)
            state = (res.stdout or '').strip()
            if state == 'running':
                ready_at[name] = round(time.time() - t0, 2)
                del pending[name]
            elif state == 'degraded':
                failed = run(ssh_base(cfg, m['ip']) + ['systemctl', '--failed', '--no-legend', '--plain'], check=False)
                raise TestbedError('machine %s booted degraded; failed units:\n%s' % (name, failed.stdout))
        if pending:
            time.sleep(0.2)
    if pending:
        tails = []
        for name, m in pending.items():
            tails.append('--- %s console (last lines) ---\n%s' % (name, _tail(os.path.join(m['dir'], 'console.log'))))
        raise TestbedError('machines not ready after %d s: %s\n%s' % (timeout, ', '.join(pending), '\n'.join(tails)))
    return ready_at


def _tail(path, lines=25):
    try:
        with open(path, 'rb') as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 16384))
            return b'\n'.join(fh.read().splitlines()[-lines:]).decode('utf-8', 'replace')
    except OSError as exc:
        return '(no console log: %s)' % exc


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open('/proc/%d/stat' % pid) as fh:
            return fh.read().split()[2] != 'Z'
    except OSError:
        return False


def _mirror_pids(cfg):
    """The servers of this test bed (the CPython mirror, bound to its bridge address, the ACME test server and
    the artifact store, run from its state dir), found even when the state file is lost."""
    gateway = str(next(ipaddress.ip_network(cfg.subnet).hosts()))
    acme = os.path.join(cfg.state_dir, 'acme') + '/'
    out = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as fh:
                argv = [a.decode(errors='replace') for a in fh.read().split(b'\0')]
        except OSError:
            continue
        if any(a.endswith('cpython_mirror.py') for a in argv) and 'serve' in argv and gateway in argv:
            out.append(int(pid))
        elif any(os.path.basename(a) == 'wsgidav' for a in argv[:2]) and \
                any(a.startswith(os.path.join(cfg.state_dir, 'store') + '/') for a in argv):
            out.append(int(pid))
        elif argv and os.path.basename(argv[0]) in ('pebble', 'pebble-challtestsrv') and \
                (any(a.startswith(acme) for a in argv) or any(a.startswith(gateway + ':') for a in argv)):
            out.append(int(pid))
    return out


def _nspawn_pids(cfg):
    """nspawn processes of this test bed, found by their root under the state dir."""
    out = []
    marker = os.path.join(cfg.state_dir, 'machines') + '/'
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as fh:
                argv = fh.read().split(b'\0')
        except OSError:
            continue
        if argv and argv[0].endswith(b'systemd-nspawn') and any(a.decode(errors='replace').startswith(marker) for a in argv):
            out.append(int(pid))
    return out


def _mounts_below(path):
    path = os.path.realpath(path).rstrip('/') + '/'
    found = []
    with open('/proc/self/mounts') as fh:
        for line in fh:
            mnt = line.split()[1].replace('\\040', ' ')
            if (mnt + '/').startswith(path):
                found.append(mnt)
    return sorted(found, key=len, reverse=True)


def _umount_below(path):
    for mnt in _mounts_below(path):
        run(['umount', mnt], check=False)
    for mnt in _mounts_below(path):
        run(['umount', '-l', mnt], check=False)


# ------------------------------------------------------------------ what tests ship: a CPython mirror, pyenv
def start_mirror(cfg, directory, bind, port):
    """Serve ``directory`` on the bridge address only, for the machines; `down` stops it."""
    directory = os.path.abspath(directory)
    index = os.path.join(directory, 'index.json')
    if not os.path.isfile(index):
        raise TestbedError('%s is not a CPython mirror; build it with: testbed/cpython_mirror.py build %s' % (directory, directory))
    logf = open(os.path.join(cfg.state_dir, 'mirror.log'), 'ab')
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.Popen([sys.executable, os.path.join(here, 'cpython_mirror.py'), 'serve', directory,
                             '--bind', bind, '--port', str(port)], stdin=subprocess.DEVNULL, stdout=logf,
                            stderr=subprocess.STDOUT, start_new_session=True)
    logf.close()
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with socket.create_connection((bind, port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                raise TestbedError('the mirror server exited; see %s' % os.path.join(cfg.state_dir, 'mirror.log'))
            time.sleep(0.1)
    with open(index) as fh:
        versions = json.load(fh)['versions']
    return {'pid': proc.pid, 'url': 'http://%s:%d' % (bind, port), 'dir': directory,
            'versions': [v['version'] for v in versions],
            'definitions': os.path.join(directory, 'definitions')}


# ------------------------------------------------------------------ an ACME server: Let's Encrypt's pebble
# pebble (Debian's package) on the bridge address, resolving every name through pebble-challtestsrv, which
# answers with the first machine's address (the management API on ACME_PORTS['dns_management'] sets others).
# pebble ships no certificate for its own listener: the bed makes a CA for it, which the machines trust.
ACME_PORTS = {'directory': 14000, 'management': 15000, 'dns': 8053, 'dns_management': 8055}


def acme_ca(cfg, gateway):
    """A CA of the bed's own and pebble's listener certificate (for the gateway's address), made before
    the machines so they trust it; returns the CA's path."""
    d = os.path.join(cfg.state_dir, 'acme')
    os.makedirs(d, mode=0o700, exist_ok=True)
    ca, ca_key = os.path.join(d, 'pyfleet-testbed-acme-ca.crt'), os.path.join(d, 'ca.key')
    key, csr, cert = (os.path.join(d, n) for n in ('listener.key', 'listener.csr', 'listener.crt'))
    ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
    run(['openssl', 'req', '-x509'] + ec + ['-keyout', ca_key, '-out', ca, '-days', '7',
                                            '-subj', '/CN=pyfleet test bed ACME CA (%s)' % cfg.bridge])
    run(['openssl', 'req'] + ec + ['-keyout', key, '-out', csr, '-subj', '/CN=%s' % gateway])
    ext = os.path.join(d, 'listener.ext')
    with open(ext, 'w') as fh:
        fh.write('subjectAltName=IP:%s\n' % gateway)
    run(['openssl', 'x509', '-req', '-in', csr, '-CA', ca, '-CAkey', ca_key, '-CAcreateserial', '-days', '7',
         '-out', cert, '-extfile', ext])
    return ca


def start_acme(cfg, gateway, address):
    """pebble and pebble-challtestsrv on the bridge address; every name resolves to ``address``."""
    for tool in ('pebble', 'pebble-challtestsrv'):
        if shutil.which(tool) is None:
            raise TestbedError('--acme needs %s; install it with: apt-get install -y pebble' % tool)
    d = os.path.join(cfg.state_dir, 'acme')
    conf = os.path.join(d, 'pebble.json')
    with open(conf, 'w') as fh:
        json.dump({'pebble': {
            'listenAddress': '%s:%d' % (gateway, ACME_PORTS['directory']),
            'managementListenAddress': '%s:%d' % (gateway, ACME_PORTS['management']),
            'certificate': os.path.join(d, 'listener.crt'), 'privateKey': os.path.join(d, 'listener.key'),
            # the challenges are asked for where a real CA asks: ports 80 and 443
            'httpPort': 80, 'tlsPort': 443, 'ocspResponderURL': '', 'externalAccountBindingRequired': False}}, fh)
    # no random sleeps or rejected nonces, and every order validated afresh (no reused authorizations)
    env = dict(os.environ, PEBBLE_VA_NOSLEEP='1', PEBBLE_WFE_NONCEREJECT='0', PEBBLE_AUTHZREUSE='0')
    dns = '%s:%d' % (gateway, ACME_PORTS['dns'])
    procs = []
    for argv in (['pebble-challtestsrv', '-defaultIPv4', address, '-defaultIPv6', '', '-dns01', dns,
                  '-http01', '', '-https01', '', '-tlsalpn01', '',
                  '-management', '%s:%d' % (gateway, ACME_PORTS['dns_management'])],
                 ['pebble', '-config', conf, '-dnsserver', dns]):
        logf = open(os.path.join(d, argv[0] + '.log'), 'ab')
        procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                      env=env, start_new_session=True))
        logf.close()
    deadline = time.time() + 15
    for port in (ACME_PORTS['dns_management'], ACME_PORTS['directory']):
        while True:
            try:
                with socket.create_connection((gateway, port), timeout=0.5):
                    break
            except OSError:
                if any(p.poll() is not None for p in procs) or time.time() > deadline:
                    raise TestbedError('the ACME test server did not start; see %s' % d)
                time.sleep(0.1)
    return {'pids': [p.pid for p in procs], 'ca': os.path.join(d, 'pyfleet-testbed-acme-ca.crt'),
            'directory': 'https://%s:%d/dir' % (gateway, ACME_PORTS['directory']),
            'roots': 'https://%s:%d/roots/0' % (gateway, ACME_PORTS['management']),
            'dns_management': 'http://%s:%d' % (gateway, ACME_PORTS['dns_management'])}


# ------------------------------------------------------------------ an artifact store at a URL: a WebDAV server
# wsgidav (PyPI) on the bridge address, serving the bed's store/ over HTTP GET and PUT with basic auth, as a store
# an AWX job uses instead of a controller directory would (pyfleet_artifacts_url). It starts with the bed's
# interpreter artifacts in it (linked: a compile is not what a test of the store is for), and no virtualenv.
STORE_PORT = 8410
STORE_USER = 'pyfleet'


def start_store(cfg, gateway, artifacts_dir):
    wsgidav = os.path.join(os.path.dirname(sys.executable), 'wsgidav')
    if not os.path.isfile(wsgidav):
        raise TestbedError('--store needs wsgidav in the venv that runs this script: pip install wsgidav cheroot '
                           '(requirements.txt pins them)')
    d = os.path.join(cfg.state_dir, 'store')
    root = os.path.join(d, 'root')
    os.makedirs(root, exist_ok=True)
    for name in os.listdir(artifacts_dir) if artifacts_dir and os.path.isdir(artifacts_dir) else []:
        if name.startswith('cpython-') and name.endswith('.tar.gz.sha256'):
            archive = os.path.join(artifacts_dir, name[:-len('.sha256')])
            with open(os.path.join(artifacts_dir, name)) as fh:
                sha = fh.read().split()[0]
            if not os.path.isfile(archive):
                continue
            # the URL store's names (roles/artifacts): the archive under its sha256, then the sha256 that names it
            kept = os.path.join(root, '%s.%s' % (os.path.basename(archive), sha[:16]))
            try:
                os.link(archive, kept)
            except OSError:     # another filesystem
                shutil.copy(archive, kept)
            shutil.copy(os.path.join(artifacts_dir, name), os.path.join(root, name))
    password = secrets.token_hex(12)
    conf = os.path.join(d, 'wsgidav.json')
    with open(conf, 'w') as fh:
        json.dump({'host': gateway, 'port': STORE_PORT, 'provider_mapping': {'/': root},
                   'http_authenticator': {'domain_controller': None, 'accept_basic': True, 'accept_digest': False,
                                          'default_to_digest': False},
                   'simple_dc': {'user_mapping': {'*': {STORE_USER: {'password': password}}}},
                   'verbose': 2, 'lock_storage': True}, fh)
    os.chmod(conf, 0o600)
    logf = open(os.path.join(d, 'wsgidav.log'), 'ab')
    proc = subprocess.Popen([wsgidav, '--config', conf], stdin=subprocess.DEVNULL, stdout=logf,
                            stderr=subprocess.STDOUT, start_new_session=True, cwd=d)
    logf.close()
    deadline = time.time() + 15
    while True:
        try:
            with socket.create_connection((gateway, STORE_PORT), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                raise TestbedError('the artifact store did not start; see %s' % os.path.join(d, 'wsgidav.log'))
            time.sleep(0.1)
    return {'pid': proc.pid, 'url': 'http://%s:%d/' % (gateway, STORE_PORT), 'root': root,
            'auth': {'username': STORE_USER, 'password': password}}


def pyenv_archive(cfg, root):
    """A tarball of the controller's pyenv checkout at its HEAD, cached by commit."""
    root = os.path.abspath(root)
    commit = run(['git', '-C', root, 'rev-parse', 'HEAD']).stdout.strip()
    path = os.path.join(os.path.dirname(cfg.cache_dir), 'pyenv-%s.tar.gz' % commit[:12])
    if not os.path.isfile(path):
        tmp = path + '.tmp'
        run(['git', '-C', root, 'archive', '--format=tar.gz', '-o', tmp, 'HEAD'])
        os.rename(tmp, path)
    return {'path': path, 'commit': commit}


# ------------------------------------------------------------------ inventory
def deploy_vars(cfg, state):
    """pyfleet variables that point the deploy at what the test bed serves (mirror, pyenv, artifacts)."""
    out = {}
    mirror = state.get('mirror')
    if mirror:
        # (the plan reads what the mirror holds from its listing, as it does for any mirror)
        out.update(pyenv_mirror_url=mirror['url'], pyenv_definitions_src=mirror['definitions'])
    if state.get('pyenv_archive'):
        out.update(pyenv_install_method='archive', pyenv_archive_src=state['pyenv_archive']['path'],
                   pyenv_artifacts_dir=os.path.join(os.path.dirname(cfg.cache_dir), 'artifacts'))
    store = state.get('store')
    if store:
        out.update(pyfleet_artifacts_url=store['url'], pyfleet_artifacts_url_auth=store['auth'])
    acme = state.get('acme')
    if acme:
        # the ACME directory for pyfleet, and for tests: pebble's issuing root, its DNS's management API
        # (every name resolves to the first machine unless set there) and the CA of pebble's listener
        out.update(pyfleet_acme_directory=acme['directory'], testbed_acme_roots=acme['roots'],
                   testbed_acme_dns_management=acme['dns_management'], testbed_acme_ca=acme['ca'])
    return out


def inventory_yaml(cfg, state):
    lines = ['# Written by testbed/nspawn.py: the test machines.', 'all:', '  children:', '    testbed:',
             '      vars:', '        ansible_user: root',
             '        ansible_ssh_private_key_file: %s' % cfg.key_file,
             '        ansible_python_interpreter: /usr/bin/python3',
             "        ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'",
             '        testbed_release: %s' % state.get('release'),
             '        testbed_gateway: %s' % state.get('gateway'),
             ]
    for key, value in deploy_vars(cfg, state).items():
        lines.append('        %s: %s' % (key, json.dumps(value)))
    lines += ['      hosts:']
    for m in state.get('machines', []):
        lines.append('        %s:' % m['name'])
        lines.append('          ansible_host: %s' % m['ip'])
    return '\n'.join(lines) + '\n'


# ------------------------------------------------------------------ commands
def cmd_image(cfg, args):
    preflight(cfg)
    path, built = build_image(cfg, args.release)
    print(path)
    return 0


def cmd_up(cfg, args):
    preflight(cfg)
    if args.count < 1 or args.count > 50:
        raise TestbedError('N must be between 1 and 50')
    old = load_state(cfg)
    if old or _nspawn_pids(cfg) or _mounts_below(cfg.state_dir):
        log('cleaning up what an earlier run left behind')
        down(cfg)
    conflicts = subnet_conflicts(cfg)
    if conflicts:
        raise TestbedError('the subnet %s is already in use (%s); choose another with --subnet CIDR '
                           '(or PYFLEET_TESTBED_SUBNET)' % (cfg.subnet, '; '.join(conflicts)))
    net = ipaddress.ip_network(cfg.subnet)
    if net.num_addresses < args.count + 16:
        raise TestbedError('the subnet %s is too small for %d machines; use --subnet with a larger one' % (cfg.subnet, args.count))
    t_img = time.time()
    image, built = build_image(cfg, args.release)
    t_img = time.time() - t_img
    t0 = time.time()
    dns = controller_dns()
    ca_bundle, ca_local = controller_ca_files()
    pubkey = ensure_key(cfg)
    state = {'release': args.release, 'image': image, 'bridge': cfg.bridge, 'subnet': cfg.subnet,
             'machines': []}
    save_state(cfg, state)
    try:
        gateway = setup_network(cfg, state)
        state['gateway'] = gateway
        if args.acme:   # the machines trust the ACME test server's listener
            ca = acme_ca(cfg, gateway)
            bundle = os.path.join(cfg.state_dir, 'acme', 'ca-certificates.crt')
            with open(bundle, 'w') as out, open(ca_bundle) as base, open(ca) as extra:
                out.write(base.read().rstrip('\n') + '\n' + extra.read())
            ca_bundle, ca_local = bundle, list(ca_local) + [ca]
        hosts = list(net.hosts())
        names = ['%s%d' % (cfg.prefix, i + 1) for i in range(args.count)]
        state['machines'] = [{'name': n, 'ip': str(hosts[9 + i]), 'dir': os.path.join(cfg.state_dir, 'machines', n)}
                             for i, n in enumerate(names)]
        save_state(cfg, state)

        def start(m):   # host keys take a moment each: prepare and boot the machines side by side
            m.update(prepare_machine(cfg, image, m['name'], m['ip'], net.prefixlen, gateway, dns, pubkey,
                                     ca_bundle, ca_local))
            return boot_machine(cfg, m)
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, args.count)) as pool:
            machines = list(pool.map(start, state['machines']))
        save_state(cfg, state)
        ready = wait_ready(cfg, machines, timeout=args.timeout)
        if args.mirror_dir:
            state['mirror'] = start_mirror(cfg, args.mirror_dir, gateway, args.mirror_port)
            save_state(cfg, state)
        if args.pyenv_root:
            state['pyenv_archive'] = pyenv_archive(cfg, args.pyenv_root)
            save_state(cfg, state)
        if args.acme:
            state['acme'] = start_acme(cfg, gateway, machines[0]['ip'])
            save_state(cfg, state)
        if args.store:
            state['store'] = start_store(cfg, gateway, deploy_vars(cfg, state).get('pyenv_artifacts_dir'))
            save_state(cfg, state)
    except BaseException:
        if getattr(args, 'keep_on_failure', False):
            log('up failed; --keep-on-failure: left as is for inspection (run: testbed.py down)')
        else:
            log('up failed; removing what it made')
            down(cfg)
        raise
    inv = inventory_yaml(cfg, state)
    with open(cfg.inventory_file, 'w') as fh:
        fh.write(inv)
    if args.write_inventory:
        with open(args.write_inventory, 'w') as fh:
            fh.write(inv)
    elapsed = time.time() - t0
    state['ready_seconds'] = round(elapsed, 2)
    save_state(cfg, state)
    summary = {'machines': [{'name': m['name'], 'address': m['ip']} for m in machines], 'inventory': cfg.inventory_file,
               'image': image, 'image_built': built, 'image_seconds': round(t_img, 2),
               'up_seconds': round(elapsed, 2), 'ready_at': ready, 'key': cfg.key_file,
               'vars': deploy_vars(cfg, state)}
    if args.json:
        print(json.dumps(summary))
    else:
        for m in machines:
            print('%-6s %s  ready after %.1f s' % (m['name'], m['ip'], ready[m['name']]))
        print('inventory: %s  (up took %.1f s%s)' % (cfg.inventory_file, elapsed,
                                                  ', image built in %.0f s' % t_img if built else ''))
    return 0


def down(cfg, purge_cache=False):
    """Remove everything the test bed made; True when there was anything to remove."""
    state = load_state(cfg)
    found = bool(state) or bool(_mounts_below(cfg.state_dir)) or bool(_mirror_pids(cfg)) or \
        run(['ip', 'link', 'show', cfg.bridge], check=False).returncode == 0
    pids = set(_nspawn_pids(cfg)) | {m.get('pid') for m in (state or {}).get('machines', []) if m.get('pid')}
    for pid in _mirror_pids(cfg):
        os.kill(pid, signal.SIGTERM)
    pids = {p for p in pids if p and _alive(p)}
    for pid in pids:   # nspawn powers the machine off cleanly on SIGTERM
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.time() + 20
    while time.time() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    for pid in pids:
        if _alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    for pid in pids:  # reap our own children, if any
        try:
            os.waitpid(pid, os.WNOHANG)
        except OSError:
            pass
    _umount_below(cfg.state_dir)
    left = _mounts_below(cfg.state_dir)
    if left:
        raise TestbedError('could not unmount: %s' % ', '.join(left))
    shutil.rmtree(os.path.join(cfg.state_dir, 'machines'), ignore_errors=True)
    remove_cgroups(cfg)
    teardown_network(cfg, state)
    shutil.rmtree(os.path.join(cfg.state_dir, 'acme'), ignore_errors=True)
    shutil.rmtree(os.path.join(cfg.state_dir, 'store'), ignore_errors=True)
    for f in (cfg.state_file, cfg.inventory_file, os.path.join(cfg.state_dir, 'mirror.log')):
        if os.path.exists(f):
            os.unlink(f)
    if os.path.isdir(cfg.state_dir) and not os.listdir(cfg.state_dir):
        os.rmdir(cfg.state_dir)
    if purge_cache and os.path.isdir(cfg.cache_dir):
        _umount_below(cfg.cache_dir)
        shutil.rmtree(cfg.cache_dir)
        found = True
    return found or bool(pids)


def cmd_down(cfg, args):
    preflight(cfg)
    removed = down(cfg, purge_cache=args.purge_cache)
    print('testbed: %s (no machine, bridge, NAT rule or mount left)' % ('down' if removed else 'nothing to remove'))
    return 0


def cmd_status(cfg, args):
    state = load_state(cfg)
    if not state:
        print('testbed: no machines')
        return 0
    for m in state['machines']:
        print('%-6s %-15s %s' % (m['name'], m['ip'], 'running' if m.get('pid') and _alive(m['pid']) else 'stopped'))
    return 0


def _machine(cfg, name):
    state = load_state(cfg) or {}
    for m in state.get('machines', []):
        if m['name'] == name:
            return m
    raise TestbedError('no machine %r; running: %s' % (name, ', '.join(m['name'] for m in state.get('machines', [])) or 'none'))


def cmd_ssh(cfg, args):
    m = _machine(cfg, args.name)
    cmd = ssh_base(cfg, m['ip']) + list(args.command)
    if sys.stdin.isatty() and not args.command:
        cmd.insert(1, '-t')
    os.execvp('ssh', cmd)


def cmd_inventory(cfg, args):
    state = load_state(cfg)
    if not state:
        raise TestbedError('no machines; run: testbed.py up N')
    sys.stdout.write(inventory_yaml(cfg, state))
    return 0


def parser():
    p = argparse.ArgumentParser(prog='testbed', description=__doc__.split('\n')[0])
    p.add_argument('--state-dir', dest='state_dir', help='running machines (default %(default)s)',
                   default=DEFAULTS['state_dir'])
    p.add_argument('--cache-dir', dest='cache_dir', help='cached roots (default %(default)s)', default=DEFAULTS['cache_dir'])
    p.add_argument('--bridge', help='bridge name (default %(default)s)', default=DEFAULTS['bridge'])
    p.add_argument('--subnet', help='the private subnet for the machines (default %(default)s)', default=DEFAULTS['subnet'])
    p.add_argument('--mirror', help='Debian mirror (default %(default)s)', default=DEFAULTS['mirror'])
    p.add_argument('--prefix', help='machine name prefix (default %(default)s)', default=DEFAULTS['prefix'])
    sub = p.add_subparsers(dest='cmd', required=True)
    up = sub.add_parser('up', help='boot N machines')
    up.add_argument('count', type=int)
    up.add_argument('--release', choices=sorted(RELEASES), default='bookworm')
    up.add_argument('--timeout', type=int, default=120, help='seconds to wait for the machines')
    up.add_argument('--write-inventory', metavar='PATH', help='also write the inventory here')
    up.add_argument('--json', action='store_true', help='print a JSON summary')
    up.add_argument('--mirror-dir', help='serve this CPython mirror (testbed/cpython_mirror.py) to the machines')
    up.add_argument('--mirror-port', type=int, default=8181)
    up.add_argument('--pyenv-root', help="ship this pyenv checkout to the machines (as pyenv_archive_src)")
    up.add_argument('--acme', action='store_true',
                    help="run an ACME server (Debian's pebble) for the machines, which trust it")
    up.add_argument('--store', action='store_true',
                    help='run an artifact store at a URL (a WebDAV server, wsgidav) for the machines, with basic auth')
    up.add_argument('--keep-on-failure', action='store_true', help='leave a failed boot up for inspection')
    up.set_defaults(func=cmd_up)
    dn = sub.add_parser('down', help='remove everything')
    dn.add_argument('--purge-cache', action='store_true', help='also delete the cached roots')
    dn.set_defaults(func=cmd_down)
    st = sub.add_parser('status', help='list the machines')
    st.set_defaults(func=cmd_status)
    sh = sub.add_parser('ssh', help='ssh to a machine')
    sh.add_argument('name')
    sh.add_argument('command', nargs=argparse.REMAINDER)
    sh.set_defaults(func=cmd_ssh)
    inv = sub.add_parser('inventory', help='print the inventory')
    inv.set_defaults(func=cmd_inventory)
    img = sub.add_parser('image', help='build or reuse the cached root')
    img.add_argument('--release', choices=sorted(RELEASES), default='bookworm')
    img.set_defaults(func=cmd_image)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    cfg = Config(args)
    try:
        return args.func(cfg, args)
    except TestbedError as exc:
        print('testbed: error: %s' % exc, file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
