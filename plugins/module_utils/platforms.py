# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platforms' own files, read in full: what each says about health, memory and services, and a note for
every key pyfleet does not act on.

- Cloud Foundry's ``manifest.yml`` (its first application, and its ``web`` process): ``health-check-type``
  (``http`` asks ``health-check-http-endpoint`` for a 200; ``port`` and ``process``, as Cloud Foundry checks
  them, only that the instance answers at all), ``timeout`` (seconds to start) and
  ``health-check-invocation-timeout`` feed the health gate; ``memory`` becomes the app's memory limit;
  ``instances``, ``routes``, ``services`` and the rest are named in a note saying what pyfleet does instead.
- ``app.json`` (Heroku's and dokku's): ``healthchecks.web`` (dokku's form: its first ``startup`` check with a
  ``path``; ``content``, ``timeout``, ``attempts``, ``wait``, ``initialDelay``) feeds the health gate; every
  other key pyfleet does not act on draws one note naming it.
- LeanEngine: the app is healthy, as LeanEngine probes it, when ``/__engine/1/ping`` (its SDK's) or ``/``
  answers 2xx.

``vcap_application`` and ``vcap_services`` make the environment Cloud Foundry gives its apps, from the
services the operator declares (``pyfleet_services``, VCAP_SERVICES's own form) and ``pyfleet_database_url``
as a user-provided service with its credentials, so settings that read VCAP_SERVICES read their database
unchanged.

Plain Python: the plan uses it on the controller, and the filters on it.
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import unquote, urlsplit

import yaml

from ansible_collections.pyfleet.deploy.plugins.module_utils import schedule

OK_2XX = list(range(200, 300))
ANY_ANSWER = list(range(100, 600))

LEANENGINE = {'path': '/__engine/1/ping', 'also': ['/'], 'status_codes': OK_2XX, 'body': '', 'timeout': None,
              'source': 'leanengine.yaml', 'line': None,
              'said': "LeanEngine's probe: /__engine/1/ping (its SDK's) or / answering 2xx"}

# manifest.yml keys pyfleet reads (their effect), and what it does instead for the rest
_CF_READ = {'name', 'command', 'processes', 'health-check-type', 'health-check-http-endpoint', 'timeout',
            'health-check-invocation-timeout', 'memory', 'env', 'buildpacks', 'buildpack'}
_CF_INSTEAD = {
    'instances': 'the inventory: one web process (blue/green) per host, as many hosts as it lists',
    'routes': 'nginx_site_server_names (the names nginx answers for) and nginx_site_tls_* for HTTPS',
    'route': 'nginx_site_server_names', 'host': 'nginx_site_server_names', 'hosts': 'nginx_site_server_names',
    'domain': 'nginx_site_server_names', 'domains': 'nginx_site_server_names',
    'random-route': 'nginx_site_server_names', 'no-route': 'nginx_site_server_names',
    'services': 'pyfleet_services (what VCAP_SERVICES holds) and pyfleet_database_url',
    'disk_quota': 'nothing: the host\'s disk', 'disk-quota': 'nothing: the host\'s disk',
    'stack': 'the hosts\' Debian release', 'path': 'pyfleet_src', 'docker': 'nothing: pyfleet builds from source',
    'sidecars': 'a Procfile process', 'metadata': 'nothing', 'log-rate-limit-per-second': 'nothing: the journal',
    'readiness-health-check-type': 'the same health gate',
}
# app.json keys pyfleet acts on; every other one draws a note
_APP_JSON_READ = {'healthchecks', 'cron'}
_APP_JSON_INSTEAD = {
    'formation': 'pyfleet_process_counts, and the inventory for web',
    'scripts': 'the Procfile\'s release: phase, and bin/pre_compile and bin/post_compile',
    'env': 'pyfleet_env and pyfleet_secrets', 'addons': 'pyfleet_database_url and pyfleet_services',
    'buildpacks': 'pyfleet\'s own Python build', 'environments': 'nothing', 'stack': 'the hosts\' Debian release',
    'image': 'nothing: pyfleet builds from source', 'name': 'pyfleet_name', 'dokku': 'nothing',
}


def _memory_mb(value):
    """Cloud Foundry's memory ("128M", "1G", "512MB", "1024") in MiB, or None."""
    found = re.match(r'^\s*(\d+)\s*([MG])?B?\s*$', str(value), re.I)
    if not found:
        return None
    number = int(found.group(1))
    return number * 1024 if (found.group(2) or 'M').upper() == 'G' else number


def _line(text, key):
    for number, line in enumerate((text or '').split('\n'), 1):
        if re.match(r'^\s*-?\s*[\'"]?%s[\'"]?\s*:' % re.escape(key), line):
            return number
    return None


def is_cloudfoundry(text):
    """Whether a manifest.yml is Cloud Foundry's (it lists applications)."""
    try:
        data = yaml.safe_load(text) if (text or '').strip() else None
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and isinstance(data.get('applications'), list) and bool(data['applications'])


def cloudfoundry(text, findings, rel='manifest.yml'):
    """What the manifest's first application says: {health, memory_mb} (each None when it says nothing), after
    adding its notes (one for the keys pyfleet does something else for) to ``findings``."""
    out = {'health': None, 'memory_mb': None}
    try:
        data = yaml.safe_load(text) if (text or '').strip() else None
    except yaml.YAMLError:
        return out                              # cf_manifest said it
    apps = data.get('applications') if isinstance(data, dict) else None
    if not isinstance(apps, list) or not apps or not isinstance(apps[0], dict):
        return out
    app = apps[0]
    web = next((p for p in app.get('processes') or [] if isinstance(p, dict) and p.get('type') == 'web'), {})
    setting = dict(app, **{k: v for k, v in web.items() if k != 'type'})
    kind = str(setting.get('health-check-type') or 'port').lower()
    endpoint = setting.get('health-check-http-endpoint')
    timeout = setting.get('timeout')
    invocation = setting.get('health-check-invocation-timeout')
    if kind == 'http':
        path = str(endpoint or '/')
        out['health'] = {'path': path if path.startswith('/') else '/' + path, 'also': [], 'status_codes': [200],
                         'body': '', 'said': 'Cloud Foundry\'s http health check: %s answering 200' % path}
    elif kind in ('port', 'process', 'none'):
        out['health'] = {'path': '/', 'also': [], 'status_codes': ANY_ANSWER, 'body': '',
                         'said': 'Cloud Foundry\'s %s health check: the instance answers at all' % kind}
        if endpoint:
            findings.add('cf-manifest-note', '%s sets health-check-http-endpoint %s, which Cloud Foundry asks only '
                         'with health-check-type: http; it is not asked.' % (rel, endpoint),
                         'Set health-check-type: http to have it asked.', rel, _line(text, 'health-check-http-endpoint'))
    else:
        findings.add('cf-manifest-invalid', '%s: health-check-type %r is none of http, port and process.' % (rel, kind),
                     'Write health-check-type: http (with health-check-http-endpoint), port or process.', rel,
                     _line(text, 'health-check-type'))
    if out['health'] is not None:
        out['health'].update(source=rel, line=_line(text, 'health-check-type') or _line(text, 'name'),
                             timeout=int(timeout) if isinstance(timeout, int) and timeout > 0 else None,
                             request_timeout=int(invocation) if isinstance(invocation, int) and invocation > 0 else None)
    if 'memory' in setting:
        out['memory_mb'] = _memory_mb(setting['memory'])
        if out['memory_mb'] is None or out['memory_mb'] < 16:
            findings.add('cf-manifest-invalid', '%s: memory %r is not an amount of memory.' % (rel, setting['memory']),
                         'Write e.g. "memory: 512M" or "memory: 1G".', rel, _line(text, 'memory'))
            out['memory_mb'] = None
    instead = sorted(k for k in app if k in _CF_INSTEAD)
    if instead:
        findings.add('cf-manifest-note',
                     '%s sets %s, which Cloud Foundry acts on and pyfleet does not: %s.'
                     % (rel, ', '.join(instead), '; '.join('%s: %s' % (k, _CF_INSTEAD[k]) for k in instead)),
                     'Nothing to do if the inventory and the inputs named say the same.', rel, _line(text, instead[0]))
    unknown = sorted(k for k in app if k not in _CF_READ and k not in _CF_INSTEAD)
    if unknown:
        findings.add('cf-manifest-note', '%s sets %s, which pyfleet does not read.' % (rel, ', '.join(unknown)),
                     'Nothing to do, unless the app relies on it.', rel, _line(text, unknown[0]))
    return out


def app_json(text, findings, processes=None, rel='app.json'):
    """What app.json says: {health} (None when nothing) and its scheduled jobs (dokku's ``cron``, each named
    ``cron-<n>``; a command that names a process of ``processes`` runs that process's command, as dokku does),
    after a note for every key pyfleet does not act on."""
    out = {'health': None, 'jobs': []}
    try:
        data = json.loads(text)
    except ValueError as exc:
        findings.add('app-json-invalid', '%s is not valid JSON: %s.' % (rel, exc), 'Fix the JSON syntax.', rel,
                     getattr(exc, 'lineno', None))
        return out
    if not isinstance(data, dict):
        findings.add('app-json-invalid', '%s is not a JSON object.' % rel, 'Write an object: {"healthchecks": ...}.', rel, 1)
        return out
    for key in sorted(data):
        if key not in _APP_JSON_READ:
            findings.add('app-json-ignored', '%s sets %s, which pyfleet does not act on%s.'
                         % (rel, key, ' (it uses %s)' % _APP_JSON_INSTEAD[key] if key in _APP_JSON_INSTEAD else ''),
                         'Nothing to do, unless the app relies on it.', rel, _json_line(text, key))
    out['jobs'] = _app_json_cron(data.get('cron'), text, findings, processes or {}, rel)
    checks = data.get('healthchecks')
    checks = checks.get('web') if isinstance(checks, dict) else checks
    checks = [] if checks is None else checks
    if not isinstance(checks, list):
        findings.add('app-json-invalid', '%s: healthchecks.web must be a list of checks.' % rel,
                     'Write "healthchecks": {"web": [{"type": "startup", "path": "/health"}]}.', rel,
                     _json_line(text, 'healthchecks'))
        return out
    usable = [c for c in checks if isinstance(c, dict) and c.get('path') and (c.get('type') or 'startup') == 'startup']
    others = [c for c in checks if c not in usable[:1]]
    if usable:
        check = usable[0]
        path = str(check['path'])
        content = check.get('content')
        attempts = _positive(check.get('attempts'), 3)
        each = _positive(check.get('timeout'), 5) + _positive(check.get('wait'), 5)
        out['health'] = {'path': path if path.startswith('/') else '/' + path, 'also': [],
                         'status_codes': [int(s) for s in check.get('expected_status') or []] or list(range(200, 400)),
                         'body': re.escape(str(content)) if content else '',
                         'timeout': _positive(check.get('initialDelay'), 0) + attempts * each,
                         'request_timeout': _positive(check.get('timeout'), 5),
                         'source': rel, 'line': _json_line(text, 'path'),
                         'said': 'app.json\'s startup check %s: %s%s' % (check.get('name') or '', path,
                                                                        ' containing %r' % content if content else '')}
    if others:
        findings.add('app-json-ignored', '%s has %d more web check(s) (%s) that pyfleet does not run: it asks the first '
                     'startup check with a path, on each new instance, before nginx switches to it.'
                     % (rel, len(others), ', '.join(str(c.get('name') or c.get('type') or '?') if isinstance(c, dict)
                                                    else '?' for c in others)),
                     'Nothing to do, unless the app relies on them.', rel, _json_line(text, 'healthchecks'))
    return out


def _app_json_cron(cron, text, findings, processes, rel):
    """dokku's cron list -> the plan's jobs (module_utils/schedule.py), each problem said with its line."""
    if cron is None:
        return []
    cron_line = _json_line(text, 'cron')
    if not isinstance(cron, list):
        findings.add('app-json-invalid', '%s: cron must be a list of jobs.' % rel,
                     'Write "cron": [{"command": "python manage.py clearsessions", "schedule": "@daily"}].', rel, cron_line)
        return []
    lines = [n for n in _json_lines(text, 'schedule') if n >= (cron_line or 0)]
    jobs = []
    for index, entry in enumerate(cron, 1):
        line = lines[index - 1] if index <= len(lines) else cron_line
        name = 'cron-%d' % index
        if not isinstance(entry, dict) or not isinstance(entry.get('command'), str) or not entry['command'].strip() \
                or not isinstance(entry.get('schedule'), str):
            findings.add('app-json-invalid', '%s: cron job %d needs a command and a schedule, each a string.' % (rel, index),
                         'Write {"command": "python manage.py clearsessions", "schedule": "0 3 * * *"}.', rel, line)
            continue
        for key in sorted(set(entry) - {'command', 'schedule'}):
            said = {'maintenance': 'a job in maintenance (true) gets no timer; false or no key: it runs',
                    'concurrency_policy': 'pyfleet never starts a job while its last run goes on (dokku\'s forbid)'}
            if key == 'maintenance' and entry[key] is False or key == 'concurrency_policy' and entry[key] == 'forbid':
                continue
            findings.add('app-json-ignored', '%s: cron job %d sets %s %s; %s.'
                         % (rel, index, key, json.dumps(entry[key]), said.get(key, 'pyfleet does not act on it')),
                         'Nothing to do, unless the app relies on it.', rel, line)
        if entry.get('maintenance') is True:
            continue
        command = entry['command'].strip()
        if command in processes:        # dokku: "Specified commands can also be Procfile entries"
            command = processes[command]['command']
        try:
            jobs.append(schedule.job(name, command, rel, line, schedule=entry['schedule']))
        except schedule.ScheduleError as exc:
            findings.add('job-schedule-invalid', '%s line %s, cron job %d (%s): %s'
                         % (rel, line, index, entry['schedule'], exc), exc.fix, rel, line)
    return jobs


def _json_lines(text, key):
    return [n for n, line in enumerate((text or '').split('\n'), 1) if '"%s"' % key in line]


def _positive(value, default):
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def _json_line(text, key):
    for number, line in enumerate((text or '').split('\n'), 1):
        if '"%s"' % key in line:
            return number
    return None


def vcap_application(name, server_names=(), memory_mb=None, instance=0):
    """VCAP_APPLICATION as Cloud Foundry sets it, for an app of ``name`` on this host."""
    app_id = str(uuid.uuid5(uuid.NAMESPACE_URL, 'pyfleet:%s' % name))
    uris = [n for n in server_names or () if n and n != '_']
    return {'application_id': app_id, 'application_name': name, 'name': name, 'application_uris': uris, 'uris': uris,
            'application_version': app_id, 'version': app_id, 'instance_index': instance,
            'limits': {'mem': memory_mb or 0, 'disk': 0, 'fds': 16384}, 'space_name': 'pyfleet',
            'organization_name': 'pyfleet', 'cf_api': ''}


def database_service(url, name='database'):
    """``url`` (pyfleet_database_url) as a user-provided service entry, with its credentials taken apart."""
    parts = urlsplit(url)
    credentials = {'uri': url, 'url': url}
    if parts.hostname:
        credentials.update(hostname=parts.hostname, host=parts.hostname)
    if parts.port:
        credentials['port'] = parts.port
    if parts.username:
        credentials.update(username=unquote(parts.username), user=unquote(parts.username))
    if parts.password:
        credentials['password'] = unquote(parts.password)
    if parts.path.strip('/'):
        credentials['name'] = unquote(parts.path.strip('/'))
    scheme = (parts.scheme or '').split('+')[0]
    return {'name': name, 'label': 'user-provided', 'tags': ['database'] + ([scheme] if scheme else []),
            'plan': '', 'credentials': credentials, 'syslog_drain_url': '', 'volume_mounts': []}


def vcap_services(services=None, database_url=''):
    """VCAP_SERVICES: the operator's ``services`` (label -> [entries], VCAP_SERVICES's own form) and
    ``database_url`` as the user-provided service "database" (unless a service of that name is declared)."""
    out = {}
    for label, entries in (services or {}).items():
        out[str(label)] = [dict(e, label=e.get('label', str(label))) for e in entries or [] if isinstance(e, dict)]
    names = {e.get('name') for entries in out.values() for e in entries}
    if database_url and 'database' not in names:
        out.setdefault('user-provided', []).append(database_service(database_url))
    return out


def check_services(services):
    """Problems of a ``pyfleet_services`` value, in words: [] when it is VCAP_SERVICES's form."""
    if services in (None, {}):
        return []
    if not isinstance(services, dict):
        return ['pyfleet_services must be a mapping of service labels to lists of services, as VCAP_SERVICES holds them']
    problems = []
    for label, entries in services.items():
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            problems.append('pyfleet_services.%s must be a list of services ({name, credentials, ...})' % label)
            continue
        for n, entry in enumerate(entries):
            if not entry.get('name'):
                problems.append('pyfleet_services.%s[%d] has no name' % (label, n))
            if not isinstance(entry.get('credentials', {}), dict):
                problems.append('pyfleet_services.%s[%d].credentials must be a mapping' % (label, n))
    return problems
