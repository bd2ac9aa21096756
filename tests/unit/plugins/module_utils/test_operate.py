"""module_utils/operate.py: an app's journal and how it runs, read on the host (journalctl and systemctl faked)."""
import json
import os
import time

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import operate

UNITS = ['pyfleet-shop-ports.service', 'pyfleet-shop-web@8000.service', 'pyfleet-shop-web@8001.service',
         'pyfleet-shop-worker@1.service', 'pyfleet-shop.target']


class Host:
    """systemctl list-units and show, journalctl and openssl, answering from tables; it keeps what was run."""

    def __init__(self, units=UNITS, props=None, journal=(), journal_rc=0):
        self.units, self.props, self.journal, self.journal_rc = units, props or {}, journal, journal_rc
        self.ran = []

    def __call__(self, argv, **kw):
        self.ran.append(argv)
        out, rc, err = '', 0, ''
        if argv[:2] == ['systemctl', 'list-units']:
            out = ''.join('%s loaded active running x\n' % u for u in self.units)
        elif argv[:2] == ['systemctl', 'show']:
            for u in argv[argv.index('--') + 1:]:
                p = dict({'ActiveState': 'active', 'SubState': 'running', 'NRestarts': '0',
                          'MemoryCurrent': str(50 << 20), 'ActiveEnterTimestampMonotonic':
                          str(int((time.monotonic() - 7200) * 1e6))}, **self.props.get(u, {}))
                out += 'Id=%s\n' % u + ''.join('%s=%s\n' % kv for kv in p.items()) + '\n'
        elif argv[0] == 'journalctl':
            out, rc = ''.join(json.dumps(r) + '\n' for r in self.journal), self.journal_rc
            err = 'Failed to parse timestamp: yesterdayish' if rc else ''
        elif argv[0] == 'openssl':
            out = 'notAfter=Mar  3 12:00:00 2027 GMT\n'
        return type('Res', (), {'stdout': out, 'stderr': err, 'returncode': rc})()


def app(tmp_path, live=True):
    root = tmp_path / 'srv' / 'shop'
    for d in ('releases/r1', 'releases/r2', 'slots'):
        (root / d).mkdir(parents=True)
    if live:
        os.symlink(str(root / 'releases' / 'r2'), str(root / 'current'))
        os.symlink(str(root / 'releases' / 'r2'), str(root / 'slots' / '8001'))
    (tmp_path / 'etc' / 'other').mkdir(parents=True)
    (tmp_path / 'etc' / 'other' / 'env').write_text('A=1\n')
    upstream = tmp_path / 'upstream.conf'
    upstream.write_text('# live: 8001\n')
    return dict(name='shop', unit_prefix='pyfleet-shop', current=str(root / 'current'),
                config_root=str(tmp_path / 'etc'), host='web-1', releases=str(root / 'releases'),
                slots=str(root / 'slots'), upstream_conf=str(upstream), site_conf='', lines=100, since='',
                process='')


@pytest.mark.parametrize('unit,process', [
    ('pyfleet-shop-web@8001.service', 'web@8001'), ('pyfleet-shop.target', 'target'),
    ('pyfleet-shop-build.service', 'build'), ('pyfleet-shop-worker@2.service', 'worker@2'),
    ('pyfleet-shop-ports.service', 'ports'), ('nginx.service', 'nginx.service'),
    ('pyfleet-shop-cron_mail.service', 'cron_mail'), ('pyfleet-shop-cron_mail.timer', 'cron_mail.timer'),
])
def test_a_unit_is_named_by_its_process(unit, process):
    assert operate.process_of(unit, 'pyfleet-shop') == process


def test_a_journal_record_is_a_line_prefixed_by_host_and_process():
    e = operate.journal_entry({'_SYSTEMD_UNIT': 'pyfleet-shop-web@8001.service', 'MESSAGE': 'Booting worker\n',
                               '__REALTIME_TIMESTAMP': '1796212800000000', 'PRIORITY': '6'}, 'pyfleet-shop', 'web-1')
    assert e == dict(time='2026-12-02T12:00:00Z', host='web-1', process='web@8001', priority=6,
                     message='Booting worker', line='2026-12-02T12:00:00Z web-1 web@8001: Booting worker')
    # systemd's own word about a unit is the unit's; a message that is not UTF-8 comes as its bytes
    e = operate.journal_entry({'_SYSTEMD_UNIT': 'init.scope', 'UNIT': 'pyfleet-shop-worker@1.service',
                               'MESSAGE': [104, 105, 255]}, 'pyfleet-shop', 'web-1')
    assert e['process'] == 'worker@1' and e['message'] == 'hi\ufffd' and e['time'] == '-'


