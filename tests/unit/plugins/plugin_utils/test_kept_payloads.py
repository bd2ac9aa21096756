"""A module's AnsiballZ payload is kept from run to run, and used only while every file it holds is unchanged
(plugin_utils/kept_payloads.py)."""
import base64
import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import types
import zipfile

import pytest

from ansible_collections.pyfleet.deploy.plugins.plugin_utils import kept_payloads as kp

from helpers import ROOT

FQN = 'ansible_collections.pyfleet.deploy.plugins.modules.app_cutover'
NAME = FQN + '-ZIP_DEFLATED-none'


@pytest.mark.parametrize('name, fqn', [
    ('pyfleet.deploy.app_cutover', FQN),
    ('community.general.ini_file', 'ansible_collections.community.general.plugins.modules.ini_file'),
    ('ansible.legacy.async_status', ''),        # ansible-core's own: built as always
    ('ansible.builtin.ping', ''),
    ('app_cutover', ''),
])
def test_a_collection_modules_payload_is_named_as_ansible_core_names_it(name, fqn):
    assert kp.module_fqn(name) == fqn


@pytest.fixture
def bed(tmp_path):
    """A run's cache holding a payload made of two files, and the map of its members to those files."""
    files = {'ansible_collections/pyfleet/deploy/plugins/modules/app_cutover.py': tmp_path / 'src' / 'app_cutover.py',
             'ansible_collections/pyfleet/deploy/plugins/module_utils/cutover.py': tmp_path / 'src' / 'cutover.py'}
    for path in files.values():
        path.parent.mkdir(exist_ok=True)
        path.write_text('# %s\n' % path.name)
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))     # made before the payload
    data = io.BytesIO()
    with zipfile.ZipFile(data, 'w') as zf:
        for member in list(files) + ['ansible_collections/__init__.py']:
            zf.writestr(member, '')
    run = tmp_path / 'run'
    run.mkdir()
    (run / NAME).write_bytes(pickle.dumps(types.SimpleNamespace(zip_data=base64.b64encode(data.getvalue()))))
    (run / (NAME + '.lock')).write_text('')
    where = lambda member: str(files[member]) if member in files else None  # noqa: E731
    return types.SimpleNamespace(run=run, kept=tmp_path / 'kept', files=files, where=where, tmp=tmp_path)


def test_a_payload_kept_in_one_run_is_put_in_the_next_runs_cache(bed):
    assert kp.keep(FQN, str(bed.run), str(bed.kept), bed.where) == [NAME]
    held = json.loads((bed.kept / (NAME + kp.MANIFEST)).read_text())
    assert sorted(held) == sorted(list(bed.files) + ['ansible_collections/__init__.py'])
    assert held['ansible_collections/__init__.py'] == [None, None]
    assert kp.keep(FQN, str(bed.run), str(bed.kept), bed.where) == []       # kept already, as it is
    later = bed.tmp / 'later'
    assert kp.seed(FQN, str(later), str(bed.kept), bed.where) == [NAME]
    assert (later / NAME).read_bytes() == (bed.run / NAME).read_bytes()
    assert kp.seed(FQN, str(later), str(bed.kept), bed.where) == []         # there already: left as it is
    assert kp.seed('ansible_collections.pyfleet.deploy.plugins.modules.app', str(bed.tmp / 'other'),
                   str(bed.kept), bed.where) == []                              # a name that only starts alike


@pytest.mark.parametrize('change', ['edited', 'gone', 'elsewhere', 'a package made up is now a file'])
def test_a_kept_payload_whose_files_changed_is_not_used(bed, change):
    kp.keep(FQN, str(bed.run), str(bed.kept), bed.where)
    where = bed.where
    source = bed.files['ansible_collections/pyfleet/deploy/plugins/module_utils/cutover.py']
    if change == 'edited':
        source.write_text('# cutover, edited\n')
    elif change == 'gone':
        source.unlink()
    elif change == 'elsewhere':     # another checkout: the same names, other files
        other = bed.tmp / 'other-checkout'
        other.mkdir()
        for member, path in bed.files.items():
            (other / path.name).write_text(path.read_text())
            os.utime(other / path.name, ns=(1_000_000_000, 1_000_000_000))
        where = lambda member: str(other / bed.files[member].name) if member in bed.files else None  # noqa: E731
    else:
        (bed.tmp / 'init.py').write_text('')
        where = lambda member: str(bed.tmp / 'init.py') if member == 'ansible_collections/__init__.py' \
            else bed.where(member)  # noqa: E731
    assert kp.seed(FQN, str(bed.tmp / 'later'), str(bed.kept), where) == []
    assert not (bed.tmp / 'later' / NAME).exists()


