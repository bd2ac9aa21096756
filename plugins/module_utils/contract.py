# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan as a contract: everything the roles need that can be derived, worked out once, here.

``build_plan`` judges the source (what the app is). ``derive`` adds what follows from it and from the
operator's inputs (where it goes and how it runs): the app's name, every path of the host layout, the
interpreter under ``pyenv_root``, the virtualenv's lock key, the units, the web instance and the build
steps. deploy.yml hands each role its slice of the result; no role works any of it out again.

``SCHEMA`` declares the plan's top-level keys (their type and meaning). ``SCHEMA_VERSION`` changes when
a key changes meaning or goes; a new key does not change it. The README's "The plan" section lists the
keys, and a unit test keeps the three in step.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re

from ansible_collections.pyfleet.deploy.plugins.module_utils import gunicorn
from ansible_collections.pyfleet.deploy.plugins.module_utils.python_version import _vtuple
from ansible_collections.pyfleet.deploy.plugins.module_utils.requirements import local_path

SCHEMA_VERSION = 1

# key -> (type, what it holds). "dict?" may be null.
SCHEMA = {
    'schema': ('int', 'SCHEMA_VERSION of this plan.'),
    'ok': ('bool', 'True when the plan has no errors.'),
    'src': ('str', 'The app source on the controller.'),
    'name': ('str', 'The app name: its account, group, paths and unit names derive from it.'),
    'is_python': ('bool', 'A package manager file was found.'),
    'platform': ('str', 'heroku; leanengine (adds LEANCLOUD_APP_PORT and LEANCLOUD_APP_ENV); cloudfoundry (a manifest.yml '
                        'with applications: adds VCAP_APPLICATION, VCAP_SERVICES and MEMORY_LIMIT).'),
    'package_manager': ('str?', 'pip, uv, pipenv or poetry.'),
    'requirements': ('dict?', 'The files read, the requirements as pip reads them, and the export of a lock file.'),
    'python': ('dict?', 'version, minor, source, source_line, eol, status; prefix and interpreter under pyenv_root.'),
    'venv': ('dict?', 'path, key (of the lock inputs), lock (the inputs; lock.extra: the specs pyfleet adds), seed, '
                      'stage (what the install runs in, copied into the virtualenv, when the app has local packages).'),
    'layout': ('dict', "The host's paths: root, releases, venvs, shared, cache, current, state, slots, env_dir, env_file, "
                       'state_dir, runtime_dir, upstream_conf, lock, site_conf; unit_prefix, target, build_unit, nft_table; release_cache on the '
                       'controller.'),
    'processes': ('dict', 'Process name -> command, source, line, mode (web: gunicorn or command).'),
    'web': ('dict?', 'The web process; slots: its two instances (port, unit, socket, upstream, url), blue and green; '
                     "port, socket and upstream are the first's; listens: it listens on its ports itself (a command, "
                     'or gunicorn with reuse_port), not on a unix socket, or may (bind "ask": a gunicorn config the host asks '
                     'gunicorn about; gunicorn: what its answer settled); port_auto: pyfleet_web_port was not set, so '
                     'each host gives the app a pair of its own (on_port); health: the check its platform runs '
                     '(path, also, status_codes, body, timeout, request_timeout, source, said), when its files say.'),
    'release': ('dict?', "The Procfile's release command, run once per deploy before the switch."),
    'units': ('dict', 'instances (every unit name the app may run), web (the two web instances), others (the rest, '
                      "the jobs' timers among them), jobs (the jobs' timers), templates (the unit files)."),
    'jobs': ('list', 'Scheduled jobs (Procfile cron* lines, app.json cron): name, command, schedule, calendar (systemd '
                     'OnCalendar= lines), source, line. One host of the fleet runs them (on_port, jobs=).'),
    'build': ('dict', 'The steps before the switch: pre_compile (bin/pre_compile, before the virtualenv), collectstatic, '
                      'migrate, post_compile (bin/post_compile), import_check (a WSGI app), ask_gunicorn (the script that '
                      'asks gunicorn what the app\'s config sets, with its arguments), release.'),
    'django': ('dict?', 'manage_py, chdir, settings_module, wsgi_app, collectstatic (and why not), migrate.'),
    'limits': ('dict?', "memory_mb: the memory limit of each of the app's units (Cloud Foundry's memory), and its source."),
    'nltk': ('list?', "The corpora nltk.txt names, downloaded at build time into the release's nltk_data (NLTK_DATA)."),
    'ship_exclude': ('list', 'Patterns that are never shipped (.slugignore, .leanignore and pyfleet\'s own).'),
    'extra_packages': ('list', 'Packages pyfleet adds to the requirements (gunicorn, when the app does not list it).'),
    'errors': ('list', 'Findings that stop the deploy: code, file, line, message, fix.'),
    'warnings': ('list', 'Findings that do not stop it.'),
    'notes': ('list', 'Informational findings.'),
}

