# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app plan: how pyfleet judges an app's source before any host is touched.

Plain Python, no Ansible imports, in sections: findings, source (files), requirements,
python_version, processes, lockfiles, pack, and contract (what is derived). This
module is the conductor: ``build_plan`` runs the sections over a source, and
``run_task`` is the task the action plugin ``pyfleet.deploy.app_plan`` runs.

Every finding is a ``Diagnostic`` with a stable ``code`` (see ``CODES``), the
file and line it is about, a message and the fix. ``build_plan`` collects all of
them instead of stopping at the first.
"""

from __future__ import annotations

import ast
import datetime
import os
import re
import shlex

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ansible_collections.pyfleet.deploy.plugins.module_utils import contract, cpython_sources, platforms
from ansible_collections.pyfleet.deploy.plugins.module_utils.findings import Findings, format_report
from ansible_collections.pyfleet.deploy.plugins.module_utils.lockfiles import read_pipenv, read_poetry
from ansible_collections.pyfleet.deploy.plugins.module_utils.pack import tree_problems
from ansible_collections.pyfleet.deploy.plugins.module_utils.processes import _django_details, _plan_processes, _truthy_env
from ansible_collections.pyfleet.deploy.plugins.module_utils.python_version import (example_version, load_catalogue, newest_minor_of,
                                                                                    parse_version_file, resolve_default_python,
                                                                                    resolve_python)
from ansible_collections.pyfleet.deploy.plugins.module_utils.requirements import canonical_name, parse_requirements
from ansible_collections.pyfleet.deploy.plugins.module_utils.source import (ALWAYS_EXCLUDE, _SKIP_DIRS, _add_problems, _read_texts, entry_is, find_files_bounded, misspelling_of,
                           read_ignore_file, read_text)

try:
    import tomllib
except ImportError:  # pragma: no cover - Python < 3.11
    tomllib = None


def build_plan(src, catalogue, today=None, available=None, default_python=None, allow_eol=False,
               deny=(), near_eol_days=180, env=None, migrations=True, known=None):
    """Inspect the app at ``src`` and return the plan (a plain dict). Reads only the platform files."""
    findings = Findings()
    env = env or {}
    today = today or datetime.date.today()
    if isinstance(today, str):
        today = datetime.date.fromisoformat(today)
    plan = {'src': src, 'is_python': False, 'platform': 'heroku', 'package_manager': None,
            'requirements': None, 'python': None, 'processes': {}, 'jobs': [], 'release': None, 'web': None,
            'django': None, 'nltk': None, 'limits': None, 'ship_exclude': list(ALWAYS_EXCLUDE), 'extra_packages': [],
            'errors': [], 'warnings': [], 'notes': []}
    if not src:
        findings.add('src-missing', 'No app source was given.',
                     'Run: ansible-playbook deploy.yml -i INVENTORY -e pyfleet_src=PATH/TO/APP')
        return _finish(plan, findings)
    if not os.path.isdir(src):
        findings.add('src-missing', 'The app source %s is not a directory.' % src,
                     'Point app_src at the directory that holds requirements.txt.')
        return _finish(plan, findings)
    root = src
    try:
        entries = {e.name: e for e in os.scandir(root)}
    except OSError as exc:
        findings.add('src-missing', 'Cannot list %s: %s.' % (src, exc), 'Check the path and its permissions.')
        return _finish(plan, findings)
    files = {n for n, e in entries.items() if entry_is(e, 'file')}
    dirs = {n for n, e in entries.items() if entry_is(e, 'dir')}


    _check_names(root, files, dirs, findings)
    deps = _package_manager(plan, root, files, dirs, findings, env)
    plan['python'] = _python_version(root, files, findings, catalogue, deps, plan['is_python'], default_python,
                                     dict(today=today, available=available, known=known, allow_eol=allow_eol,
                                          deny=deny, near_eol_days=near_eol_days))
    _plan_processes(plan, root, files, findings)
    _platform_files(plan, root, files, findings)
    _django(plan, root, deps['names'], env, migrations, findings)
    _gunicorn(plan, deps['names'], findings, root, env)
    _nltk(plan, root, files, deps['names'], findings)
    _shipping(plan, root, files, findings)
    return _finish(plan, findings)


def _check_names(root, files, dirs, findings):
    """Misspelled platform files, and virtualenvs committed with the source."""
    for name in sorted(files):
        right = misspelling_of(name)
        if right:
            if right in files:
                findings.add('misspelled-file-ignored',
                             '%r sits beside %s and looks like a misspelled copy of it; as on Heroku, pyfleet will not '
                             'guess which of the two was meant.' % (name, right),
                             'Delete %s, or merge it into %s: git rm %s' % (shlex.quote(name), right, shlex.quote(name)),
                             name)
            else:
                findings.add('misspelled-file', '%s looks like a misspelling of %s, so it would be ignored.' % (name, right),
                             'Rename it: git mv %s %s' % (shlex.quote(name), shlex.quote(right)), name)

    # -- committed virtualenvs
    for d in sorted(dirs):
        if os.path.isfile(os.path.join(root, d, 'pyvenv.cfg')):
            findings.add('committed-virtualenv', 'The directory %s/ is a virtualenv inside the app source.' % d,
                         'Remove it from git and ignore it: git rm -r --cached %s && echo "%s/" >> .gitignore'
                         % (shlex.quote(d), d), d + '/pyvenv.cfg')



def _package_manager(plan, root, files, dirs, findings, env):
    """The one package manager and its requirements; what the rest of the plan needs of them."""
    managers = [f for f in ('requirements.txt', 'uv.lock', 'Pipfile', 'Pipfile.lock', 'poetry.lock') if f in files]
    kinds = set()
    for f in managers:
        kinds.add({'requirements.txt': 'pip', 'uv.lock': 'uv', 'Pipfile': 'pipenv', 'Pipfile.lock': 'pipenv',
                   'poetry.lock': 'poetry'}[f])
    requirement_names = set()
    pyproject = None
    lock_python = None      # (version, file, line) from Pipfile.lock
    requires_python = None  # a PEP 440 constraint the default version must satisfy
    if 'pyproject.toml' in files and tomllib is not None:
        text = read_text(os.path.join(root, 'pyproject.toml'), 'pyproject.toml', findings)
        if text is not None:
            try:
                pyproject = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                lm = re.search(r'line (\d+)', str(exc))
                findings.add('pyproject-invalid', 'pyproject.toml does not parse: %s.' % exc,
                             'Fix the TOML syntax.', 'pyproject.toml', int(lm.group(1)) if lm else None)
    if len(kinds) > 1:
        findings.add('multiple-package-managers',
                     'Found several package manager files: %s. pyfleet would not know which to trust.'
                     % ', '.join(managers),
                     'Keep exactly one: requirements.txt (pip), uv.lock + pyproject.toml (uv), Pipfile + Pipfile.lock '
                     '(Pipenv) or poetry.lock + pyproject.toml (Poetry); delete the others.',
                     managers[1])
    elif kinds == {'pip'}:
        plan['package_manager'] = 'pip'
        reqs = parse_requirements(root, 'requirements.txt', findings, env)
        plan['requirements'] = reqs
        requirement_names = {r['name'] for r in reqs['requirements'] if r['name']}
        unpinned = [r for r in reqs['requirements'] if not r['pinned']]
        if unpinned:
            findings.add('requirements-unpinned',
                         '%d requirement(s) are not pinned: %s.' % (
                             len(unpinned), ', '.join('%s (%s:%s)' % (r['name'] or r['raw'], r['file'], r['line'])
                                                      for r in unpinned)),
                         'Pin exact versions ("name==X.Y.Z"), e.g. with "pip freeze" or pip-tools, so every '
                         'deploy installs the same code.', unpinned[0]['file'], unpinned[0]['line'])
    elif kinds == {'uv'}:
        if 'pyproject.toml' not in files:
            findings.add('uv-lock-without-pyproject', 'uv.lock is present but pyproject.toml is not.',
                         'Commit the pyproject.toml that uv.lock was made from.', 'uv.lock')
        else:
            plan['package_manager'] = 'uv'
            deps = ((pyproject or {}).get('project') or {}).get('dependencies') or []
            plan['requirements'] = {'files': ['pyproject.toml', 'uv.lock'], 'requirements': [], 'constraints': [],
                                    'local': []}
            for dep in deps:
                try:
                    requirement_names.add(canonical_name(Requirement(dep).name))
                except (InvalidRequirement, TypeError):
                    pass
    elif kinds == {'pipenv'}:
        texts = _read_texts(root, [f for f in ('Pipfile', 'Pipfile.lock') if f in files], findings)
        if texts is not None:
            locked = read_pipenv(texts)
            _add_problems(findings, locked['problems'])
            plan['package_manager'] = 'pipenv'
            plan['requirements'] = {'files': sorted(texts), 'requirements': [], 'constraints': [],
                                    'export': locked['lines'], 'env_vars': [], 'local': locked['local']}
            requirement_names = locked['names']
            if locked['python']:
                lock_python = (locked['python'], locked['python_file'], locked['python_line'])
    elif kinds == {'poetry'}:
        texts = _read_texts(root, [f for f in ('poetry.lock', 'pyproject.toml') if f in files], findings)
        if texts is not None:
            locked = read_poetry(texts, pyproject)
            _add_problems(findings, locked['problems'])
            plan['package_manager'] = 'poetry'
            plan['requirements'] = {'files': sorted(texts), 'requirements': [], 'constraints': [],
                                    'export': locked['lines'], 'env_vars': [], 'local': locked['local']}
            requirement_names = locked['names']
            requires_python = locked['requires']
    elif 'setup.py' in files and ('vendor' in dirs or _cloudfoundry_manifest(root, files)):
        # Cloud Foundry builds a setup.py-only app (Heroku refuses it): it installs the project itself
        requirement_names = _setup_py(plan, root, files, findings)
    else:
        _not_python_app(root, files, dirs, findings)
    plan['is_python'] = bool(plan['package_manager'])

    return {'names': requirement_names, 'pyproject': pyproject, 'lock_python': lock_python,
            'requires_python': requires_python}


def _cloudfoundry_manifest(root, files):
    """Whether the app has Cloud Foundry's manifest.yml (one that lists applications)."""
    if 'manifest.yml' not in files:
        return False
    text = read_text(os.path.join(root, 'manifest.yml'), 'manifest.yml', Findings())
    return text is not None and platforms.is_cloudfoundry(text)