def test_logs_reads_the_apps_units_and_one_process(tmp_path):
    p = app(tmp_path)
    host = Host(journal=[{'_SYSTEMD_UNIT': 'pyfleet-shop-web@8001.service', 'MESSAGE': 'GET / 200',
                          '__REALTIME_TIMESTAMP': '1796212800000000'}])
    res = operate.logs(dict(p, lines=20, since='1 hour ago'), run=host)
    assert res['lines'] == ['2026-12-02T12:00:00Z web-1 web@8001: GET / 200'] and res['entries'][0]['process'] == 'web@8001'
    argv = host.ran[-1]
    assert argv[:4] == ['journalctl', '--no-pager', '--output=json', '--lines=20'] and '--since=1 hour ago' in argv
    assert argv[-4:] == ['--unit', 'pyfleet-shop.target', '--unit', 'pyfleet-shop-*']
    res = operate.logs(dict(p, process='worker'), run=host)
    assert host.ran[-1][-6:] == ['--unit', 'pyfleet-shop-worker.service', '--unit', 'pyfleet-shop-worker@*.service',
                                 '--unit', 'pyfleet-shop-worker-*.service']
    # build steps and one-off commands are transient units: asked for even when none runs now
    for process in ('build', 'run'):
        assert 'lines' in operate.logs(dict(p, process=process), run=host)
        assert host.ran[-1][-1] == 'pyfleet-shop-%s-*.service' % process


@pytest.mark.parametrize('change,msg', [
    ({'process': 'nginx'}, 'the app shop has no process nginx on web-1; its processes: build, ports, run, web, worker.'),
    ({'process': 'web; rm'}, "process='web; rm' is not a process name"),
    ({'lines': 0}, 'lines=0; give 1 or more.'),
    ({'since': 'yesterdayish'}, 'journalctl refused this: Failed to parse timestamp: yesterdayish.'),
])
def test_logs_refuses_what_cannot_be_read(tmp_path, change, msg):
    res = operate.logs(dict(app(tmp_path), **change), run=Host(journal_rc=1 if 'since' in change else 0))
    assert res['failed'] and msg in res['msg']


def test_an_app_the_host_does_not_have_is_named_with_the_apps_it_has(tmp_path):
    p = app(tmp_path, live=False)
    for call in (operate.logs, operate.status):
        res = call(p, run=Host(units=[]))
        assert res == {'failed': True, 'msg': 'pyfleet: no app named shop is deployed on web-1. The apps here: other; '
                                              'give one with -e app_name=NAME.'}


def test_status_says_the_live_release_the_live_instance_and_each_process(tmp_path, monkeypatch):
    # a host up for a day (the machine that runs the test may have booted a minute ago)
    monkeypatch.setattr(operate.time, 'monotonic', lambda: 86400.0)
    p = app(tmp_path)
    old = time.time() - 3 * 3600
    os.utime(p['current'], (old, old), follow_symlinks=False)
    site = tmp_path / 'site.conf'
    site.write_text('server {\n    listen 443 ssl;\n    ssl_certificate /etc/pyfleet/shop/tls.crt;\n}\n')
    host = Host(units=UNITS, props={'pyfleet-shop-web@8000.service': {'ActiveState': 'inactive', 'SubState': 'dead'},
                                    'pyfleet-shop-worker@1.service': {'NRestarts': '3'}})
    res = operate.status(dict(p, site_conf=str(site)), run=host)
    assert res['release'] == 'r2' and res['age'] == '3 h' and res['web'] == {'live_port': '8001', 'runs': {'8001': 'r2'}}
    assert res['certificate_expiry'] == 'Mar  3 12:00:00 2027 GMT'
    rows = {r['process']: r for r in res['units']}
    assert rows['web@8001']['active'] and rows['web@8001']['memory'] == '50.0 MiB' and rows['web@8001']['uptime'] == '2 h'
    assert not rows['web@8000']['active'] and rows['web@8000']['memory'] == '-' and rows['web@8000']['state'] == 'inactive (dead)'
    assert rows['worker@1']['restarts'] == 3
    assert res['lines'][0] == ('web-1: release r2 (live for 3 h), nginx sends requests to port 8001, certificate valid '
                               'until Mar  3 12:00:00 2027 GMT')
    assert len(res['lines']) == 1 + len(UNITS)


def test_status_says_when_each_scheduled_job_runs_next_and_last_ran(tmp_path):
    units = UNITS[:-1] + ['pyfleet-shop-cron_mail.service', 'pyfleet-shop-cron_mail.timer', 'pyfleet-shop.target']
    host = Host(units=units, props={
        'pyfleet-shop-cron_mail.service': {'ActiveState': 'inactive', 'SubState': 'dead'},
        'pyfleet-shop-cron_mail.timer': {'SubState': 'waiting', 'NextElapseUSecRealtime': 'Mon 2026-12-07 03:25:00 UTC',
                                         'LastTriggerUSec': 'Mon 2026-12-07 03:20:00 UTC'}})
    res = operate.status(app(tmp_path), run=host)
    rows = {r['process']: r for r in res['units']}
    assert rows['cron_mail.timer']['next_run'] == 'Mon 2026-12-07 03:25:00 UTC'
    assert rows['cron_mail.timer']['last_run'] == 'Mon 2026-12-07 03:20:00 UTC'
    assert rows['cron_mail']['state'] == 'inactive (dead)' and 'next_run' not in rows['cron_mail']
    assert '  cron_mail.timer active (waiting)   next run Mon 2026-12-07 03:25:00 UTC, last run Mon 2026-12-07 03:20:00 UTC' \
        in res['lines'], res['lines']
