# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Processes: the Procfile, Cloud Foundry's manifest.yml, leanengine.yaml run:, wsgi.py/app.py, and Django's
entry points."""

from __future__ import annotations

import ast
import os
import re
import shlex

import yaml

from ansible_collections.pyfleet.deploy.plugins.module_utils.schedule import ScheduleError, job as schedule_job
from ansible_collections.pyfleet.deploy.plugins.module_utils.source import find_files_bounded, read_text


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------
PROC_NAME_RE = re.compile(r'^[A-Za-z0-9_-]+$')
# a cron schedule before a command, as piku's "cron*: 0 * * * * python job.py" lines have it: five fields (numbers,
# ranges, steps, lists, "*", month and day names) or a shorthand such as @daily
_CRON_WORD = r'(?:[0-9]+|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat)'
_CRON_FIELD = r'(?:\*|%s(?:-%s)?)(?:/[0-9]+)?' % (_CRON_WORD, _CRON_WORD)
_CRON_LIST = r'%s(?:,%s)*' % (_CRON_FIELD, _CRON_FIELD)
SCHEDULE_RE = re.compile(r'^(@(?:yearly|annually|monthly|weekly|daily|midnight|hourly|reboot)|(?:%s\s+){4}%s)\s+(\S.*)$'
                         % (_CRON_LIST, _CRON_LIST), re.I)
# what a cron* process's command starts with when it means a schedule (a field or a shorthand): a cron* process
# whose command starts otherwise ("clock: python clock.py" named cron) is a long-running process, as on Heroku
SCHEDULE_START_RE = re.compile(r'^(?:@[a-z]+|[0-9*][0-9a-z*,/-]*)(?:\s|$)', re.I)


def parse_procfile(text, findings, rel='Procfile', jobs=None):
    """Procfile text -> ordered dict name -> {command, line}; its scheduled jobs (piku's cron* lines) are added to
    ``jobs``."""
    procs = {}
    for number, raw in enumerate(text.split('\n'), 1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        name, colon, command = line.partition(':')
        name, command = name.strip(), command.strip()
        if not colon or len(name.split()) > 1:
            words = line.split(None, 1)
            guess = ('%s: %s' % (words[0], words[1]) if len(words) == 2 and PROC_NAME_RE.match(words[0])
                     else 'web: gunicorn app:app')
            findings.add('procfile-invalid-line', 'Line %d is not "name: command": %r.' % (number, line),
                         'Write "%s".' % guess, rel, number)
            continue
        if not PROC_NAME_RE.match(name):
            findings.add('procfile-invalid-name', 'Process name %r may only use letters, digits, "_" and "-".' % name,
                         'Rename it, e.g. "%s".' % (re.sub(r'[^A-Za-z0-9_-]+', '_', name).strip('_') or 'web'),
                         rel, number)
            continue
        if not command:
            findings.add('procfile-empty-command', 'Process %r has no command.' % name,
                         'Write the command after the colon, e.g. "%s: gunicorn app:app".' % name, rel, number)
            continue
        if name.lower().startswith('cron') and SCHEDULE_START_RE.match(command):
            # piku's scheduled job: "cron*: <five fields or a shorthand> <command>"
            if jobs is not None:
                try:
                    jobs.append(schedule_job(name, command, rel, number))
                except ScheduleError as exc:
                    findings.add('job-schedule-invalid', '%s line %d, %s: %s' % (rel, number, name, exc),
                                 exc.fix + ' The line is "%s: <schedule> <command>".' % name, rel, number)
            continue
        schedule = SCHEDULE_RE.match(command)
        if schedule:
            findings.add('procfile-schedule',
                         'Process %r runs %r on the schedule "%s", but only a process named cron* is a scheduled '
                         'job. As a long-running process its command would be %r, which would fail and restart for '
                         'ever, so pyfleet makes no unit for it.'
                         % (name, schedule.group(2), ' '.join(schedule.group(1).split()), command.split()[0]),
                         'Name it cron_%s to run it on that schedule: "cron_%s: %s".'
                         % (name, name, ' '.join(command.split())), rel, number)
            continue
        if name in procs:
            findings.add('procfile-duplicate', 'Process %r is declared on line %d and again on line %d.'
                         % (name, procs[name]['line'], number),
                         'Keep one "%s:" line.' % name, rel, number)
            continue
        procs[name] = {'command': command, 'line': number}
    if not procs and not findings.errors():
        findings.add('procfile-empty', 'The Procfile declares no process.',
                     'Add a line such as "web: gunicorn app:app".', rel, None)
    return procs


_GUNICORN_VALUE_OPTS = {'-b', '--bind', '-w', '--workers', '-k', '--worker-class', '-t', '--timeout', '-c',
                        '--config', '--threads', '--chdir', '--pythonpath', '--log-level', '-n', '--name',
                        '--max-requests', '--max-requests-jitter', '--graceful-timeout', '--keep-alive',
                        '--access-logfile', '--error-logfile', '--access-logformat', '-e', '--env',
                        '--worker-connections', '--forwarded-allow-ips', '--limit-request-line',
                        '--limit-request-fields', '--limit-request-field_size', '-u', '--user', '-g', '--group',
                        '-m', '--umask', '--log-config', '--statsd-host', '--proxy-allow-from', '--paste',
                        '--worker-tmp-dir', '--backlog', '-p', '--pid', '--capture-output'}


def classify_web(command):
    """A web command -> how pyfleet serves it.

    'gunicorn': pyfleet runs gunicorn on its own unix socket with the app's
    module and the remaining options; 'command': the command binds $PORT.
    """
    try:
        argv = shlex.split(command)
    except ValueError:
        return {'mode': 'command', 'command': command}
    # strip leading VAR=value assignments and "env"
    while argv and (argv[0] == 'env' or re.match(r'^[A-Za-z_][A-Za-z0-9_]*=', argv[0])):
        argv.pop(0)
    if argv[:3] in (['python', '-m', 'gunicorn'], ['python3', '-m', 'gunicorn']):
        argv = ['gunicorn'] + argv[3:]
    if not argv or os.path.basename(argv[0]) != 'gunicorn':
        return {'mode': 'command', 'command': command}
    app, options, dropped = None, [], []
    i = 1
    while i < len(argv):
        tok = argv[i]
        # "--opt=value" and "-w4" carry their value; a bare value option takes the next word
        takes_next = tok in _GUNICORN_VALUE_OPTS
        words = argv[i:i + 2] if takes_next else argv[i:i + 1]
        i += len(words)
        if not tok.startswith('-'):
            if app is None:
                app = tok
            else:
                options.append(tok)
        elif tok in ('-b', '--bind') or tok.startswith('--bind=') or (tok.startswith('-b') and tok[1] != '-'):
            dropped.append(' '.join(words))
        else:
            options.extend(words)
    if app is None:
        return {'mode': 'command', 'command': command}
    chdir, rest, i = '.', [], 0
    while i < len(options):   # --chdir is kept apart: pyfleet points it into the release
        if options[i] == '--chdir' and i + 1 < len(options):
            chdir, i = options[i + 1], i + 2
            continue
        if options[i].startswith('--chdir='):
            chdir = options[i].split('=', 1)[1]
        else:
            rest.append(options[i])
        i += 1
    return {'mode': 'gunicorn', 'wsgi_app': app, 'gunicorn_args': rest, 'dropped_args': dropped,
            'command': command, 'chdir': chdir.strip('/') or '.'}


def _defines_name(path, rel, name, findings):
    """Does the Python file define ``name`` at top level? None when it does not parse."""
    text = read_text(path, rel, findings)
    if text is None:
        return None
    try:
        tree = ast.parse(text, filename=rel)
    except SyntaxError as exc:
        findings.add('python-syntax-error', '%s does not parse: %s.' % (rel, exc.msg),
                     'Fix the syntax error at line %s.' % exc.lineno, rel, exc.lineno)
        return None
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                return True
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if (alias.asname or alias.name.split('.')[0]) == name:
                    return True
        elif isinstance(node, (ast.If, ast.Try)):
            # definitions guarded by if/try at top level still count
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and sub.id == name and isinstance(sub.ctx, ast.Store):
                    return True
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and sub.id == name:
                    return True
    return False


def _truthy_env(value):
    return value is not None and str(value).strip() not in ('', '0')


def _django_details(root, manage_rel, findings):
    """Settings module, project package and WSGI app for a Django project, read without importing."""
    base = os.path.dirname(manage_rel)
    info = {'manage_py': manage_rel, 'chdir': base or '.', 'settings_module': None, 'wsgi_app': None}
    text = read_text(os.path.join(root, manage_rel), manage_rel, findings)
    if text is None:
        return info
    m = re.search(r'''DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]''', text)
    if m:
        info['settings_module'] = m.group(1)
        mod_path = os.path.join(root, base, *m.group(1).split('.'))
        for cand in (mod_path + '.py', os.path.join(mod_path, '__init__.py'), os.path.join(mod_path, 'base.py'),
                     os.path.join(mod_path, 'production.py')):
            if os.path.isfile(cand):
                try:
                    with open(cand, 'rb') as fh:
                        stext = fh.read(262144).decode('utf-8', 'replace')
                except OSError:
                    continue
                wm = re.search(r'''^WSGI_APPLICATION\s*=\s*['"]([\w.]+)['"]''', stext, re.M)
                if wm:
                    mod, _, attr = wm.group(1).rpartition('.')
                    info['wsgi_app'] = '%s:%s' % (mod, attr)
                    break
    if not info['wsgi_app']:
        findings.add('django-settings-unknown',
                     'Could not find WSGI_APPLICATION in the settings named by %s.' % manage_rel,
                     'Set WSGI_APPLICATION = "<project>.wsgi.application" in settings, or add a Procfile '
                     'with "web: gunicorn <project>.wsgi".', manage_rel)
    return info


def cf_manifest(text, findings, rel='manifest.yml'):
    """Cloud Foundry's manifest.yml -> {process: {command, source, line}} of its first application (its
    ``command`` is the web process's; ``processes:`` gives each type's), and the names its ``env:`` sets.
    A manifest.yml without ``applications:`` is not Cloud Foundry's: ({}, []). Invalid: (None, [])."""
    try:
        data = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        # where the construct that is not closed starts, else where the parser stopped
        mark = getattr(exc, 'context_mark', None) or getattr(exc, 'problem_mark', None)
        findings.add('cf-manifest-invalid', '%s is not valid YAML: %s.' % (rel, getattr(exc, 'problem', None) or exc),
                     'Fix the YAML syntax (cf push would refuse it too).', rel, mark.line + 1 if mark else None)
        return None, []
    apps = data.get('applications') if isinstance(data, dict) else None
    if not isinstance(apps, list) or not apps:
        return {}, []
    app = apps[0] if isinstance(apps[0], dict) else {}
    if len(apps) > 1:
        findings.add('cf-manifest-several-apps',
                     '%s describes %d applications; pyfleet deploys one source, and reads the first, %s.'
                     % (rel, len(apps), app.get('name') or 'unnamed'),
                     'Deploy each application from its own source directory, or keep one in the manifest.', rel,
                     _line_matching(text, r'^\s*applications\s*:'))
    procs = {}
    command = app.get('command', data.get('command'))
    if command is not None:
        line = _line_matching(text, r'^\s*-?\s*command\s*:')
        if not isinstance(command, str) or not command.strip():
            findings.add('cf-manifest-invalid', '%s: command must be a command string.' % rel,
                         'Write e.g. "command: gunicorn app:app".', rel, line)
            return None, []
        procs['web'] = {'command': command.strip(), 'source': rel, 'line': line}
    for proc in app.get('processes') or []:
        kind = proc.get('type') if isinstance(proc, dict) else None
        line = _line_matching(text, r'^\s*-?\s*type\s*:\s*[\'"]?%s\b' % re.escape(str(kind)))
        if not isinstance(kind, str) or not PROC_NAME_RE.match(kind):
            findings.add('cf-manifest-invalid', '%s: a process has the type %r, not a name of [A-Za-z0-9_-].' % (rel, kind),
                         'Give each process a type such as web or worker.', rel, line)
            return None, []
        cmd = proc.get('command')
        if cmd is None:
            continue        # Cloud Foundry runs the buildpack's command for it: the web process found otherwise
        if not isinstance(cmd, str) or not cmd.strip():
            findings.add('cf-manifest-invalid', '%s: process %s has no command string.' % (rel, kind),
                         'Write e.g. "command: celery -A proj worker".', rel, line)
            return None, []
        procs[kind] = {'command': cmd.strip(), 'source': rel, 'line': line}
    env = app.get('env') if isinstance(app.get('env'), dict) else {}
    return procs, sorted(str(k) for k in env)


