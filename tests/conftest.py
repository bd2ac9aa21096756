"""pytest fixtures: pyfleet's rules loaded by path, fixture apps built per test."""
import importlib.util
import os
import sys

import pytest

from helpers import CATALOGUE, ROOT, write_tree


def _load(name, rel):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, rel))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope='session')
def rules():
    return _load('pyfleet_plan', 'plugins/module_utils/pyfleet_plan.py')


@pytest.fixture(scope='session')
def lockfiles():
    return _load('pyfleet_lockfiles', 'plugins/module_utils/pyfleet_lockfiles.py')


@pytest.fixture(scope='session')
def catalogue(rules):
    return rules.load_catalogue(CATALOGUE)


@pytest.fixture
def make_plan(tmp_path, rules, catalogue):
    """make_plan({files}, **build_plan kwargs) -> plan built from a fresh fixture app."""
    def _make(files, **kw):
        kw.setdefault('today', '2026-11-22')
        app = write_tree(tmp_path / 'app', files)
        return rules.build_plan(app, catalogue, **kw)
    return _make