def _setup_py(plan, root, files, findings):
    """A setup.py-only app built as Cloud Foundry builds it: pip installs the project itself (-e ., in a copy
    inside the virtualenv, as any local package), with what setup.py's install_requires lists. The names it
    lists, as far as a literal list tells them."""
    project = [f for f in ('setup.py', 'setup.cfg', 'pyproject.toml') if f in files]
    plan['package_manager'] = 'pip'
    plan['requirements'] = {'files': project, 'requirements': [], 'constraints': [], 'export': ['-e .'],
                            'env_vars': [], 'local': [{'path': '.', 'editable': True}], 'setup_py': True}
    findings.add('setup-py-installed', 'There is no requirements.txt: as Cloud Foundry does (Heroku refuses such an '
                 'app), pyfleet installs the project itself from setup.py (pip install -e .).',
                 'Nothing to do; add a requirements.txt to pin what it installs.', 'setup.py')
    names = set()
    text = read_text(os.path.join(root, 'setup.py'), 'setup.py', findings)
    try:
        tree = ast.parse(text or '')
    except SyntaxError:
        return names
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == 'install_requires' and isinstance(node.value, (ast.List, ast.Tuple)):
            for item in node.value.elts:
                if isinstance(item, ast.Constant) and isinstance(item.value, str):
                    try:
                        names.add(canonical_name(Requirement(item.value).name))
                    except InvalidRequirement:
                        pass
    return names


