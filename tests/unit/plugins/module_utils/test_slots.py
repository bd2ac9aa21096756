"""Where blue/green stands on a host (module_utils/slots.py): the live instance, each link, which units run."""
import os
import subprocess

from ansible_collections.pyfleet.deploy.plugins.module_utils import slots
from ansible_run import run

UNITS = {'8000': 'pyfleet-shop-web@8000.service', '8001': 'pyfleet-shop-web@8001.service'}


def fake_systemctl(active):
    def _run(cmd, **kw):
        out = ''.join('Id=%s\nActiveState=%s\n\n' % (u, 'active' if u in active else 'inactive') for u in cmd[4:])
        return subprocess.CompletedProcess(cmd, 0, out, '')
    return _run


def test_the_live_instance_is_the_one_named_that_has_a_link(tmp_path):
    conf, slots_dir = tmp_path / 'shop.upstream.conf', tmp_path / 'slots'
    slots_dir.mkdir()
    conf.write_text('# serves: unix:/run/x.sock\n# live: 8001\nserver unix:/run/x.sock;\n')
    os.symlink('/srv/shop/releases/abc', str(slots_dir / '8001'))
    res = slots.read(str(conf), str(slots_dir), UNITS, run=fake_systemctl({'pyfleet-shop-web@8001.service'}))
    assert res['live'] == '8001' and res['runs'] == {'8001': '/srv/shop/releases/abc'}
    assert res['running'] == ['pyfleet-shop-web@8001.service']
    assert res['states']['pyfleet-shop-web@8000.service'] == 'inactive'
    assert res['upstream_text'] == conf.read_text()     # what a failed switch puts back


def test_nothing_is_live_before_a_release_passed_its_check(tmp_path):
    conf = tmp_path / 'shop.upstream.conf'
    conf.write_text('# serves: unix:/run/x.sock\nserver unix:/run/x.sock;\n')    # nginx_site's first file
    res = slots.read(str(conf), str(tmp_path / 'none'), UNITS, run=fake_systemctl(set()))
    assert res['live'] == '' and res['runs'] == {} and res['running'] == []
    # named, but its link is gone: not live
    conf.write_text('# live: 8000\n')
    assert slots.read(str(conf), str(tmp_path / 'none'), UNITS, run=fake_systemctl(set()))['live'] == ''
    assert slots.read(str(tmp_path / 'missing'), str(tmp_path), UNITS, run=fake_systemctl(set()))['named'] == ''


def test_real_systemctl_answers_for_units_it_does_not_know():
    states = slots.unit_states(['pyfleet-no-such-app-web@1.service'])
    assert set(states) == {'pyfleet-no-such-app-web@1.service'}


def test_the_module_is_documented():
    res = run(['ansible-doc', 'pyfleet.deploy.app_cutover'])
    assert res.returncode == 0 and 'blue/green' in res.stdout.lower()


def test_one_systemctl_call_answers_several_properties():
    def show(cmd, **kw):
        assert cmd[:3] == ['systemctl', 'show', '--property=Id,ActiveState,UnitFileState']
        return subprocess.CompletedProcess(cmd, 0, 'Id=a.service\nActiveState=active\nUnitFileState=enabled\n\n'
                                                   'Id=b.service\nActiveState=inactive\nUnitFileState=disabled\n', '')
    props = slots.unit_props(['a.service', 'b.service', 'c.service'], ('ActiveState', 'UnitFileState'), run=show)
    assert props == {'a.service': {'ActiveState': 'active', 'UnitFileState': 'enabled'},
                     'b.service': {'ActiveState': 'inactive', 'UnitFileState': 'disabled'},
                     'c.service': {'ActiveState': 'unknown', 'UnitFileState': ''}}