NAME_RE = re.compile(r'^[a-z][a-z0-9-]{0,30}$')

# The contract's inputs: deploy.yml passes them from the operator's variables.
ARGUMENT_SPEC = dict(
    name=dict(type='str', default=''),
    pyenv_root=dict(type='path', default='/opt/pyenv'),
    apps_root=dict(type='path', default='/srv'),
    config_root=dict(type='path', default='/etc/pyfleet'),
    release_cache=dict(type='path', default='~/.cache/pyfleet/releases'),
    pip_spec=dict(type='str', default=''),
    uv_spec=dict(type='str', default=''),
    extra_specs=dict(type='dict', default={}),
    web_port=dict(type='int', default=0),
    process_counts=dict(type='dict', default={}),
    import_check=dict(type='bool', default=True),
    keep=dict(type='int', default=5),
    step_timeout=dict(type='int', default=1800),
)

# a web instance's port: unprivileged (a sandboxed app may not bind below 1024, and nginx, ssh and the host's own
# services live there), with the next one free for the second instance
PORT_RANGE = (1024, 65534)


def check_inputs(p, findings):
    """The project inputs the contract judges before any host is touched: each bad one is an error naming it."""
    port = int(p['web_port'])
    if port and not PORT_RANGE[0] <= port <= PORT_RANGE[1]:
        findings.add('input-invalid',
                     'pyfleet_web_port is %d: the web instances listen on it and on the next port, which must both lie '
                     'between %d and %d (below 1024 are the host\'s own services: ssh on 22, nginx on 80 and 443).'
                     % (port, PORT_RANGE[0], PORT_RANGE[1] + 1),
                     'Set pyfleet_web_port to a free port of that range, e.g. 8000 (the default), and give each app on a '
                     'host its own pair.')
    if int(p['keep']) < 1:
        findings.add('input-invalid',
                     'pyfleet_keep is %d: the clean-up would delete every release a rollback could go back to.'
                     % int(p['keep']),
                     'Set pyfleet_keep to 1 or more (the live release counts as one; the newest retired release is '
                     'always kept as well).')
    if int(p['step_timeout']) < 1:
        findings.add('input-invalid',
                     'pyfleet_step_timeout is %d: every build step would be stopped at once.' % int(p['step_timeout']),
                     'Set pyfleet_step_timeout to the seconds a build step may take (1800 by default).')


_DNS_NAME_RE = re.compile(r'^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$')


def input_problems(inputs, batches, server_names=(), app_hosts=(), lb=False):
    """What the project inputs (``inputs``: deploy.yml's pyfleet_inputs) ask for that cannot work, each said as a
    sentence with its fix, before any host is touched: the slice's limits (systemd ignores one it cannot read, and
    says so only in its journal), the rollout's batches (``batches``: the filter batches' answer, a string when
    pyfleet_batch cannot be read), HTTPS (a certificate from an ACME CA is for the site's DNS names,
    ``server_names``), the host that runs the scheduled jobs (one of ``app_hosts``), the store at a URL. ``lb``:
    the inventory has load balancers (the DNS names then point at them). [] when all is well."""
    out = []
    limits = inputs.get('slice') or {}
    error = slice_limits(limits.get('memory_max', ''), limits.get('cpu_quota', ''), limits.get('tasks_max', 1024))['error']
    if error:
        out.append(error)
    if isinstance(batches, str):
        out.append(batches)
    tls = inputs.get('tls') or ''
    if tls not in ('', 'acme'):
        out.append('pyfleet_tls is %s; say "acme" (a certificate from an ACME CA, renewed by itself), or leave it unset.'
                   % json.dumps(tls))
    names = list(server_names or [])
    if tls == 'acme' and (not names or not all(isinstance(n, str) and _DNS_NAME_RE.match(n) for n in names)):
        out.append("pyfleet_tls: acme needs the site's DNS names, each pointing at %s: set nginx_site_server_names, "
                   'e.g. ["shop.example.com"] (it is %s).' % ('the lb hosts' if lb else 'the app host',
                                                               json.dumps(names or ['_'])))
    if inputs.get('jobs_host') not in list(app_hosts):
        out.append('pyfleet_jobs_host is %s, which is not an app host of the inventory; name one of %s.'
                   % (inputs.get('jobs_host'), ', '.join(app_hosts)))
    url, auth = inputs.get('artifacts_url') or '', inputs.get('artifacts_url_auth')
    if (url and not re.match(r'^https?://[^/\s]+', url)) or not isinstance(auth, dict) \
            or (auth and 'username' not in auth):
        out.append('pyfleet_artifacts_url is %s and pyfleet_artifacts_url_auth has %s; give the store as an http:// or '
                   'https:// URL the hosts reach (its directory, e.g. https://store.example.com/pyfleet/), and its basic '
                   'auth as {"username": ..., "password": ...}, or leave them unset (the directory pyfleet_artifacts_dir '
                   'on the controller).' % (json.dumps(url), json.dumps(sorted(auth)) if isinstance(auth, dict)
                                            else 'no mapping'))
    return out