def _python_version(root, files, findings, catalogue, deps, is_python, default_python, resolve_kw):
    """The CPython version, in Heroku's order: runtime.txt, .python-version, Pipfile.lock, the default."""
    pyproject, lock_python, requires_python = deps['pyproject'], deps['lock_python'], deps['requires_python']
    specs = {}
    for name in ('runtime.txt', '.python-version'):
        if name in files:
            text = read_text(os.path.join(root, name), name, findings)
            if text is not None:
                spec, line = parse_version_file(name, text, findings, example_version(
                    catalogue, resolve_kw['today'], resolve_kw['available']))
                if spec and '.' not in spec:    # Cloud Foundry's "python-3.x": the newest supported 3 minor
                    spec = newest_minor_of(spec, catalogue, resolve_kw['today'], resolve_kw['available'], findings,
                                           name, line)
                if spec:
                    specs[name] = (spec, line)
    python = None
    if len(specs) == 2:
        scratch = Findings()
        a = resolve_python(specs['runtime.txt'][0], catalogue, findings=scratch, **resolve_kw)
        b = resolve_python(specs['.python-version'][0], catalogue, findings=Findings(), **resolve_kw)
        if specs['runtime.txt'][0] != specs['.python-version'][0] and (not a or not b or a['version'] != b['version']):
            findings.add('python-version-conflict',
                         'runtime.txt asks for %s (line %d) but .python-version asks for %s (line %d).'
                         % (specs['runtime.txt'][0], specs['runtime.txt'][1],
                            specs['.python-version'][0], specs['.python-version'][1]),
                         'Keep one of the two files (.python-version is the modern one), or make them agree.',
                         'runtime.txt', specs['runtime.txt'][1])
        else:
            findings.add('runtime-txt-deprecated', 'runtime.txt and .python-version agree; runtime.txt is used.',
                         'Delete runtime.txt and keep .python-version, which pyenv and uv also read.', 'runtime.txt')
            findings.extend(scratch)
            python = a
            if python:
                python.update(source='runtime.txt', source_line=specs['runtime.txt'][1])
    elif specs:
        name = next(iter(specs))
        spec, line = specs[name]
        python = resolve_python(spec, catalogue, source=name, line=line, findings=findings, **resolve_kw)
        if python:
            python.update(source=name, source_line=line)
    elif lock_python:   # Heroku's order: runtime.txt, .python-version, then Pipfile.lock
        spec, name, line = lock_python
        python = resolve_python(spec, catalogue, source=name, line=line, findings=findings, **resolve_kw)
        if python:
            python.update(source=name, source_line=line)
    elif not findings.errors() or is_python:
        if not any(d.code in ('python-version-invalid', 'python-version-multiple', 'python-not-cpython',
                              'file-encoding') for d in findings):
            python = resolve_default_python(catalogue, resolve_kw['today'], default=default_python,
                                            available=resolve_kw['available'], findings=findings,
                                            allow_eol=resolve_kw['allow_eol'], deny=resolve_kw['deny'], known=resolve_kw['known'],
                                            near_eol_days=resolve_kw['near_eol_days'],
                                            requires=requires_python
                                            or ((pyproject or {}).get('project') or {}).get('requires-python'))
            if python:
                python.update(source='default', source_line=None)
    if python and (pyproject or requires_python):
        project_rp = ((pyproject or {}).get('project') or {}).get('requires-python')
        rp = requires_python or project_rp
        said = ('requires-python "%s"' % rp if project_rp else
                '[tool.poetry.dependencies] python (read as "%s")' % rp)
        if rp:
            try:
                excluded = Version(python['version']) not in SpecifierSet(rp)
            except (InvalidSpecifier, InvalidVersion):
                excluded = False
            if excluded and python.get('source') in ('default', None):
                findings.add('python-version-requires-python',
                             'Python %s does not satisfy %s in pyproject.toml.' % (python['version'], said),
                             'Pin a version that satisfies it in .python-version, or relax requires-python.',
                             'pyproject.toml')
            elif excluded:
                # the app's two files disagree: its version file asks for what its own metadata refuses
                findings.add('python-version-requires-python',
                             '%s line %s asks for Python %s, but %s in pyproject.toml excludes it: the app would run '
                             'on a Python its own metadata refuses.'
                             % (python['source'], python.get('source_line') or 1, python['version'], said),
                             'Make the two agree: pin a version in %s that %s allows, or change requires-python.'
                             % (python['source'], said), python['source'], python.get('source_line'))
    return python