def test_a_payload_whose_files_changed_after_the_run_built_it_is_not_kept(bed):
    source = bed.files['ansible_collections/pyfleet/deploy/plugins/module_utils/cutover.py']
    source.write_text('# edited while the run ran\n')     # newer than the payload
    assert kp.keep(FQN, str(bed.run), str(bed.kept), bed.where) == []
    assert not (bed.kept / NAME).exists()


def test_a_cache_that_cannot_be_read_or_written_is_left_aside(bed):
    (bed.run / NAME).write_bytes(b'not a pickle')
    assert kp.keep(FQN, str(bed.run), str(bed.kept), bed.where) == []
    assert kp.seed(FQN, str(bed.tmp / 'later'), str(bed.tmp / 'nowhere'), bed.where) == []
    bed.kept.mkdir()
    (bed.kept / NAME).write_bytes(b'x')
    (bed.kept / (NAME + kp.MANIFEST)).write_text('not json')
    assert kp.seed(FQN, str(bed.tmp / 'later'), str(bed.kept), bed.where) == []


def test_each_ansible_core_python_and_checkout_keeps_its_own(tmp_path):
    here = kp.kept_dir(str(tmp_path), '/src/a/pyfleet/deploy')
    assert os.path.dirname(os.path.dirname(here)) == str(tmp_path)
    assert here == kp.kept_dir(str(tmp_path), '/src/a/pyfleet/deploy')
    assert here != kp.kept_dir(str(tmp_path), '/src/b/pyfleet/deploy')


def test_ansible_cores_own_payload_is_kept_and_put_back_as_ansible_core_reads_it(tmp_path):
    """The real thing: ansible-core builds pyfleet.deploy.app_cutover's payload in a run's cache; it is kept with
    the controller file of each member, put in another run's cache, and ansible-core loads it there."""
    script = textwrap.dedent('''
        import json, os, sys
        from ansible import constants as C
        from ansible.executor import module_common
        from ansible.parsing.dataloader import DataLoader
        from ansible.plugins.loader import init_plugin_loader, module_loader
        from ansible.template import Templar
        init_plugin_loader([sys.argv[1]])
        from ansible_collections.pyfleet.deploy.plugins.plugin_utils import kept_payloads as kp
        module_common.modify_module(module_name='pyfleet.deploy.app_cutover',
                                    module_path=module_loader.find_plugin('pyfleet.deploy.app_cutover'),
                                    module_args={}, templar=Templar(loader=DataLoader()),
                                    task_vars={'ansible_python_interpreter': '/usr/bin/python3'})
        fqn = kp.module_fqn('pyfleet.deploy.app_cutover')
        kept = kp.keep(fqn, kept=sys.argv[2])
        name = kept[0]
        held = json.load(open(os.path.join(sys.argv[2], name + kp.MANIFEST)))
        later = os.path.join(sys.argv[2], 'later')
        seeded = kp.seed(fqn, run=later, kept=sys.argv[2])
        loaded = module_common._CachedModule.load(os.path.join(later, name))
        print(json.dumps(dict(kept=kept, seeded=seeded, held=held, loaded=len(loaded.zip_data))))
    ''')
    out = subprocess.run([sys.executable, '-c', script, os.path.join(ROOT, '.collections'), str(tmp_path)],
                         capture_output=True, text=True, env=dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp')))
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res['kept'] == res['seeded'] == ['%s-ZIP_STORED-none' % FQN]
    held = res['held']
    module = held['ansible_collections/pyfleet/deploy/plugins/modules/app_cutover.py'][0]
    assert os.path.samefile(module, os.path.join(ROOT, 'plugins', 'modules', 'app_cutover.py'))
    assert os.path.samefile(held['ansible_collections/pyfleet/deploy/plugins/module_utils/cutover.py'][0],
                            os.path.join(ROOT, 'plugins', 'module_utils', 'cutover.py'))
    assert any(member.startswith('ansible/module_utils/') and path and os.path.isfile(path)
               for member, (path, _) in held.items())
    assert all(st is not None for path, st in held.values() if path and os.path.exists(path))
    assert res['loaded'] > 0
