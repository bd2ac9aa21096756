"""The built collection, installed away from the checkout, deploys an app by FQCN: pyfleet.deploy.deploy."""
import json
import re
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.request

import pytest

from bed import ROOT, run_testbed

BIN = os.path.dirname(sys.executable)
MIRROR = os.environ.get('PYFLEET_CPYTHON_MIRROR', '/var/cache/pyfleet/cpython-mirror')


def ansible(cmd, cwd, env, timeout=900):
    return subprocess.run([os.path.join(BIN, cmd[0])] + cmd[1:], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """The collection as ansible-galaxy builds it from the checkout, and installed from that file."""
    work = tmp_path_factory.mktemp('collection')
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get('PATH', ''), ANSIBLE_NOCOLOR='1')
    env.pop('ANSIBLE_CONFIG', None)
    env.pop('ANSIBLE_COLLECTIONS_PATH', None)
    res = ansible(['ansible-galaxy', 'collection', 'build', ROOT, '--output-path', str(work)], str(work), env)
    assert res.returncode == 0, res.stdout + res.stderr
    archive = work / 'pyfleet-deploy-1.1.0.tar.gz'
    res = ansible(['ansible-galaxy', 'collection', 'install', '--force', str(archive), '-p', str(work / 'collections')],
                  str(work), env)
    assert res.returncode == 0, res.stdout + res.stderr
    return work, archive, env


def test_the_built_collection_holds_the_product_and_not_the_workshop(built):
    dummy, archive, dummy_env = built
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    for part in ('MANIFEST.json', 'playbooks/deploy.yml', 'playbooks/vars/inputs.yml',
                 'roles/app_switch/tasks/main.yml', 'plugins/module_utils/contract.py', 'plugins/action/app_plan.py',
                 'roles/app_plan/files/python-versions.yml', 'meta/runtime.yml', 'README.md'):
        assert part in names, part
    for prefix in ('tests/', 'testbed/', 'molecule/', 'bench/', '.collections', '.venv', '.cache', 'examples/'):
        assert not [n for n in names if n.startswith(prefix)], prefix


def test_ansible_doc_finds_the_installed_modules(built):
    work, dummy, env = built
    env = dict(env, ANSIBLE_COLLECTIONS_PATH=str(work / 'collections'))
    res = ansible(['ansible-doc', 'pyfleet.deploy.app_plan'], str(work), env)
    assert res.returncode == 0 and 'Reads an app source directory' in res.stdout, res.stderr