def _line_matching(text, pattern):
    for number, line in enumerate(text.split('\n'), 1):
        if re.match(pattern, line):
            return number
    return None


def _plan_processes(plan, root, files, findings):
    procs = {}
    if 'leanengine.yaml' in files:
        plan['platform'] = 'leanengine'
    manifest, manifest_env = {}, []
    if 'manifest.yml' in files:
        text = read_text(os.path.join(root, 'manifest.yml'), 'manifest.yml', findings)
        manifest, manifest_env = cf_manifest(text, findings) if text is not None else ({}, [])
        if manifest_env:
            findings.add('cf-manifest-env',
                         'manifest.yml sets %s for Cloud Foundry; pyfleet does not read a manifest\'s env.'
                         % ', '.join(manifest_env),
                         'Set them for pyfleet: pyfleet_env (and pyfleet_secrets for secrets).', 'manifest.yml',
                         _line_matching(text, r'^\s*env\s*:'))
    if 'Procfile' in files:
        text = read_text(os.path.join(root, 'Procfile'), 'Procfile', findings)
        if text is not None:
            for name, p in parse_procfile(text, findings, jobs=plan['jobs']).items():
                procs[name] = {'command': p['command'], 'source': 'Procfile', 'line': p['line']}
        for name, p in sorted((manifest or {}).items()):
            if name in procs and procs[name]['command'] != p['command']:
                findings.add('cf-manifest-command-ignored',
                             'manifest.yml line %s runs %s as %r, the Procfile as %r; pyfleet runs the Procfile\'s '
                             '(Cloud Foundry would run the manifest\'s).' % (p['line'], name, p['command'],
                                                                          procs[name]['command']),
                             'Make the two agree, or keep the command in one of them.', 'Procfile', procs[name]['line'])
    elif manifest is not None:      # (an invalid manifest was said; nothing is guessed beside it)
        procs.update(manifest)
        if 'web' not in procs:
            web = _detect_web(root, files, findings, plan)
            if web:
                procs['web'] = web
    release = procs.pop('release', None)
    for name, p in procs.items():
        p['name'] = name
        if name == 'web':
            p.update(classify_web(p['command']))
            if p.get('dropped_args'):
                findings.add('gunicorn-bind-ignored',
                             'The web command binds itself (%s); pyfleet binds gunicorn to a unix socket behind nginx.'
                             % ', '.join(p['dropped_args']),
                             'Nothing to do; remove the --bind option to silence this.', p['source'], p.get('line'))
        else:
            p['mode'] = 'command'
    plan['processes'] = procs
    plan['release'] = release
    plan['web'] = procs.get('web')