def default_name(src):
    """The app name a source directory gives: its base name, lower case, runs of other characters as "-"."""
    base = os.path.basename(os.path.normpath(src or '')).lower()
    return re.sub(r'^-|-$', '', re.sub(r'[^a-z0-9]+', '-', base))


def _digest(data):
    """sha256 of ``data`` as JSON with sorted keys (what Ansible's to_json(sort_keys=true) writes)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode('utf-8')).hexdigest()


# never part of a local package's digest: what pack never ships, or what a build leaves behind
_TREE_SKIP = {'.git', '.hg', '.svn', '__pycache__', '.venv'}


def tree_digest(path):
    """sha256 over a file, or over a directory's files (relative path, executable bit, content; a link's
    target), in a fixed order: what pip builds a local package from."""
    digest = hashlib.sha256()
    if os.path.isfile(path):
        with open(path, 'rb') as fh:
            digest.update(fh.read())
        return digest.hexdigest()
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d not in _TREE_SKIP and not d.endswith('.egg-info'))
        for name in sorted(filenames):
            if name.endswith('.pyc'):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, path)
            if os.path.islink(full):
                digest.update(('L %s %s\n' % (rel, os.readlink(full))).encode('utf-8', 'surrogateescape'))
                continue
            with open(full, 'rb') as fh:
                content = hashlib.sha256(fh.read()).hexdigest()
            digest.update(('F %s %d %s\n' % (rel, os.access(full, os.X_OK), content)).encode('utf-8', 'surrogateescape'))
    return digest.hexdigest()


def local_packages(plan):
    """The app's own directories that its requirements install ({path: editable}), as pip resolves them."""
    out = {}
    for item in (plan.get('requirements') or {}).get('local') or []:
        path = local_path(item['path'])
        if path is not None:
            out[path] = out.get(path, False) or item['editable']
    return out


def lock_inputs(plan, src, interpreter, pip_spec, uv_spec, extra_specs, env):
    """What a virtualenv is built from. The same inputs give the same virtualenv, which releases share.
    A local package (-e ./pkg, or ./pkg) counts by its content, as "pkg/": change it, and a new
    virtualenv is built."""
    reqs = plan.get('requirements') or {}
    names = reqs.get('env_vars') or []
    files = {}
    for rel in reqs.get('files') or []:
        with open(os.path.join(src, rel), 'rb') as fh:
            files[rel] = hashlib.sha256(fh.read()).hexdigest()
    for rel in local_packages(plan):
        if os.path.exists(os.path.join(src, rel)):
            files[rel.rstrip('/') + '/' if rel != '.' else './'] = tree_digest(os.path.join(src, rel))
    if reqs.get('vendor'):         # Cloud Foundry's vendor/: the packages installed from, by their content
        files['vendor/'] = tree_digest(os.path.join(src, reqs['vendor']))
    pairs = [[n, '' if env.get(n) is None else str(env.get(n))] for n in names]
    manager = plan['package_manager']
    lock = {
        'python': plan['python']['version'],
        'interpreter': interpreter,
        'installer': manager,
        'installer_version': uv_spec if manager == 'uv' else pip_spec,
        'extra': [extra_specs.get(p, p) for p in plan.get('extra_packages') or []],
        # the values of the variables the requirement files name (${NAME}), as a digest: a new value, a new build
        'env': hashlib.sha256(json.dumps(pairs).encode('utf-8')).hexdigest() if names else '',
        'files': files,
    }
    if reqs.get('vendor'):
        # what pip is given besides the requirements: vendor/ alone (a key only when there is one, so that the
        # virtualenvs of every other app keep their keys)
        lock['install_args'] = ['--no-index', '--find-links', reqs['vendor']]
    return lock


def _hook(src, rel):
    """``rel`` when the app source has that file (a build hook), else None."""
    return rel if src and os.path.isfile(os.path.join(src, rel)) else None