def test_the_installed_collection_deploys_by_fqcn(built):
    """Away from the checkout (no ansible.cfg, no .collections link): the FQCN playbook, a real machine, nginx."""
    work, dummy, env = built
    env = dict(env, ANSIBLE_COLLECTIONS_PATH=str(work / 'collections'), ANSIBLE_HOST_KEY_CHECKING='false',
               ANSIBLE_PIPELINING='true')
    pyenv_root = subprocess.run(['pyenv', 'root'], capture_output=True, text=True).stdout.strip()
    run_testbed('down', check=False, timeout=300)
    summary = json.loads(run_testbed('up', '1', '--json', '--mirror-dir', MIRROR, '--pyenv-root', pyenv_root,
                                     timeout=900).stdout.strip().splitlines()[-1])
    try:
        host = summary['machines'][0]['address']
        app = os.path.join(ROOT, 'examples', 'flask')
        res = ansible(['ansible-playbook', 'pyfleet.deploy.deploy', '-i', summary['inventory'],
                       '-e', 'pyfleet_src=%s' % app, '-e', 'pyfleet_release_cache=%s' % (work / 'releases')],
                      str(work), env, timeout=1800)
        assert res.returncode == 0, (res.stdout + res.stderr)[-6000:]
        body = ''
        for dummy_try in range(20):
            try:
                with urllib.request.urlopen('http://%s/' % host, timeout=5) as resp:
                    body = resp.read().decode()
                break
            except OSError:
                time.sleep(1)
        assert 'Hello from pyfleet: Flask on CPython 3.11.2' in body, body
        again = ansible(['ansible-playbook', 'pyfleet.deploy.deploy', '-i', summary['inventory'],
                         '-e', 'pyfleet_src=%s' % app, '-e', 'pyfleet_release_cache=%s' % (work / 'releases')],
                        str(work), env, timeout=900)
        # (the app host's recap line; the run's summary adds one for localhost)
        unchanged = re.compile(r'^%s\s*:\s*ok=\d+\s+changed=0\s' % re.escape(summary['machines'][0]['name']), re.M)
        assert again.returncode == 0 and unchanged.search(again.stdout), again.stdout[-3000:]
        # mitogen, an opt-in (pyfleet never needs it): with its mitogen_linear strategy a rerun changes nothing, and
        # a code change deploys (blue/green, the health gate) and serves
        import ansible_mitogen
        fast = dict(env, ANSIBLE_STRATEGY='mitogen_linear',
                    ANSIBLE_STRATEGY_PLUGINS=os.path.join(os.path.dirname(ansible_mitogen.__file__), 'plugins', 'strategy'))
        # (the full path: the fast path would not reach a module beyond its one look)
        res = ansible(['ansible-playbook', 'pyfleet.deploy.deploy', '-i', summary['inventory'],
                       '-e', 'pyfleet_src=%s' % app, '-e', 'pyfleet_release_cache=%s' % (work / 'releases'),
                       '-e', 'pyfleet_fast_path=false'], str(work), fast, timeout=900)
        assert res.returncode == 0 and unchanged.search(res.stdout), (res.stdout + res.stderr)[-3000:]
        assert 'pyfleet: deploying (pyfleet_fast_path is off).' in res.stdout
        changed = work / 'flask'
        shutil.copytree(app, str(changed), ignore=shutil.ignore_patterns('.venv', '__pycache__'))
        wsgi = changed / 'wsgi.py'
        wsgi.write_text(wsgi.read_text().replace('Hello from pyfleet', 'Hello again from pyfleet'))
        res = ansible(['ansible-playbook', 'pyfleet.deploy.deploy', '-i', summary['inventory'],
                       '-e', 'pyfleet_src=%s' % changed, '-e', 'pyfleet_name=flask',
                       '-e', 'pyfleet_release_cache=%s' % (work / 'releases')], str(work), fast, timeout=900)
        assert res.returncode == 0, (res.stdout + res.stderr)[-6000:]
        with urllib.request.urlopen('http://%s/' % host, timeout=10) as resp:
            assert 'Hello again from pyfleet' in resp.read().decode()
        # as AWX runs it: ansible-runner with a private data dir, back to the first release; the run's report is
        # in the job's artifacts (the stats event's artifact_data), as data
        import ansible_runner
        data_dir = work / 'runner'
        (data_dir / 'env').mkdir(parents=True)
        (data_dir / 'env' / 'envvars').write_text(json.dumps(dict(
            ANSIBLE_COLLECTIONS_PATH=str(work / 'collections'), ANSIBLE_HOST_KEY_CHECKING='false',
            ANSIBLE_PIPELINING='true', PATH=env['PATH'])))
        job = ansible_runner.run(private_data_dir=str(data_dir), playbook='pyfleet.deploy.deploy',
                                 inventory=summary['inventory'], ident='back', quiet=True,
                                 extravars={'pyfleet_src': app, 'pyfleet_release_cache': str(work / 'releases')})
        stdout = (data_dir / 'artifacts' / 'back' / 'stdout').read_text()
        assert job.rc == 0 and job.status == 'successful', stdout[-3000:]
        stats = []
        for path in (data_dir / 'artifacts' / 'back' / 'job_events').iterdir():
            event = json.loads(path.read_text())
            if event.get('event') == 'playbook_on_stats':
                stats.append(event['event_data'])
        report = stats[0]['artifact_data']['pyfleet']
        name = summary['machines'][0]['name']
        mine = report['hosts'][name]
        assert report['app'] == 'flask' and mine['serves'] == report['release'], report
        assert mine['outcome'] == 'deployed' and mine['path'] == 'full' and mine['switched'], report
        assert mine['python'] == {'version': '3.11.2', 'how': 'already there'}, report
        assert mine['virtualenv']['how'] == 'reused' and mine['seconds']['host'] > 0, report
        assert mine['batch'] == [name], report   # one host: one batch
        assert 'was deployed with' in mine['why'], report
        with urllib.request.urlopen('http://%s/' % host, timeout=10) as resp:
            assert 'Hello from pyfleet: Flask' in resp.read().decode()
    finally:
        run_testbed('down', check=False, timeout=300)
