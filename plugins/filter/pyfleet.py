# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pyfleet's filters. Each is documented for ansible-doc in a YAML file of its own name beside this one."""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.pyfleet.deploy.plugins.module_utils import appconfig, contract, gunicorn, platforms, rollout as _rollout
from ansible_collections.pyfleet.deploy.plugins.module_utils.python_version import python_minor as _python_minor


def python_minor(version):
    """'3.13.5' -> '3.13'."""
    try:
        return _python_minor(version)
    except ValueError as exc:
        raise AnsibleFilterError('pyfleet.deploy.python_minor: %s' % exc)


def app_layout(name, apps_root='/srv', config_root='/etc/pyfleet', src=''):
    """An app's host layout (the plan's layout) from its name, or its source directory's name."""
    name = name or contract.default_name(src)
    if not contract.NAME_RE.match(name or ''):
        raise AnsibleFilterError('pyfleet.deploy.app_layout: %r is not an app name; name the app with -e pyfleet_name=NAME'
                                 % (name,))
    return contract.layout(name, apps_root, config_root)


def plan_on_port(plan, port, gunicorn=None, jobs=True, scale=None):
    """The plan with its web instances on ``port`` and the next one (the pair a host gave the app) and as
    ``gunicorn``'s answer on the host settles them, without its scheduled jobs on a host that does not run them
    (``jobs`` false), and with the process counts scale.yml kept on the host (``scale``); the plan as it is for 0,
    no answer, jobs and no scale, or when it has no web process."""
    try:
        return contract.on_port(plan, int(port or 0), gunicorn or None, bool(jobs), scale or None)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('pyfleet.deploy.plan_on_port: %s' % exc)


def gunicorn_answer(stdout):
    """gunicorn's answer in the output of the build step that asks it (its last line that starts with
    "pyfleet-gunicorn: "), or {} when there is none."""
    return gunicorn.read(stdout) or {}


def vcap_services(services, database_url=''):
    """VCAP_SERVICES, as Cloud Foundry sets it: the operator's services (pyfleet_services) and the database
    (pyfleet_database_url) as the user-provided service "database"."""
    problems = platforms.check_services(services)
    if problems:
        raise AnsibleFilterError('pyfleet.deploy.vcap_services: %s.' % '; '.join(problems))
    return platforms.vcap_services(services or {}, database_url or '')


def vcap_application(name, server_names=(), memory_mb=0):
    """VCAP_APPLICATION, as Cloud Foundry sets it, for the app ``name``."""
    return platforms.vcap_application(name, server_names or (), int(memory_mb or 0) or None)


def env_text(text, what='pyfleet_env'):
    """An environment given as NAME=value lines (an AWX survey's text field), or a mapping as it is."""
    try:
        return contract.env_text(text, what)
    except ValueError as exc:
        raise AnsibleFilterError('pyfleet: %s' % exc)


def fingerprint(values):
    """The fingerprint of what a run asks a host for: ``values`` and this collection's own files."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return contract.fingerprint(values, root)


def run_line(spec, unit, venv, workdir='', writable=()):
    """The systemd-run command line that runs the app's code as its own processes run (contract.run_line)."""
    try:
        return contract.run_line(spec, unit, venv, workdir, list(writable or ()))
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError('pyfleet.deploy.run_line: the spec lacks %s' % exc)


def lb_server(name, hostvars, port=80):
    """The load balancer's entry for the inventory host ``name``: {name, address, port}, its address being its
    ansible_host (else its name) and its port nginx's on it."""
    try:
        host = hostvars[name]
    except KeyError:
        raise AnsibleFilterError('pyfleet.deploy.lb_server: %r is not a host of the inventory' % (name,))
    return {'name': name, 'address': str(host.get('ansible_host') or name), 'port': int(port or 80)}


def health_path(web, setting=''):
    """The app's health path: the setting, else the plan's web.health.path, else / (contract.health_path)."""
    return contract.health_path(web, setting or '')


def site_host(server_names):
    """The site's Host: the first server name that is not _, else localhost (contract.site_host)."""
    return contract.site_host(list(server_names or ()))


