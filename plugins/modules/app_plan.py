#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: app_plan
short_description: Inspect a Python app's source and return pyfleet's deploy plan
description:
  - Reads an app source directory the way a Python PaaS buildpack does (Heroku, Cloud Foundry, Rainbond,
    LeanCloud LeanEngine) and returns the plan every later pyfleet role follows - the package manager,
    the requirements as pip reads them, the resolved CPython version and where it came from, the
    processes, the Django steps and what must not be shipped.
  - Read-only. Only the platform files are read (requirements, version files, Procfile, leanengine.yaml,
    entry points); the tree is never walked in full.
  - Every finding carries a stable code, the file, the line and the fix. All errors are reported at once.
  - It runs on the controller, where the app source lives; an action plugin of the same name does the work
    there without a round-trip.
version_added: "0.1.0"
author: pyfleet contributors
options:
  src:
    description: Path of the app source directory on the host the module runs on.
    type: path
    required: true
  catalogue_file:
    description:
      - The CPython version catalogue (YAML) - each minor's end-of-life date and status. Which patches exist
        comes from pyenv's definitions, not from here.
      - Required unless O(catalogue) is given.
    type: path
  catalogue:
    description: The catalogue as data, instead of O(catalogue_file).
    type: dict
  catalogue_overrides:
    description: 'Merged over the catalogue, per minor, e.g. C({minors: {"3.16": {eol: "2032-10-31", status: bugfix}}}).'
    type: dict
    default: {}
  available_versions:
    description:
      - Versions that can actually be installed (C(3.11.2) or C(Python-3.11.2.tgz)). When given, it replaces
        what the plan reads from pyenv and the mirror.
      - When neither this nor pyenv's definitions are known, an exact C(X.Y.Z) is taken as it is and C(X.Y)
        is an error.
    type: list
    elements: str
  pyenv_checkout:
    description:
      - A pyenv git checkout on the controller, whose python-build definitions say which versions exist.
      - Defaults to C($PYENV_ROOT), then C(pyenv root), then C(~/.pyenv).
    type: path
  pyenv_ref:
    description:
      - The pyenv ref the hosts get (the pyenv role's C(pyenv_git_version)); its definitions are read with
        C(git archive). Empty is the ref the pyenv role pins (its defaults). When the checkout lacks the ref, or there
        is none (an execution environment), a tarball of the ref is fetched once from O(pyenv_url)'s host into
        C(~/.cache/pyfleet/pyenv); when that fails too, the checkout is read as it is, with a warning.
    type: str
    default: ''
  pyenv_url:
    description: Where the hosts clone pyenv (the pyenv role's C(pyenv_git_url)); empty is the role's.
    type: str
    default: ''
  pyenv_archive:
    description: A pyenv tarball (the pyenv role's C(pyenv_archive_src)), read instead of a checkout.
    type: path
  definitions_src:
    description: A directory of extra python-build definitions (the pyenv role's C(pyenv_definitions_src)); they come first.
    type: path
  mirror_url:
    description:
      - The python-build mirror the hosts download from (the pyenv role's C(pyenv_mirror_url)). Its root must
        answer a listing; a version is installable when the sha256 of its definition's tarball is listed.
      - Without a mirror or O(tarballs_src), every defined version is taken as installable from python.org.
    type: str
  tarballs_src:
    description: A controller directory of CPython tarballs pushed to the hosts (the pyenv role's C(pyenv_tarballs_src)).
    type: path
  default_python:
    description: The minor used when the app names no version. Defaults to the catalogue's C(default).
    type: str
  allow_eol:
    description: Accept end-of-life minors (a warning instead of an error), for legacy apps.
    type: bool
    default: false
  deny_versions:
    description: Exact versions that are refused, e.g. C([3.4.5, 3.4.6, 3.5.3]).
    type: list
    elements: str
    default: []
  near_eol_days:
    description: Warn when the minor reaches end of life within this many days.
    type: int
    default: 180
  env:
    description: The app's environment variables (C(DISABLE_COLLECTSTATIC), C(BUILD_DISABLE_COLLECTSTATIC)).
    type: dict
    default: {}
  migrations:
    description: Plan Django migrations.
    type: bool
    default: true
  today:
    description: The date used for end-of-life checks, C(YYYY-MM-DD). Defaults to today.
    type: str
  fail_on_error:
    description: Fail the task when the plan has errors. When false, the errors are only returned.
    type: bool
    default: true
  name:
    description: The app's name (its account, paths and units). Empty means the source directory's name, lower case.
    type: str
    default: ""
  pyenv_root:
    description: Where pyenv lives on the hosts; RV(plan.python.interpreter) is under it.
    type: path
    default: /opt/pyenv
  apps_root:
    description: Where the apps live on the hosts (RV(plan.layout.root) is C(<apps_root>/<name>)).
    type: path
    default: /srv
  config_root:
    description: Where the apps' environment files live on the hosts.
    type: path
    default: /etc/pyfleet
  release_cache:
    description: Where release archives are kept on the controller (a folder per app under it).
    type: path
    default: ~/.cache/pyfleet/releases
  pip_spec:
    description: pip for new virtualenvs; empty keeps the interpreter's bundled pip. Part of the lock inputs.
    type: str
    default: ""
  uv_spec:
    description: uv for uv apps. Part of the lock inputs.
    type: str
    default: ""
  extra_specs:
    description: Package name to the pinned spec pyfleet installs when the app needs it but did not list it.
    type: dict
    default: {}
  web_port:
    description:
      - The web instance's port (C($PORT)); gunicorn's socket is named by it. The second instance takes the next one.
      - Both must lie between 1024 and 65535. 0 (C(pyfleet_web_port) not set) plans 8000 and marks it C(web.port_auto), and
        each host then gives the app a pair of its own (C(pyfleet.deploy.app_ports)).
    type: int
    default: 0
  process_counts:
    description: 'Instances of each non-web process, e.g. C({worker: 2}); a process not listed runs once.'
    type: dict
    default: {}
  keep:
    description: C(pyfleet_keep), judged here (1 or more) before any host is touched.
    type: int
    default: 5
  step_timeout:
    description: C(pyfleet_step_timeout), judged here (1 or more) before any host is touched.
    type: int
    default: 1800
  import_check:
    description: Import the WSGI app before the switch (a build step).
    type: bool
    default: true
requirements:
  - packaging
  - PyYAML
notes:
  - Supports check mode; it never changes anything.
extends_documentation_fragment: [pyfleet.deploy.controller]
'''

EXAMPLES = r'''
- name: Plan the app
  pyfleet.deploy.app_plan:
    src: "{{ app_src }}"
    name: hello
    catalogue_file: "{{ role_path }}/files/python-versions.yml"
    env: "{{ app_env }}"
    # "3.13" resolves to the newest 3.13 that pyenv 2.6.30 defines and the mirror holds
    pyenv_ref: f6a5b409e9fd1ad78aa4350ddc1fc5fc3d0fa666
    mirror_url: http://mirror.example.internal/python-build
  register: plan

- name: Plan against a fixed list of versions instead
  pyfleet.deploy.app_plan:
    src: "{{ app_src }}"
    catalogue_file: "{{ role_path }}/files/python-versions.yml"
    available_versions: ["3.11.2", "3.13.5"]

- name: Show the Python it resolved
  ansible.builtin.debug:
    msg: "Python {{ plan.plan.python.version }} from {{ plan.plan.python.source }}"
'''

RETURN = r'''
plan:
  description: The deploy plan.
  returned: always
  type: dict
  contains:
    schema:
      description: The plan's schema version (see the README's "The plan"); it changes when a key changes meaning.
      type: int
    ok:
      description: True when there are no errors.
      type: bool
    name:
      description: The app's name.
      type: str
    layout:
      description: The host's paths (C(root), C(releases), C(venvs), C(shared), C(cache), C(current), C(env_dir),
        C(env_file), C(state_dir), C(runtime_dir)), the unit names (C(unit_prefix), C(target), C(build_unit)), C(nft_table), and
        C(release_cache) on the controller.
      type: dict
    venv:
      description: The virtualenv - C(path), C(key) (of the lock inputs), C(lock) (the inputs; C(lock.extra), the specs
        pyfleet adds), C(seed), C(stage) (the requirement files and local packages the install runs in, copied into the
        virtualenv, when the app has local packages).
      type: dict
    units:
      description: C(instances) (the unit names to run) and C(templates) (the unit files).
      type: dict
    build:
      description: The build steps - C(collectstatic), C(migrate), C(import_check) (a WSGI app or null), C(release).
      type: dict
    package_manager:
      description: C(pip), C(uv), C(pipenv) or C(poetry).
      type: str
    requirements:
      description: Files read, requirements (name, specifier, kind, file, line, pinned), index options.
      type: dict
    python:
      description: Resolved C(version), C(minor), C(source) (C(runtime.txt), C(.python-version), C(default)), C(eol),
        C(status), C(prefix) and C(interpreter) under O(pyenv_root), and C(installable) - where the versions that
        can be installed were read (C(definitions), C(fetch)) and C(versions).
      type: dict
    processes:
      description: Process name to command; C(web) has C(mode) C(gunicorn) (WSGI app on a socket) or C(command) (binds C($PORT)).
      type: dict
    release:
      description: The Procfile's C(release) command, run once per deploy before the switch, or null.
      type: dict
    web:
      description: The web process with C(port), C(socket) and C(upstream) (what nginx proxies to), or null for a
        worker-only app.
      type: dict
    platform:
      description: C(heroku) or C(leanengine) (adds C(LEANCLOUD_APP_PORT)).
      type: str
    django:
      description: Null, or C(manage_py), C(chdir), C(settings_module), C(collectstatic), C(migrate).
      type: dict
    ship_exclude:
      description: Patterns that must not be shipped.
      type: list
    extra_packages:
      description: Packages pyfleet installs besides the app's requirements (gunicorn when missing).
      type: list
    errors:
      description: Findings that stop the deploy, each with code, file, line, message and fix.
      type: list
    warnings:
      description: Findings that do not stop the deploy.
      type: list
    notes:
      description: Informational findings.
      type: list
report:
  description: All findings as text, errors first.
  returned: success
  type: str
findings:
  description:
    - The findings of an app that cannot be deployed, as data - the failed task's result holds them, and no text
      copy of them. AWX and ansible-runner read them from the task's event.
  returned: failure
  type: dict
  contains:
    errors:
      description: Each error, with code, severity, file, line, message and fix.
      type: list
      elements: dict
    warnings:
      description: Each warning, in the same form.
      type: list
      elements: dict
notes:
  description: The notes alone, as text (the warnings are said as the task's warnings); the action says them once.
  returned: success
  type: str
ansible_facts:
  description: The plan as the fact C(app_plan_result) (with C(run_once), on every host of the play).
  returned: success
  type: dict
  contains:
    app_plan_result:
      description: The same as RV(plan).
      type: dict
'''