def _web_slot(unit, mode, port):
    """One of the two web instances: its port ($PORT), unit, what nginx proxies to, and how to ask it directly.
    gunicorn listens on a unix socket named by the port; a command (or gunicorn whose config sets reuse_port,
    mode "tcp") on the port itself."""
    socket = '/run/%s/web-%d.sock' % (unit, port)
    gunicorn = mode == 'gunicorn'
    return {'port': port, 'unit': '%s-web@%d.service' % (unit, port), 'socket': socket if gunicorn else None,
            'upstream': 'unix:' + socket if gunicorn else '127.0.0.1:%d' % port,
            'url': 'http://localhost' if gunicorn else 'http://127.0.0.1:%d' % port}


DEFAULT_PORT = 8000


def _place_web(plan, port):
    """Put the plan's web instances on ``port`` and the next one (in place): blue/green, two instances; a release
    starts on the idle one, is checked there, and only then does nginx switch to it."""
    web, unit = plan['web'], plan['layout']['unit_prefix']
    web['slots'] = [_web_slot(unit, web.get('mode') if web.get('bind') != 'tcp' else 'tcp', n) for n in (port, port + 1)]
    web.update(port=port, socket=web['slots'][0]['socket'], upstream=web['slots'][0]['upstream'],
               # it listens on its ports itself (not on a unix socket): they must be its alone on a host; a
               # gunicorn config gunicorn was not asked about yet may make it so (bind "ask"), so they are kept for it
               listens=web['slots'][0]['socket'] is None or web.get('bind') == 'ask')
    units = plan['units']
    units['web'] = [slot['unit'] for slot in web['slots']]
    units['instances'] = units['web'] + units['others']