def _platform_files(plan, root, files, findings):
    """What the platforms' own files say beyond the processes (module_utils/platforms.py): Cloud Foundry's
    manifest.yml (its health check, memory, and a note for what pyfleet does instead), app.json (its health
    check, a note for every other key) and LeanEngine's probe. The web process gets the health check its
    platform would run (web.health), the app the memory limit (limits)."""
    health = None
    if 'manifest.yml' in files:
        text = read_text(os.path.join(root, 'manifest.yml'), 'manifest.yml', Findings())
        cf = platforms.cloudfoundry(text, findings) if text is not None else {'health': None, 'memory_mb': None}
        if text is not None and platforms.is_cloudfoundry(text):
            if plan['platform'] == 'heroku':
                plan['platform'] = 'cloudfoundry'
            health = cf['health']
            if cf['memory_mb']:
                plan['limits'] = {'memory_mb': cf['memory_mb'], 'source': 'manifest.yml'}
    if 'app.json' in files:
        text = read_text(os.path.join(root, 'app.json'), 'app.json', findings)
        if text is not None:
            said = platforms.app_json(text, findings, plan['processes'])
            health = said['health'] or health
            taken = {j['name']: j for j in plan['jobs']}
            for job in said['jobs']:
                if job['name'] in taken:
                    findings.add('job-name-taken', 'app.json\'s job %s (line %s) and the Procfile\'s line %s have one '
                                 'name; each job needs its own.' % (job['name'], job['line'], taken[job['name']]['line']),
                                 'Rename the Procfile\'s line, e.g. "%s_procfile: ..."' % job['name'].replace('-', '_'),
                                 'Procfile', taken[job['name']]['line'])
                else:
                    plan['jobs'].append(job)
    _vendor(plan, root, findings)
    if plan['platform'] == 'leanengine' and health is None:
        health = dict(platforms.LEANENGINE)
    if plan.get('web') is not None and health is not None:
        plan['web']['health'] = health


