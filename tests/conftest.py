"""Shared pytest helpers: load pyfleet's rules by path and build fixture apps."""
import importlib.util
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOGUE = os.path.join(ROOT, 'roles', 'app_plan', 'files', 'python-versions.yml')


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
def catalogue(rules):
    return rules.load_catalogue(CATALOGUE)


def write_tree(base, files):
    """files: {relative path: str | bytes}; a path ending in '/' makes a directory."""
    for rel, content in files.items():
        path = os.path.join(str(base), rel)
        if rel.endswith('/'):
            os.makedirs(path, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = 'wb' if isinstance(content, bytes) else 'w'
        with open(path, mode) as fh:
            fh.write(content)
    return str(base)


@pytest.fixture
def make_plan(tmp_path, rules, catalogue):
    """make_plan({files}, **build_plan kwargs) -> plan built from a fresh fixture app."""
    def _make(files, **kw):
        kw.setdefault('today', '2026-11-22')
        app = write_tree(tmp_path / 'app', files)
        return rules.build_plan(app, catalogue, **kw)
    return _make


def codes(plan, severity=None):
    items = plan['errors'] + plan['warnings'] + plan['notes']
    return sorted(d['code'] for d in items if severity is None or d['severity'] == severity)


def finding(plan, code):
    for d in plan['errors'] + plan['warnings'] + plan['notes']:
        if d['code'] == code:
            return d
    raise AssertionError('no %s in %s' % (code, codes(plan)))