def _plain(value):
    """A copy of ``value`` made of plain dicts, lists and scalars (a templating engine's own types, such as
    ansible-core's tagged values, do not survive copy.deepcopy)."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return copy.deepcopy(value)


def process_instances(unit, proc, count):
    """The units of ``count`` instances of the process ``proc`` (``unit`` is the app's prefix, pyfleet-<app>)."""
    return ['%s-%s@%d.service' % (unit, proc, n) for n in range(1, int(count) + 1)]


def _running(units, unit):
    """Each process but web of the app's ``units`` (its unit templates, in their order) with the instances
    ``others`` runs of it."""
    procs = [t[len(unit) + 1:-len('@.service')] for t in units['templates']
             if t.startswith(unit + '-') and t.endswith('@.service')]
    return [(proc, [u for u in units['others'] if u.startswith('%s-%s@' % (unit, proc))])
            for proc in procs if proc != 'web']


def scaled(units, unit, scale):
    """The app's ``units`` with each process that ``scale`` names ({process: count}, playbooks/scale.yml's, kept
    in config.json) run as that many instances (0: none); a name the app has no process of, and web (one
    instance a host, blue/green), change nothing. The same units, in the same order, as the plan makes for
    those counts."""
    others = []
    for proc, running in _running(units, unit):
        others += process_instances(unit, proc, scale[proc]) if proc in (scale or {}) else running
    others += list(units.get('jobs') or [])
    return dict(units, instances=list(units.get('web') or []) + others, others=others)


def counts(units, unit):
    """How many instances of each process but web the app's ``units`` run ({process: count}, 0 included)."""
    return {proc: len(running) for proc, running in _running(units, unit)}


def on_port(plan, port, answer=None, jobs=True, scale=None):
    """The plan as one host runs it: its web instances on ``port`` and the next one (the pair a host gave the app,
    pyfleet.deploy.app_ports) and, for a gunicorn app, as gunicorn's ``answer`` on the host settles them
    (module_utils/gunicorn.py: a loopback port for reuse_port, the app's own timeouts); without its scheduled jobs
    (``jobs`` false) on every host but the one that runs them; with the process counts playbooks/scale.yml kept
    on the host (``scale``). The plan itself when nothing changes."""
    if scale:
        new = scaled(plan['units'], plan['layout']['unit_prefix'], scale)
        if new != plan['units']:
            plan = _plain(plan)
            plan['units'] = new
    if not jobs and plan.get('jobs'):
        plan = _plain(plan)
        timers = plan['units']['jobs']
        files = set(timers) | {t[:-len('.timer')] + '.service' for t in timers}
        plan['jobs'], plan['units']['jobs'] = [], []
        for key in ('instances', 'others', 'templates'):
            plan['units'][key] = [u for u in plan['units'][key] if u not in files]
    web = plan.get('web')
    if not web:
        return plan
    settled = gunicorn.settle(answer, web.get('config') or 'the gunicorn configuration') \
        if answer and web.get('mode') == 'gunicorn' else None
    port = int(port or 0) or web.get('port')
    if port == web.get('port') and (settled is None or (settled['bind'] == web.get('bind')
                                                        and settled == web.get('gunicorn'))):
        return plan
    plan = _plain(plan)
    if settled is not None:
        plan['web'].update(bind=settled['bind'], gunicorn=settled)
    _place_web(plan, int(port))
    return plan


def health_path(web, setting=''):
    """The path the app is asked for its health on: the setting (app_switch_health_path), else what the app's
    platform files say (the plan's ``web.health.path``), else /. The blue/green gate and the load balancer's
    check ask the same one."""
    return setting or ((web or {}).get('health') or {}).get('path') or '/'


def site_host(server_names=()):
    """The Host the site answers to on the host (nginx's first server name that is not the catch-all ``_``, else
    localhost): what the health checks send, through nginx and through the load balancer."""
    return next((n for n in server_names or () if n != '_'), 'localhost')


_SIZE_RE = re.compile(r'^([0-9]+(?:\.[0-9]+)?)([KMGT]?)$')
_PERCENT_RE = re.compile(r'^([0-9]+(?:\.[0-9]+)?)%$')
_MIB = {'': 1.0 / 1048576, 'K': 1.0 / 1024, 'M': 1.0, 'G': 1024.0, 'T': 1048576.0}


def slice_limits(memory_max='', cpu_quota='', tasks_max=1024):
    """The app's slice limits as systemd takes them (MemoryMax=, CPUQuota=, TasksMax=), with the memory limit also
    in MiB (``memory_mb``) or in percent of the host's memory (``memory_percent``), which WEB_CONCURRENCY is worked
    out from; ``error`` says what systemd would not read (it ignores such a limit, and says so only in its
    journal), '' when all is well."""
    memory, cpu, tasks = (str(v if v is not None else '').strip() for v in (memory_max, cpu_quota, tasks_max))
    out = dict(memory_max=memory, cpu_quota=cpu, tasks_max=tasks, memory_mb=0, memory_percent=0, error='')
    size, pct = _SIZE_RE.match(memory), _PERCENT_RE.match(memory)
    if size:
        out['memory_mb'] = int(float(size.group(1)) * _MIB[size.group(2)])
    elif pct:
        out['memory_percent'] = int(float(pct.group(1)))
    ok = ((not memory or size or pct or memory == 'infinity') and (not cpu or _PERCENT_RE.match(cpu))
          and (re.match(r'^[1-9][0-9]*$', tasks) or _PERCENT_RE.match(tasks) or tasks == 'infinity'))
    if not ok:
        out['error'] = ("pyfleet: the app's limits are not systemd's (pyfleet_memory_max %s, pyfleet_cpu_quota %s, "
                        "pyfleet_tasks_max %s). Give pyfleet_memory_max as bytes with K, M, G or T (768M), a percentage "
                        "of the host's memory or infinity; pyfleet_cpu_quota as a percentage of one core (150%%); "
                        "pyfleet_tasks_max as a number, a percentage or infinity."
                        % tuple(json.dumps(v) for v in (memory, cpu, tasks)))
    return out


def layout(name, apps_root='/srv', config_root='/etc/pyfleet', release_cache='~/.cache/pyfleet/releases'):
    """Every path of an app's host layout, from its name and the roots (the plan's layout; the rollback and
    release list find an app's releases by it, without its source)."""
    root = os.path.join(apps_root, name)
    env_dir = os.path.join(config_root, name)
    unit = 'pyfleet-%s' % name
    return {
        'root': root, 'releases': root + '/releases', 'venvs': root + '/venvs', 'shared': root + '/shared',
        'cache': root + '/cache', 'current': root + '/current',
        # root's: each release's marks (<id>.checked, <id>.failed) and, once it was live, the snapshot of its
        # configuration (<id>.config/)
        'state': root + '/state',
        'env_dir': env_dir, 'env_file': env_dir + '/env',
        # under /var/lib and /run, as systemd's StateDirectory= and RuntimeDirectory= take them
        'state_dir': 'pyfleet/%s' % name, 'runtime_dir': unit,
        'unit_prefix': unit, 'target': unit + '.target', 'nft_table': 'pyfleet_' + name.replace('-', '_'),
        # every process of the app (web instances, processes, build steps, one-offs) runs in it, under its
        # limits. A "-" in a slice's name nests it in another ("pyfleet-my-app" in "pyfleet-my"), so the
        # app's name is escaped there as systemd escapes it ("pyfleet-my\\x2dapp.slice")
        'slice': 'pyfleet-%s.slice' % name.replace('-', '\\x2d'),
        # every build step runs as this one unit, one at a time; a deploy waits while it runs (a killed
        # deploy's step runs on to its end)
        'build_unit': unit + '-build.service',
        # root's: which release each web instance runs (slots/<port> -> releases/<id>), and which instance
        # nginx proxies to (the live one)
        'slots': root + '/slots', 'upstream_conf': '/etc/nginx/pyfleet/%s.upstream.conf' % name,
        # one deploy of the app at a time (a reboot, which ends any deploy, clears it)
        'lock': '/run/lock/pyfleet/%s.deploy' % name,
        # the app's nginx site (nginx_site writes it there)
        'site_conf': '/etc/nginx/sites-enabled/pyfleet-%s.conf' % name,
        'release_cache': os.path.join(os.path.expanduser(release_cache), name),
    }


def derive(plan, p, env, findings):
    """Add the contract's keys to ``plan`` (in place) for the inputs ``p`` (see ARGUMENT_SPEC)."""
    p = dict({k: v.get('default') for k, v in ARGUMENT_SPEC.items()}, **{k: v for k, v in p.items() if v is not None})
    name = p['name'] or default_name(plan['src'])
    plan['schema'] = SCHEMA_VERSION
    plan['name'] = name
    # (no source, no name to judge: src-missing says what to do)
    if not NAME_RE.match(name) and (p['name'] or os.path.isdir(plan['src'] or '')):
        findings.add('app-name-invalid',
                     'The app name "%s"%s is not usable: it names the account, the paths and the units.'
                     % (name, '' if p['name'] else ' (from the source directory\'s name)'),
                     'Set one of lower case letters, digits and "-", starting with a letter, at most 31 characters: '
                     '-e pyfleet_name=NAME.')
    check_inputs(p, findings)
    unit = 'pyfleet-%s' % name
    plan['layout'] = layout(name, p['apps_root'], p['config_root'], p['release_cache'])

    python = plan.get('python')
    if python:
        prefix = os.path.join(p['pyenv_root'], 'versions', python['version'])
        python.update(prefix=prefix, interpreter=prefix + '/bin/python3')
    plan['venv'] = None
    if python and plan['package_manager'] and not plan['errors'] and not findings.errors():
        lock = lock_inputs(plan, plan['src'], python['interpreter'], p['pip_spec'], p['uv_spec'], p['extra_specs'], env)
        key = _digest(lock)[:16]
        seed = plan['package_manager'] in ('pip', 'pipenv', 'poetry') and _vtuple(python['version']) >= (3, 10, 9)
        # with a local package, the install runs in a copy of the requirement files and those packages
        # inside the virtualenv (<path>/src), so an editable one points into the virtualenv, which lives
        # as long as its key, and never into a release that cleanup deletes
        local = local_packages(plan)
        stage = sorted(set(((plan.get('requirements') or {}).get('files') or []) + list(local))) if local else []
        plan['venv'] = {'key': key, 'path': '%s/%s' % (plan['layout']['venvs'], key), 'lock': lock,
                        'seed': seed, 'stage': stage}

    web = plan.get('web')
    counts = p['process_counts'] or {}
    others = []
    for proc in plan['processes']:
        if proc != 'web':
            others += process_instances(unit, proc, counts.get(proc, 1))
    # each scheduled job: a timer (wanted by the app's target, restarted with the other processes) and the
    # service it starts, on the one host that runs the jobs (on_port)
    timers = ['%s-%s.timer' % (unit, job['name']) for job in plan.get('jobs') or []]
    others += timers
    plan['units'] = {'instances': list(others), 'web': [], 'others': others, 'jobs': timers,
                     'templates': ['%s-%s@.service' % (unit, proc)
                                   for proc in (['web'] if web else []) + [n for n in plan['processes'] if n != 'web']]
                     + [t for timer in timers for t in (timer[:-len('.timer')] + '.service', timer)]}
    if web:
        # 0: the app's own pair on each host (the deploy finds it there: pyfleet.deploy.app_ports), 8000 here
        web['port_auto'] = not int(p['web_port'])
        _place_web(plan, int(p['web_port']) or DEFAULT_PORT)
    django = plan.get('django') or {}
    plan['build'] = {
        'collectstatic': bool(django.get('collectstatic')),
        'migrate': bool(django.get('migrate')),
        'import_check': (web or {}).get('wsgi_app') if p['import_check'] and (web or {}).get('mode') == 'gunicorn' else None,
        # gunicorn asked what it will do with the app's config, in the build sandbox (and the WSGI app imported as
        # gunicorn imports it, unless import_check is off): python -c script, then args with the release's chdir
        'ask_gunicorn': {'script': gunicorn.SCRIPT, 'load': bool(p['import_check']), 'chdir': web.get('chdir') or '.',
                         'args': list(web.get('gunicorn_args') or []), 'app': web.get('wsgi_app'),
                         'config': web.get('config')} if (web or {}).get('mode') == 'gunicorn' else None,
        'release': (plan.get('release') or {}).get('command'),
        # Heroku's build hooks, when the app has them: bin/pre_compile before the virtualenv is built,
        # bin/post_compile after collectstatic
        'pre_compile': _hook(plan['src'], 'bin/pre_compile'),
        'post_compile': _hook(plan['src'], 'bin/post_compile'),
    }
    return plan


def check_schema(plan):
    """The plan's keys against SCHEMA: a list of problems, empty when it keeps the contract."""
    types = {'int': int, 'bool': bool, 'str': str, 'dict': dict, 'list': list}
    problems = ['missing key %s' % k for k in SCHEMA if k not in plan]
    problems += ['undeclared key %s' % k for k in plan if k not in SCHEMA]
    for key, (kind, dummy) in SCHEMA.items():
        if key in plan:
            value = plan[key]
            if value is None and kind.endswith('?'):
                continue
            if not isinstance(value, types[kind.rstrip('?')]):
                problems.append('%s is %s, not %s' % (key, type(value).__name__, kind))
    return problems


# what a collection's own files are: a change to any of them (a template, a role's task, a module) changes what a
# deploy makes of the same inputs
COLLECTION_PARTS = ('galaxy.yml', 'MANIFEST.json', 'meta', 'playbooks', 'plugins', 'roles')


def collection_digest(root):
    """sha256 of the collection's own files under ``root`` (their paths and contents; caches left out)."""
    digest = hashlib.sha256()
    for part in COLLECTION_PARTS:
        top = os.path.join(root, part)
        paths = [top] if os.path.isfile(top) else []
        for base, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d != '__pycache__')
            paths += [os.path.join(base, f) for f in sorted(files) if not f.endswith(('.pyc', '.pyo'))]
        for path in paths:
            digest.update(os.path.relpath(path, root).encode() + b'\0')
            with open(path, 'rb') as fh:
                digest.update(hashlib.sha256(fh.read()).digest())
    return digest.hexdigest()


