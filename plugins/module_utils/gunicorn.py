# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What gunicorn will do with an app's configuration, asked of gunicorn itself.

A gunicorn config is Python (``gunicorn.conf.py``, ``-c FILE``, ``GUNICORN_CMD_ARGS``): it may set
``reuse_port`` in a branch, read ``PORT`` or ``WEB_CONCURRENCY`` from the environment, or compute a
timeout. Only gunicorn knows what it sets, so pyfleet asks it: ``SCRIPT`` runs in the release's
virtualenv, in the build sandbox, as the app's user, with the app's environment and ``PORT`` (the build
step "Ask gunicorn"). It builds gunicorn's own configuration exactly as ``gunicorn`` does from the same
command line (gunicorn's ``WSGIApplication``: its command line, the config file it finds, the
environment), imports the WSGI app the way gunicorn imports it (``module:app``, ``module:factory()``),
and prints one line: ``MARK`` and the settings pyfleet acts on, as JSON.

``settle`` says what pyfleet does with an answer (plain data, for the plan's web process):

- ``reuse_port``: SO_REUSEPORT, which a unix socket does not support (every worker fails with
  "[Errno 95] Operation not supported"), so gunicorn gets a loopback port instead of its socket;
- ``timeout`` and ``graceful_timeout``, when the app sets them, are the app's: pyfleet passes its own
  only when the app does not (a command-line option would win over the app's file);
- a ``bind`` of the app's is replaced by pyfleet's (nginx reaches the app there): a note says so.

Plain Python: the plan (on the controller) and the filter ``plan_on_port`` use it; ``SCRIPT`` runs on
the host.
"""

from __future__ import annotations

import json

MARK = 'pyfleet-gunicorn: '

# run as: python -c SCRIPT IMPORT [gunicorn's command line], IMPORT "1" to import the WSGI app too
SCRIPT = r'''
import json, sys
load = sys.argv.pop(1) == "1"
sys.argv[0] = "gunicorn"
from gunicorn.app.wsgiapp import WSGIApplication
try:
    from gunicorn import __version__ as version
except ImportError:
    version = ""
app = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn")
cfg = app.cfg
def plain(value):
    return value if isinstance(value, (bool, int, float, str, type(None))) else str(value)
changed = []
for key, setting in sorted(cfg.settings.items()):
    try:
        if not callable(setting.value) and setting.value != setting.validator(setting.default):
            changed.append(key)
    except Exception:
        pass
if load:
    wsgi = app.wsgi()
    assert callable(wsgi), "%s is not callable" % app.app_uri
answer = {"version": version, "set": changed, "app": app.app_uri,
          "bind": [plain(b) for b in (getattr(cfg, "bind", None) or [])]}
for key in ("reuse_port", "timeout", "graceful_timeout", "workers", "worker_class_str", "preload_app", "keepalive"):
    answer[key] = plain(getattr(cfg, key, None))
print("''' + MARK + r'''" + json.dumps(answer, sort_keys=True))
'''

# what gunicorn's own settings decide that pyfleet passes too: the app's value wins when it set one
OWN = ('timeout', 'graceful_timeout')
# pyfleet's own, whatever the app sets: where nginx reaches it, and whom it trusts for X-Forwarded-*
REPLACED = ('bind', 'forwarded_allow_ips')


def argv(load, chdir, args, wsgi_app):
    """The ask's command line after ``python -c SCRIPT``: as the web unit runs gunicorn (its --chdir, the
    Procfile's options, the app), without pyfleet's own options, so the answer is the app's."""
    return ['1' if load else '0', '--chdir', chdir] + list(args or []) + ([wsgi_app] if wsgi_app else [])


def read(stdout):
    """The answer in a step's output (its last line that starts with MARK), or None."""
    for line in reversed((stdout or '').splitlines()):
        if line.startswith(MARK):
            try:
                answer = json.loads(line[len(MARK):])
            except ValueError:
                return None
            return answer if isinstance(answer, dict) else None
    return None


def settle(answer, config='the gunicorn configuration'):
    """What pyfleet does with gunicorn's ``answer`` (see the module's text): a dict with ``bind`` (``tcp`` for
    a loopback port, ``unix`` for its socket), ``own`` (the settings the app sets that pyfleet leaves to it:
    OWN's that the app set), ``graceful_timeout`` (what gunicorn gives a worker at a stop) and ``notes``
    (what the deploy says: findings, code, file, message and fix)."""
    answer = answer or {}
    changed = set(answer.get('set') or [])
    notes = []
    tcp = bool(answer.get('reuse_port'))
    if tcp:
        notes.append({'code': 'gunicorn-reuse-port', 'file': config,
                      'message': '%s sets reuse_port (SO_REUSEPORT, which a unix socket does not support): gunicorn '
                                 'listens on 127.0.0.1 on the web port ($PORT) instead of its socket, closed to other '
                                 'machines.' % config,
                      'fix': 'Nothing to do.'})
    if 'bind' in changed:
        notes.append({'code': 'gunicorn-bind-ignored', 'file': config,
                      'message': '%s binds %s; pyfleet binds gunicorn to %s, where nginx reaches it.'
                                 % (config, ', '.join(answer.get('bind') or []) or '-',
                                    '127.0.0.1:$PORT' if tcp else 'its socket'),
                      'fix': 'Nothing to do; bind to os.environ["PORT"] (or leave bind out) to silence this.'})
    own = sorted(k for k in OWN if k in changed)
    graceful = answer.get('graceful_timeout')
    return {'bind': 'tcp' if tcp else 'unix', 'own': own,
            'graceful_timeout': graceful if isinstance(graceful, (int, float)) and 'graceful_timeout' in own else None,
            'notes': notes}