def _detect_web(root, files, findings, plan):
    """The web process when there is no Procfile: leanengine.yaml, wsgi.py, Django, app.py."""
    checked = []
    if 'leanengine.yaml' in files:
        text = read_text(os.path.join(root, 'leanengine.yaml'), 'leanengine.yaml', findings)
        if text is not None:
            try:
                data = yaml.safe_load(text) if text.strip() else {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, 'problem_mark', None)
                findings.add('leanengine-yaml-invalid', 'leanengine.yaml is not valid YAML: %s.'
                             % (getattr(exc, 'problem', None) or exc),
                             'Fix the YAML syntax; the file needs e.g. "run: python app.py".', 'leanengine.yaml',
                             mark.line + 1 if mark else None)
                return None
            run = data.get('run') if isinstance(data, dict) else None
            if run is not None and (not isinstance(run, str) or not run.strip()):
                findings.add('leanengine-yaml-invalid', 'leanengine.yaml run: must be a command string.',
                             'Write e.g. "run: python app.py".', 'leanengine.yaml', _line_of(text, 'run'))
                return None
            if run:
                return {'command': run.strip(), 'source': 'leanengine.yaml', 'line': _line_of(text, 'run')}
        checked.append('leanengine.yaml has no run:')
    web = _module_entry(root, files, 'wsgi.py', 'application', checked, findings)
    if web is not None:
        return web or None
    manage = find_files_bounded(root, 'manage.py', max_depth=3)
    if manage:
        info = _django_details(root, manage[0], findings)
        if info['wsgi_app']:
            plan['django'] = info
            cmd = 'gunicorn %s' % info['wsgi_app']
            if info['chdir'] not in ('.', ''):
                cmd = 'gunicorn --chdir %s %s' % (shlex.quote(info['chdir']), info['wsgi_app'])
            return {'command': cmd, 'source': manage[0], 'line': None}
        checked.append('%s names no WSGI_APPLICATION' % manage[0])
    web = _module_entry(root, files, 'app.py', 'app', checked, findings)
    if web is not None:
        return web or None
    if plan.get('package_manager') or not findings.errors():
        findings.add('no-web-process',
                     'pyfleet cannot tell how to start this app%s.' % (' (%s)' % '; '.join(checked) if checked else ''),
                     'Add a Procfile, e.g. "web: gunicorn myapp.wsgi" (WSGI) or "web: python app.py" (binds $PORT). '
                     'Without one pyfleet looks, in order, for manifest.yml command: (Cloud Foundry), leanengine.yaml '
                     'run:, wsgi.py with "application", '
                     'a Django manage.py with WSGI_APPLICATION, and app.py with "app".', 'Procfile')
    return None


def _module_entry(root, files, filename, attr, checked, findings):
    """`gunicorn module:attr` when ``filename`` defines ``attr`` at top level.

    None when the file is absent or lacks ``attr`` (noted in ``checked``), so the
    search goes on; False when it does not parse (a finding was added), so it stops.
    """
    if filename not in files:
        return None
    ok = _defines_name(os.path.join(root, filename), filename, attr, findings)
    if ok:
        return {'command': 'gunicorn %s:%s' % (filename[:-3], attr), 'source': filename, 'line': None}
    if ok is False:
        checked.append('%s defines no top-level "%s"' % (filename, attr))
        return None
    return False


def _line_of(text, key):
    return _line_matching(text, r'^%s\s*:' % re.escape(key))
