"""A CPython is complete or absent (module_utils/interpreter.py): unpacked beside its place, marked last, and
done again when an earlier install was cut off."""
import json
import os
import subprocess
import tarfile

from ansible_collections.pyfleet.deploy.plugins.module_utils import interpreter

V = '3.11.2'


def artifact(tmp_path, files=('bin/python3', 'include/python3.11/Python.h', 'lib/python3.11/os.py')):
    src = tmp_path / 'build' / V
    for rel in files:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(rel)
    path = str(tmp_path / 'cpython.tar.gz')
    with tarfile.open(path, 'w:gz') as tar:
        tar.add(str(src), arcname=V)
    return path


def params(tmp_path, **kw):
    p = {k: v.get('default') for k, v in interpreter.ARGUMENT_SPEC.items()}
    p.update(root=str(tmp_path / 'pyenv'), version=V, lock=str(tmp_path / 'install.lock'))
    p.update(kw)
    return p


def test_an_unpack_is_marked_only_when_whole_and_a_second_does_nothing(tmp_path):
    p = params(tmp_path, method='unpack', artifact=artifact(tmp_path), sha256='abc')
    res = interpreter.run_task(p)
    prefix = tmp_path / 'pyenv' / 'versions' / V
    assert res['changed'] and res['mark'] == 'unpacked abc'
    assert (prefix / 'include/python3.11/Python.h').exists()
    assert sorted(os.listdir(str(tmp_path / 'pyenv' / 'versions'))) == [V]     # nothing left beside it
    again = interpreter.run_task(p)
    assert not again['changed']


def test_an_unpack_that_was_cut_off_is_done_again(tmp_path):
    # what a cut-off unpack left: bin/python3, but no include/ and no mark
    prefix = tmp_path / 'pyenv' / 'versions' / V
    (prefix / 'bin').mkdir(parents=True)
    (prefix / 'bin' / 'python3').write_text('half')
    stage = tmp_path / 'pyenv' / 'versions' / ('.pyfleet-unpack-' + V)
    stage.mkdir()
    (stage / 'junk').write_text('x')
    res = interpreter.run_task(params(tmp_path, method='unpack', artifact=artifact(tmp_path)))
    assert res['changed'] and (prefix / 'include/python3.11/Python.h').exists()
    assert (prefix / 'bin' / 'python3').read_text() == 'bin/python3'
    assert sorted(os.listdir(str(tmp_path / 'pyenv' / 'versions'))) == [V]


def test_a_broken_artifact_fails_and_leaves_nothing_marked(tmp_path):
    bad = tmp_path / 'bad.tar.gz'
    bad.write_bytes(b'not a tar')
    res = interpreter.run_task(params(tmp_path, method='unpack', artifact=str(bad)))
    assert res['failed'] and res['msg'].startswith('pyfleet: CPython 3.11.2 was not installed: tar could not unpack')
    assert interpreter.complete(interpreter.prefix(params(tmp_path))) is None
    empty = artifact(tmp_path, files=('README',))
    res = interpreter.run_task(params(tmp_path, method='unpack', artifact=empty))
    assert res['failed'] and 'holds no 3.11.2/bin/python3' in res['msg']


def test_a_compile_is_forced_over_a_cut_off_prefix_slimmed_and_marked(tmp_path):
    ran = []

    def run(argv, env=None):
        ran.append((argv, env['PYTHON_BUILD_MIRROR_URL']))
        prefix = tmp_path / 'pyenv' / 'versions' / V
        for rel in ('bin/python3', 'lib/python3.11/test/test_os.py', 'lib/python3.11/config-3.11/libpython3.11.a'):
            (prefix / rel).parent.mkdir(parents=True, exist_ok=True)
            (prefix / rel).write_text(rel)
        return subprocess.CompletedProcess(argv, 0, '', '')
    p = params(tmp_path, method='compile', environment={'PYTHON_BUILD_MIRROR_URL': 'http://mirror'})
    res = interpreter.run_task(p, run=run)
    prefix = tmp_path / 'pyenv' / 'versions' / V
    assert res['changed'] and res['mark'] == 'compiled'
    assert ran == [([str(tmp_path / 'pyenv' / 'bin' / 'pyenv'), 'install', '--force', V], 'http://mirror')]
    assert not (prefix / 'lib/python3.11/test').exists()
    assert not (prefix / 'lib/python3.11/config-3.11/libpython3.11.a').exists()
    assert not interpreter.run_task(p, run=run)['changed'] and len(ran) == 1


def test_who_says_what_holds_the_lock(tmp_path):
    import fcntl
    p = params(tmp_path, method='who')
    assert interpreter.run_task(p)['holder'] == {}
    fd = os.open(p['lock'], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    with open(p['lock'] + '.what', 'w') as fh:
        json.dump({'what': 'compiling CPython 3.11.2 for shop', 'pid': 42, 'since': 0}, fh)
    try:
        # flock is per open file: who opens the lock anew, and finds it held
        assert interpreter.who(p['lock']) == {'what': 'compiling CPython 3.11.2 for shop', 'pid': 42, 'since': 0}
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert interpreter.who(p['lock']) == {}
