"""deploy.yml refuses project inputs that cannot work before any host is touched: its plan play checks them on
the controller, and each refusal names the variable, what it holds and the fix, once. The inventory's hosts do
not exist (TEST-NET-1), so a check that let a bad input through would reach for them and fail otherwise."""
import json

import pytest

from ansible_run import run
from helpers import ROOT

APP = ROOT + '/examples/flask'


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / 'inventory.yml'
    path.write_text('all:\n  children:\n    web:\n      hosts:\n        web-1: {ansible_host: 192.0.2.1}\n'
                    '        web-2: {ansible_host: 192.0.2.2}\n')
    return str(path)


@pytest.mark.parametrize('extra, said', [
    ({'pyfleet_tls': 'yes'}, 'pyfleet_tls is "yes"; say "acme"'),
    ({'pyfleet_tls': 'acme'}, "pyfleet_tls: acme needs the site's DNS names, each pointing at the app host: "
                              'set nginx_site_server_names'),
    ({'pyfleet_tls': 'acme', 'nginx_site_server_names': ['localhost']}, 'it is ["localhost"]'),
    ({'pyfleet_jobs_host': 'web-9'}, 'pyfleet_jobs_host is web-9, which is not an app host of the inventory; '
                                     'name one of web-1, web-2.'),
    ({'pyfleet_artifacts_url': 'ftp://store.example.com/pyfleet/'}, 'pyfleet_artifacts_url is "ftp://store.example.com'
                                                                    '/pyfleet/" and pyfleet_artifacts_url_auth has []'),
    ({'pyfleet_batch': 'some'}, 'pyfleet_batch is \'some\': give the app hosts switched at a time as a number, a percentage'),
    ({'pyfleet_memory_max': 'lots'}, 'the app\'s limits are not systemd\'s (pyfleet_memory_max "lots"'),
    ({'pyfleet_artifacts_url': 'https://store.example.com/pyfleet/', 'pyfleet_artifacts_url_auth': {'password': 'sekrit-55'}},
     'pyfleet_artifacts_url_auth has ["password"]'),
    # every problem at once
    ({'pyfleet_tls': 'yes', 'pyfleet_jobs_host': 'web-9'}, 'say "acme" (a certificate from an ACME CA, renewed by itself), '
                                                           'or leave it unset. pyfleet_jobs_host is web-9'),
])
def test_an_input_that_cannot_work_is_refused_before_any_host(inventory, tmp_path, extra, said):
    extra_file = tmp_path / 'extra.json'
    extra_file.write_text(json.dumps(dict(extra, pyfleet_src=APP)))
    res = run(['ansible-playbook', '-i', inventory, '-e', '@%s' % extra_file, 'deploy.yml'],
              env={'ANSIBLE_CALLBACK_RESULT_FORMAT': 'json', 'ANSIBLE_CALLBACK_FORMAT_PRETTY': 'false'})
    out = res.stdout + res.stderr
    assert res.returncode == 2, out[-3000:]
    assert ' '.join(out.split()).count(said) >= 1, out[-3000:]
    assert 'UNREACHABLE' not in out and 'sekrit-55' not in out, out[-3000:]


def test_inputs_that_work_pass_the_check(inventory, tmp_path):
    """The same check lets good inputs through: the run goes on to the hosts (which do not exist)."""
    extra_file = tmp_path / 'extra.json'
    extra_file.write_text(json.dumps({'pyfleet_src': APP, 'pyfleet_artifacts_url': 'https://store.example.com/pyfleet/',
                                      'pyfleet_artifacts_url_auth': {'username': 'u', 'password': 'sekrit-77'},
                                      'pyfleet_tls': 'acme', 'nginx_site_server_names': ['shop.example.com', 'www.shop.example.com'],
                                      'pyfleet_jobs_host': 'web-2', 'pyfleet_memory_max': '768M'}))
    res = run(['ansible-playbook', '-i', inventory, '-e', '@%s' % extra_file, 'deploy.yml',
               '-e', 'ansible_ssh_common_args="-o ConnectTimeout=1"'])
    out = res.stdout + res.stderr
    assert 'Check the project inputs' in out and 'UNREACHABLE' in out, out[-3000:]
    assert 'pyfleet_artifacts_url is' not in out and 'pyfleet_tls' not in out and 'pyfleet_jobs_host' not in out
    assert 'sekrit-77' not in out