def _vendor(plan, root, findings):
    """vendor/, as Cloud Foundry uses it: a pip app pushed with its packages in vendor/ installs from there alone
    (pip --no-index --find-links vendor). Heroku ignores the directory, and so does pyfleet for apps that are not
    Cloud Foundry's, with a note."""
    path = os.path.join(root, 'vendor')
    if not os.path.isdir(path) or os.path.islink(path):
        return
    try:
        packages = sorted(n for n in os.listdir(path) if n.endswith(('.whl', '.tar.gz', '.zip', '.tar.bz2')))
    except OSError:
        return
    if not packages:
        return
    if plan['package_manager'] == 'pip' and (plan['platform'] == 'cloudfoundry' or plan['requirements'].get('setup_py')):
        plan['requirements']['vendor'] = 'vendor'
        findings.add('vendor-used', 'vendor/ holds %d package(s) (%s%s): as Cloud Foundry does, pip installs the '
                     'requirements from there alone (--no-index --find-links vendor).'
                     % (len(packages), ', '.join(packages[:3]), ', ...' if len(packages) > 3 else ''),
                     'Nothing to do; a requirement vendor/ lacks fails the install, as on Cloud Foundry.', 'vendor/')
    else:
        findings.add('vendor-ignored', 'vendor/ holds %d package(s), which Cloud Foundry installs from; pyfleet, as '
                     'Heroku does, installs %s from the package index and does not read vendor/.'
                     % (len(packages), 'the requirements' if plan['package_manager'] else 'nothing'),
                     'Nothing to do if the index has them; a Cloud Foundry app (manifest.yml with applications:) with '
                     'a requirements.txt installs from vendor/.', 'vendor/')