def fingerprint(values, root):
    """The fingerprint of what a run asks a host for: ``values`` (the plan, the release, every input and role
    variable; any JSON-able mapping) and the collection at ``root`` that makes them into files and units. Equal
    inputs give equal fingerprints in any order of keys."""
    text = json.dumps(_plain(values), sort_keys=True, separators=(',', ':'), default=str)
    return hashlib.sha256((collection_digest(root) + '\n' + text).encode()).hexdigest()


def run_line(spec, unit, venv, workdir='', writable=()):
    """The systemd-run command line that runs the app's code as its own processes run: as the app's user
    (``spec['user']``), with its environment file and its state directory as HOME, its virtualenv ``venv``
    first on PATH, DJANGO_SETTINGS_MODULE, in the app's slice (``spec['slice']``, when given: its limits)
    and its sandbox (``spec['sandbox']``, systemd properties), as the
    transient unit ``unit``, waiting for it and passing its output through. ``writable``: the paths it may
    write (one that does not exist is skipped); ``workdir``: where it starts. The command follows ``--``."""
    argv = ['systemd-run', '--quiet', '--wait', '--pipe', '--collect', '--service-type=exec', '--unit=' + unit,
            '--uid=' + spec['user'], '--gid=' + spec['user'],
            '--property=EnvironmentFile=' + spec['env_file'],
            '--setenv=HOME=/var/lib/' + spec['state_dir'], '--property=StateDirectory=' + spec['state_dir'],
            '--property=StateDirectoryMode=0700',
            '--setenv=PATH=' + venv + '/bin:/usr/local/bin:/usr/bin:/bin',
            '--setenv=DJANGO_SETTINGS_MODULE=' + (spec.get('django_settings') or '')]
    if spec.get('slice'):
        argv.append('--slice=' + spec['slice'])
    argv += ['--property=%s=%s' % (k, v) for k, v in (spec.get('sandbox') or {}).items()]
    if writable:
        argv.append('--property=ReadWritePaths=' + ' '.join('-' + w for w in writable))
    if workdir:
        argv.append('--working-directory=' + workdir)
    return argv


