"""Every plugin's documentation parses as ansible-doc reads it, and documents each of its options."""
import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT

KINDS = {'module': 'plugins/modules', 'filter': 'plugins/filter', 'lookup': 'plugins/lookup'}


def names(kind):
    folder = os.path.join(ROOT, KINDS[kind])
    found = set()
    for f in os.listdir(folder):
        base, ext = os.path.splitext(f)
        if (kind == 'filter' and ext == '.yml') or (kind != 'filter' and ext == '.py' and base != '__init__'):
            found.add('pyfleet.deploy.' + base)
    return sorted(found)


@pytest.mark.parametrize('kind', sorted(KINDS))
def test_every_plugin_has_documentation_ansible_doc_reads(kind):
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), NO_COLOR='1')
    res = subprocess.run([os.path.join(bin_dir, 'ansible-doc'), '--json', '-t', kind] + names(kind),
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and 'ERROR' not in res.stderr, res.stderr[-3000:]
    docs = json.loads(res.stdout)
    assert sorted(docs) == names(kind)
    for name, doc in docs.items():
        assert doc['doc'].get('short_description'), name
        for option, spec in (doc['doc'].get('options') or {}).items():
            assert spec.get('description'), '%s: option %s has no description' % (name, option)