def _django(plan, root, requirement_names, env, migrations, findings):
    """Django's steps when the app has a manage.py and requires Django."""
    manage = find_files_bounded(root, 'manage.py', max_depth=3)
    if manage:
        if 'django' in requirement_names:
            info = plan['django'] or _django_details(root, manage[0], findings)
            disable = None
            for var in ('DISABLE_COLLECTSTATIC', 'BUILD_DISABLE_COLLECTSTATIC'):
                if _truthy_env(env.get(var)):
                    disable = var
                    break
            info['collectstatic'] = disable is None
            info['collectstatic_skip_reason'] = ('%s=%s' % (disable, env.get(disable))) if disable else None
            # Heroku runs migrations only through a Procfile's release: process; an app with a Procfile and
            # no release: opted out. Apps without a Procfile (wsgi.py, Cloud Foundry, Rainbond, LeanEngine)
            # have no release phase to ask for it, so pyfleet runs migrate for them.
            procfile = any(proc.get('source') == 'Procfile' for proc in plan['processes'].values())
            info['migrate'] = bool(migrations) and not procfile
            if migrations and procfile and not plan.get('release'):
                findings.add('django-migrate-opted-out',
                             'The Procfile has no release: process, so migrations are not run, as on Heroku.',
                             'Add "release: python %s migrate" to the Procfile to run them on each deploy.' % manage[0],
                             'Procfile')
            plan['django'] = info
        else:
            findings.add('django-not-required', '%s exists but Django is not in the requirements.' % manage[0],
                         'Add "Django==X.Y.Z" to requirements.txt if this is a Django app.', manage[0])
            plan['django'] = None
    else:
        plan['django'] = None



def _nltk(plan, root, files, requirement_names, findings):
    """nltk.txt, as Heroku reads it: the NLTK corpora to download at build time, one or more per line."""
    plan['nltk'] = None
    if 'nltk.txt' not in files:
        return
    text = read_text(os.path.join(root, 'nltk.txt'), 'nltk.txt', findings)
    if text is None:
        return
    corpora = [w for line in text.splitlines() for w in line.split('#', 1)[0].split()]
    if 'nltk' not in requirement_names:
        findings.add('nltk-not-required', 'nltk.txt lists corpora, but nltk is not in the requirements, so they are '
                     'not downloaded.', 'Add "nltk==X.Y.Z" to the requirements, or delete nltk.txt.', 'nltk.txt')
        return
    if not corpora:
        findings.add('nltk-empty', 'nltk.txt names no corpus.', 'List the corpora to download, e.g. "punkt wordnet", '
                     'or delete nltk.txt.', 'nltk.txt')
        return
    bad = [c for c in corpora if not re.match(r'^[A-Za-z0-9_.-]+$', c)]
    if bad:
        findings.add('nltk-invalid', 'nltk.txt names %s, which %s not a corpus name.' % (
            ', '.join(repr(b) for b in bad), 'is' if len(bad) == 1 else 'are'),
            'List corpus identifiers only (letters, digits, "_", "-", "."), as nltk.downloader takes them.', 'nltk.txt')
        return
    plan['nltk'] = corpora


def _gunicorn_config(root, web, env):
    """The gunicorn config the web process may load, or None: -c/--config from its command, else
    ./gunicorn.conf.py (gunicorn looks for it in the working directory, the release's root), or
    GUNICORN_CMD_ARGS in the app's environment. What it sets is gunicorn's to say (module_utils/gunicorn.py)."""
    args = web.get('gunicorn_args') or []
    rel = None
    for i, arg in enumerate(args):
        if arg in ('-c', '--config') and i + 1 < len(args):
            rel = args[i + 1]
        elif arg.startswith('--config='):
            rel = arg.split('=', 1)[1]
    if rel:
        return rel
    if os.path.isfile(os.path.join(root, 'gunicorn.conf.py')):
        return 'gunicorn.conf.py'
    if (env or {}).get('GUNICORN_CMD_ARGS'):
        return 'GUNICORN_CMD_ARGS'
    return None


def _gunicorn(plan, requirement_names, findings, root=None, env=None):
    """gunicorn serves a WSGI app; pyfleet adds it when the app does not list it. With a config of the app's,
    which is Python, the bind is gunicorn's to say: the host asks it (bind "ask") once the virtualenv is built,
    and meanwhile the app's ports are reserved as for one that listens on them."""
    web = plan.get('web')
    if web and web.get('mode') == 'gunicorn' and root:
        web['config'] = _gunicorn_config(root, web, env)
        web['bind'] = 'ask' if web['config'] else 'unix'
    if web and web.get('mode') == 'gunicorn' and plan['package_manager'] and 'gunicorn' not in requirement_names:
        plan['extra_packages'].append('gunicorn')
        findings.add('gunicorn-not-required', 'The web process runs under gunicorn, which is not a requirement.',
                     'Add "gunicorn==X.Y.Z" to your requirements to choose its version.',
                     plan['requirements']['files'][0] if plan.get('requirements') else None)