def _tasks_publish(tasks, names):
    """Add to ``names`` what ``tasks`` (a list of tasks, blocks included) set as facts or register."""
    for task in tasks if isinstance(tasks, list) else []:
        if not isinstance(task, dict):
            continue
        for key in ('block', 'rescue', 'always'):
            _tasks_publish(task.get(key), names)
        if isinstance(task.get('register'), str):
            names.add(task['register'])
        for module in ('ansible.builtin.set_fact', 'set_fact'):
            if isinstance(task.get(module), dict):
                names.update(k for k in task[module] if k != 'cacheable')
        plays_tasks = [task.get(key) for key in ('pre_tasks', 'tasks', 'post_tasks', 'handlers')]
        for part in plays_tasks:
            _tasks_publish(part, names)


def _role_files(root):
    """The YAML files of the roles and playbooks under ``root`` that role_inputs reads, in order."""
    paths = []
    for top in ('roles', 'playbooks'):  # (a checkout's root also holds .venv, caches, tests: never walked)
        for base, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(d for d in dirs if d not in ('__pycache__', 'tests', 'molecule'))
            paths += [os.path.join(base, f) for f in sorted(files) if f.endswith(('.yml', '.yaml'))]
    return paths


def role_inputs_cached(root, cache_dir):
    """role_inputs(root), kept in ``cache_dir`` under a key made of each file's path, size and modification time:
    it parses every YAML file of the roles and playbooks (some 50 ms), which a deploy would do once per host and
    run; the key is a walk and a stat of each. A cache that cannot be read or written is left aside."""
    stats = []
    for path in _role_files(root):
        st = os.stat(path)
        stats.append('%s %d %d' % (os.path.relpath(path, root), st.st_size, st.st_mtime_ns))
    key = hashlib.sha256('\n'.join(stats).encode()).hexdigest()[:32]
    path = os.path.join(cache_dir, 'role-inputs-%s.json' % key)
    try:
        with open(path) as fh:
            names = json.load(fh)
        if isinstance(names, list):
            return names
    except (OSError, ValueError):
        pass
    names = role_inputs(root)
    try:
        os.makedirs(cache_dir, exist_ok=True)
        for old in os.listdir(cache_dir):   # what earlier versions of the files gave
            if old.startswith('role-inputs-') and old != os.path.basename(path):
                os.unlink(os.path.join(cache_dir, old))
        tmp = '%s.%d' % (path, os.getpid())
        with open(tmp, 'w') as fh:
            json.dump(names, fh)
        os.replace(tmp, path)
    except OSError:
        pass
    return names


