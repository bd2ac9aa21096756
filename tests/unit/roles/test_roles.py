"""The roles' contracts: defaults and argument_specs in step, no role reading another's variables, handlers that
only act, booleans read with | bool, and app_env's refusals."""
import glob
import os
import re

import pytest
import yaml

from ansible_run import run
from helpers import ROOT

ROLES = sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
               for p in glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml')))
# What a role's defaults may name besides its own variables: Ansible's and Jinja's own.
BUILTINS = {'range', 'lookup', 'query', 'role_path', 'ansible_facts', 'omit', 'true', 'false', 'none', 'not', 'and',
            'or', 'if', 'else', 'in', 'is', 'default', 'playbook_dir', 'inventory_hostname'}


def load(role, *parts):
    path = os.path.join(ROOT, 'roles', role, *parts)
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        return yaml.safe_load(fh)


def test_every_role_has_argument_specs_and_defaults():
    assert set(ROLES) == {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, 'roles', '*'))}
    assert set(ROLES) >= {'app_plan', 'pyenv', 'app_account', 'app_env', 'app_release', 'app_venv', 'app_build',
                          'app_service', 'nginx_site', 'app_switch'}


@pytest.mark.parametrize('role', ROLES)
def test_defaults_and_argument_specs_are_in_step(role):
    defaults = load(role, 'defaults', 'main.yml') or {}
    options = load(role, 'meta', 'argument_specs.yml')['argument_specs']['main']['options']
    undeclared = sorted(set(defaults) - set(options))
    assert not undeclared, '%s: defaults not in argument_specs: %s' % (role, undeclared)
    for name, spec in options.items():
        if name in defaults:
            assert not spec.get('required'), '%s: %s is required but has a default' % (role, name)
            literal = not (isinstance(defaults[name], str) and '{{' in defaults[name])
            if 'default' in spec and literal:
                assert spec['default'] == defaults[name], '%s: %s defaults differ' % (role, name)
        else:
            assert spec.get('required') or 'default' in spec or spec.get('type') in ('dict', 'list', 'raw') \
                or name.endswith(('_web', '_django')), '%s: %s has no default and is not required' % (role, name)


@pytest.mark.parametrize('role', ROLES)
def test_no_role_default_reads_another_roles_variables(role):
    """deploy.yml hands each role its slice; a role's defaults name only the role's own variables."""
    defaults = load(role, 'defaults', 'main.yml') or {}
    text = yaml.safe_dump(defaults)
    names = set()
    for expr in re.findall(r'\{\{(.*?)\}\}', text, re.S):
        expr = re.sub(r"'[^']*'|\"[^\"]*\"", '', expr)          # strings
        expr = re.sub(r'\|\s*[\w.]+', '', expr)                  # filters
        expr = re.sub(r'\.\w+', '', expr)                        # attributes
        names |= set(re.findall(r'\b[a-zA-Z_]\w*\b', expr))
    foreign = sorted(n for n in names if not n.startswith(role + '_') and n not in BUILTINS)
    assert not foreign, '%s: defaults read %s' % (role, foreign)


@pytest.mark.parametrize('role', ROLES)
def test_handlers_act_and_set_no_facts(role):
    handlers = load(role, 'handlers', 'main.yml') or []
    setting = [h['name'] for h in handlers if 'ansible.builtin.set_fact' in h or 'set_fact' in h]
    assert not setting, '%s: handlers that set facts: %s' % (role, setting)


@pytest.mark.parametrize('role', ROLES)
def test_main_is_a_short_dispatcher(role):
    with open(os.path.join(ROOT, 'roles', role, 'tasks', 'main.yml')) as fh:
        tasks = yaml.safe_load(fh)
    assert len(tasks) <= 7, '%s: tasks/main.yml has %d tasks; cut the jobs into task files' % (role, len(tasks))


def _tasks(tasks):
    for task in tasks or []:
        yield task
        for key in ('block', 'rescue', 'always'):
            yield from _tasks(task.get(key))


@pytest.mark.parametrize('role', ROLES)
def test_the_role_sets_only_its_own_facts(role):
    for path in glob.glob(os.path.join(ROOT, 'roles', role, '*', '*.yml')):
        if os.path.basename(os.path.dirname(path)) not in ('tasks', 'handlers'):
            continue
        with open(path) as fh:
            for task in _tasks(yaml.safe_load(fh)):
                for name in (task.get('ansible.builtin.set_fact') or {}):
                    assert name.startswith(role + '_'), '%s sets %s' % (os.path.relpath(path, ROOT), name)


def test_every_boolean_variable_is_read_through_the_bool_filter():
    """`-e name=false` arrives as the string "false", which Jinja counts as true: every read of a role's
    boolean variable goes through `| bool` (argument_specs validate, they do not convert)."""
    bare = []
    for role in ROLES:
        role_dir = os.path.join(ROOT, 'roles', role)
        options = load(role, 'meta', 'argument_specs.yml')['argument_specs']['main']['options']
        names = [k for k, v in options.items() if v.get('type') == 'bool']
        for path in glob.glob(os.path.join(role_dir, '**', '*'), recursive=True):
            # files/ are copied as they are, never read by Jinja
            if not os.path.isfile(path) or os.sep + 'meta' + os.sep in path or path.endswith('defaults/main.yml') \
                    or os.sep + 'files' + os.sep in path:
                continue
            with open(path) as fh:
                for number, line in enumerate(fh, 1):
                    if line.strip().startswith('#'):
                        continue
                    for name in names:
                        for m in re.finditer(r'\b%s\b(\s*\|\s*bool\b)?' % re.escape(name), line):
                            if not m.group(1):
                                bare.append('%s:%d: %s' % (os.path.relpath(path, ROOT), number, line.strip()))
    assert not bare, 'read without | bool:\n' + '\n'.join(bare)


def test_app_env_refuses_bad_names_multiline_values_and_port():
    res = run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', '--check', 'tests/playbooks/env_refused.yml'])
    out = res.stdout + res.stderr
    assert res.returncode != 0
    for part in ('the names bad-name must match', 'the values of MULTI must be one line',
                 'PORT is set by pyfleet for each web instance', 'pyfleet_web_port',
                 'the values of HOSTS, NESTED, NOTHING are not a string, number or boolean',
                 'PATH, LD_PRELOAD, PYFLEET_APP is set by pyfleet or systemd for every process',
                 'use a name of your own'):
        assert part in ' '.join(out.split()), out[-3000:]
    assert 'GOOD' not in out and 'one\\ntwo' not in out and 'pyfleet-nested-secret' not in out