def _shipping(plan, root, files, findings):
    """What is never shipped, and what in the rest cannot be shipped safely."""
    for ign in ('.slugignore', '.leanignore'):
        if ign in files:
            for pat in read_ignore_file(os.path.join(root, ign)):
                if pat not in plan['ship_exclude']:
                    plan['ship_exclude'].append(pat)
    for rel, message, fix in tree_problems(root, plan['ship_exclude']):
        code = ('special-file' if 'not a regular file' in message
                else 'symlink-loop' if 'leads back to itself' in message else 'symlink-outside')
        findings.add(code, message, fix, rel)


def _not_python_app(root, files, dirs, findings):
    """Heroku prints a checklist; pyfleet adds what it actually found and where the app may be instead."""
    shown = sorted(files | {d + '/' for d in dirs})
    listing = ', '.join(shown[:25]) + (', ... (%d more)' % (len(shown) - 25) if len(shown) > 25 else '')
    nested = []
    for d in sorted(dirs):
        if d.startswith('.') or d in _SKIP_DIRS:
            continue
        for f in ('requirements.txt', 'uv.lock', 'manage.py'):
            if os.path.isfile(os.path.join(root, d, f)):
                nested.append('%s/%s' % (d, f))
    checklist = [
        '1. requirements.txt (pip; an empty file means no dependencies), uv.lock with pyproject.toml (uv), '
        'Pipfile with Pipfile.lock (Pipenv) or poetry.lock with pyproject.toml (Poetry) must be in the root of '
        'the app source.',
        '2. app_src must point at that root: %s' % (
            'found %s, so try pyfleet_src=%s' % (', '.join(nested), os.path.join(root, nested[0].split('/')[0]))
            if nested else 'no subfolder holds one either.'),
        '3. The file name must be exact and lower case (see any misspelled-file finding above).',
        '4. The file must be committed/shipped: check .gitignore, .slugignore and .leanignore.',
    ]
    if 'setup.py' in files or 'pyproject.toml' in files:
        checklist.append('5. %s alone is not enough, as on Heroku: add a requirements.txt that installs the project '
                         '("-e ." or "."), or lock it with "uv lock"%s.' % (
                             'setup.py' if 'setup.py' in files else 'pyproject.toml',
                             ' (with a Cloud Foundry manifest.yml or a vendor/ directory, pyfleet builds a setup.py '
                             'app as Cloud Foundry does)' if 'setup.py' in files else ''))
    findings.add('not-python-app',
                 'No Python package manager file in the app root. It contains: %s.' % (listing or 'nothing'),
                 '\n'.join(checklist), None)


def _finish(plan, findings):
    for d in findings:
        plan[{'error': 'errors', 'warning': 'warnings', 'note': 'notes'}[d.severity]].append(d.as_dict())
    plan['ok'] = not plan['errors']
    return plan


# --------------------------------------------------------------------------
# The pyfleet.deploy.app_plan task (the action plugin runs it; the module file documents it)
# --------------------------------------------------------------------------
ARGUMENT_SPEC = dict(
    src=dict(type='path', required=True),
    catalogue_file=dict(type='path'),
    catalogue=dict(type='dict'),
    catalogue_overrides=dict(type='dict', default={}),
    available_versions=dict(type='list', elements='str'),
    pyenv_checkout=dict(type='path'),
    pyenv_ref=dict(type='str', default=''),
    pyenv_url=dict(type='str', default=''),
    pyenv_archive=dict(type='path'),
    definitions_src=dict(type='path'),
    mirror_url=dict(type='str'),
    tarballs_src=dict(type='path'),
    default_python=dict(type='str'),
    allow_eol=dict(type='bool', default=False),
    deny_versions=dict(type='list', elements='str', default=[]),
    near_eol_days=dict(type='int', default=180),
    env=dict(type='dict', default={}, no_log=True),
    migrations=dict(type='bool', default=True),
    today=dict(type='str'),
    fail_on_error=dict(type='bool', default=True),
    **contract.ARGUMENT_SPEC
)
ARGUMENT_RULES = dict(required_one_of=[('catalogue_file', 'catalogue')],
                      mutually_exclusive=[('catalogue_file', 'catalogue')])