def slice_limits(limits):
    """The app's slice limits ({memory_max, cpu_quota, tasks_max}) as systemd takes them, with the memory limit in
    MiB or percent, and what systemd would not read (contract.slice_limits)."""
    limits = limits or {}
    return contract.slice_limits(limits.get('memory_max', ''), limits.get('cpu_quota', ''), limits.get('tasks_max', 1024))


def input_problems(inputs, batches, server_names=(), app_hosts=(), lb=False):
    """What the project inputs ask for that cannot work, each a sentence with its fix (contract.input_problems)."""
    return contract.input_problems(inputs or {}, batches, list(server_names or []), list(app_hosts or []), bool(lb))


def rollout(hosts, hostvars, max_fail_percentage=0, batches=None):
    """Where the rolling deploy over ``hosts`` stands, from each one's report and failure in ``hostvars``
    (module_utils/rollout.py), with ``said``: what the run says of it ('' when no host failed). ``batches``: the
    batches that started (None: the rollout's, as the plan cut them, ``pyfleet__batches``). A host the run's plan
    never saw (left out by ``--limit``: it has no ``pyfleet__reported`` at all) is not part of the rollout."""
    seen = {}
    for name in hosts:
        host = hostvars.get(name) or {}
        if 'pyfleet__reported' not in host:
            continue
        seen[name] = {'reported': host.get('pyfleet__reported') or None, 'failed': host.get('pyfleet__failed') or None}
        if batches is None:
            batches = host.get('pyfleet__batches')
    state = _rollout.rollout(seen, max_fail_percentage, batches)
    return dict(state, said=_rollout.said(state))


def batches(hosts, serial, strict=True):
    """``hosts`` cut into the rollout's batches as ``serial`` would cut a play's (module_utils/rollout.py). What
    ``serial`` cannot say fails, or with ``strict=False`` is the result: a string that says it, for a check to
    say once."""
    try:
        return _rollout.batches(hosts, serial)
    except ValueError as exc:
        if strict:
            raise AnsibleFilterError(str(exc))
        return str(exc)


def scale_units(units, unit_prefix, scale):
    """The app's units (a plan's, or a snapshot's) with each process of ``scale`` ({process: count}) run as that
    many instances, as the plan makes them for those counts (module_utils/contract.py)."""
    try:
        return contract.scaled(units, unit_prefix, scale or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('pyfleet.deploy.scale_units: %s' % exc)


def process_counts(units, unit_prefix):
    """How many instances of each process but web the app's units run ({process: count})."""
    try:
        return contract.counts(units, unit_prefix)
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError('pyfleet.deploy.process_counts: %s' % exc)


def kept_scale(kept):
    """The process counts scale.yml kept on the host ({process: count}), from config.json's text
    (module_utils/appconfig.py); {} for none."""
    try:
        return appconfig.load_text(kept or '')['scale']
    except ValueError as exc:
        raise AnsibleFilterError('pyfleet.deploy.kept_scale: %s' % exc)


def env_file(env, kept=None):
    """The environment file's lines for ``env`` ({name: value}), with the operator's changes ``kept`` (config.yml's,
    from config.json: {set, unset}) applied over it (module_utils/appconfig.py)."""
    try:
        kept = kept or appconfig.EMPTY
        if isinstance(kept, str):
            kept = appconfig.load_text(kept)
        return appconfig.render(appconfig.apply(env or {}, kept))
    except (AttributeError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('pyfleet.deploy.env_file: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'python_minor': python_minor, 'app_layout': app_layout, 'plan_on_port': plan_on_port,
                'gunicorn_answer': gunicorn_answer, 'vcap_services': vcap_services,
                'vcap_application': vcap_application, 'fingerprint': fingerprint, 'env_text': env_text,
                'run_line': run_line, 'lb_server': lb_server, 'health_path': health_path, 'site_host': site_host,
                'rollout': rollout, 'batches': batches, 'input_problems': input_problems, 'slice_limits': slice_limits, 'env_file': env_file, 'kept_scale': kept_scale,
                'scale_units': scale_units, 'process_counts': process_counts}