def role_inputs(root):
    """The role variables a user may set, by name: every option of the roles' argument specs (each entry point)
    under ``root``, less what the collection's own tasks set as a fact or register (a role's published
    results, such as app_release_dir, which an earlier deploy in the same run leaves behind). Sorted."""
    import yaml  # the controller's (ansible-core needs it); a host never calls this

    options, published = set(), set()
    for path in _role_files(root):
        rel = os.path.relpath(path, root).split(os.sep)
        with open(path) as fh:
            data = yaml.load(fh, Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader))
        if rel[0] == 'roles' and rel[2:] == ['meta', 'argument_specs.yml']:
            for entry in (data or {}).get('argument_specs', {}).values():
                options.update((entry or {}).get('options') or {})
        elif rel[0] == 'playbooks' or (len(rel) > 2 and rel[2] in ('tasks', 'handlers')):
            _tasks_publish(data, published)
    return sorted(options - published)


def role_defaults(root):
    """name -> the raw value (as written, untemplated) of every role default under ``root``."""
    import yaml

    defaults = {}
    roles = os.path.join(root, 'roles')
    for role in sorted(os.listdir(roles)) if os.path.isdir(roles) else []:
        path = os.path.join(roles, role, 'defaults', 'main.yml')
        if os.path.isfile(path):
            with open(path) as fh:
                defaults.update(yaml.load(fh, Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader)) or {})
    return defaults


_ENV_LINE_RE = re.compile(r'^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$')


def env_text(text, what='pyfleet_env'):
    """An environment given as text (an AWX survey's field): ``NAME=value`` lines, as a .env file or
    ``heroku config`` has them; blank lines and ``#`` comments are skipped, ``export`` is allowed, and a
    value wholly in single or double quotes loses them. A mapping is returned as it is. ValueError names the
    line that is not one."""
    if isinstance(text, dict):
        return text
    env = {}
    for n, line in enumerate(str(text or '').splitlines(), 1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        m = _ENV_LINE_RE.match(line)
        if not m:
            raise ValueError('%s, line %d: %r is not NAME=value. Write one variable a line, as NAME=value '
                             '(or give %s as a mapping).' % (what, n, line[:80], what))
        value = m.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in '\'"':
            value = value[1:-1]
        env[m.group(1)] = value
    return env
