"""pytest fixtures: pyfleet's rules imported by name (the collection, as Ansible imports them), and
fixture apps built per test."""
import os
import sys

import pytest

from helpers import CATALOGUE, INSTALLABLE, ROOT, write_tree

# The repository is the collection pyfleet.deploy; .collections/ansible_collections/pyfleet/deploy
# links back to it, as ansible.cfg's collections_path does for Ansible.
sys.path.insert(0, os.path.join(ROOT, '.collections'))
os.environ.setdefault('ANSIBLE_COLLECTIONS_PATH', os.path.join(ROOT, '.collections'))

from ansible_collections.pyfleet.deploy.plugins.module_utils import lockfiles as _lockfiles  # noqa: E402
from ansible_collections.pyfleet.deploy.plugins.module_utils import plan as _plan  # noqa: E402


@pytest.fixture(scope='session')
def rules():
    return _plan


@pytest.fixture(scope='session')
def lockfiles():
    return _lockfiles


@pytest.fixture(scope='session')
def catalogue(rules):
    return rules.load_catalogue(CATALOGUE)


@pytest.fixture
def make_plan(tmp_path, rules, catalogue):
    """make_plan({files}, **build_plan kwargs) -> plan built from a fresh fixture app."""
    def _make(files, **kw):
        kw.setdefault('today', '2026-11-22')
        kw.setdefault('available', INSTALLABLE)
        app = write_tree(tmp_path / 'app', files)
        return rules.build_plan(app, catalogue, **kw)
    return _make