def installable_here(p, findings):
    """What CPython versions the hosts can install, for the task's parameters ``p``: the operator's list
    (available_versions), or pyenv's definitions at the ref the hosts get, with the operator's own, that
    the mirror (or the tarball directory, or python.org) can serve. Problems reading them are warnings."""
    if p['available_versions'] is not None:
        return {'versions': p['available_versions'], 'defined': None, 'definitions': 'app_plan_available_versions',
                'fetch': None}
    checkout = p['pyenv_checkout'] or (None if p['pyenv_archive'] else cpython_sources.discover_pyenv_checkout())
    defs, origin, problems = cpython_sources.pyenv_definitions(
        checkout, p['pyenv_ref'], p['pyenv_archive'], p['pyenv_url'],
        os.path.join(os.path.expanduser(p['release_cache']), '..', 'pyenv') if p.get('release_cache') else None)
    found = cpython_sources.installable(defs, p['definitions_src'], p['mirror_url'], p['tarballs_src'])
    for code, message, fix in problems + found['problems']:
        findings.add(code, message, fix)
    if not found['defined']:
        return {'versions': None, 'defined': None, 'definitions': None, 'fetch': None}
    return {'versions': found['versions'], 'defined': found['defined'], 'fetch': found['fetch'],
            'definitions': origin + (' and %s' % p['definitions_src'] if p['definitions_src'] else '')}


def run_task(p):
    """The task's result for validated parameters ``p``: a dict with ``plan``, ``report`` and
    ``warnings`` (one line each), and ``failed``/``msg`` when the app cannot be deployed."""
    try:
        catalogue = load_catalogue(path=p['catalogue_file'], data=p['catalogue'], overrides=p['catalogue_overrides'])
    except (OSError, ValueError) as exc:
        return dict(failed=True, msg='The Python catalogue %s is unusable: %s' % (p['catalogue_file'] or '(data)', exc))
    findings = Findings()
    sources = installable_here(p, findings)
    try:
        plan = build_plan(
            p['src'], catalogue, today=p['today'], available=sources['versions'], known=sources['defined'],
            default_python=p['default_python'], allow_eol=p['allow_eol'], deny=p['deny_versions'],
            near_eol_days=p['near_eol_days'], env=p['env'], migrations=p['migrations'])
    except ValueError as exc:   # the controller lacks a library the rules need (pathspec)
        return dict(failed=True, msg='pyfleet.deploy.app_plan: %s' % exc)
    if plan['python']:
        plan['python']['installable'] = {k: sources[k] for k in ('definitions', 'fetch', 'versions')}
    contract.derive(plan, p, p['env'], findings)
    _finish(plan, findings)
    if plan['errors'] and p['fail_on_error']:
        return failure(p['src'], plan)
    report = format_report(plan['errors'] + plan['warnings'] + plan['notes'])
    # said once each: the warnings as Ansible's warnings (with their fix), the notes as the task that shows them
    result = dict(changed=False, plan=plan, report=report, notes=format_report(plan['notes']),
                  warnings=['%s%s: [%s] %s Fix: %s' % (w['file'] or p['src'], ':%d' % w['line'] if w.get('line') else '',
                                                       w['code'], w['message'], w['fix'])
                            for w in plan['warnings']])
    return result


def failure(src, plan):
    """The failed task's result: the findings as data (each error's and warning's code, file, line, message and
    fix), said once there - the message is one line that points at them, and neither the plan (a hundred lines)
    nor a text copy of the findings goes with them. AWX and ansible-runner read them from the task's event."""
    return dict(changed=False, failed=True,
                msg='The app at %s cannot be deployed (%d error(s)); findings holds each with its code, file, line, '
                    'message and fix.' % (src, len(plan['errors'])),
                findings=dict(errors=plan['errors'], warnings=plan['warnings']))
