# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health gate: poll an HTTP URL on the host until it answers as healthy, or a deadline in seconds passes.

Plain Python (the standard library only), so the module pyfleet.deploy.http_check runs it on the host in one
round-trip: the deadline is wall-clock seconds on the host, not a count of retries that each cost a
connection. Healthy means an accepted status (by default 2xx and 3xx: a 400 from Django's DisallowedHost
is not healthy) and, when asked, a body that matches a regular expression. Redirects are not followed (a
3xx is the answer), and the request carries the site's real Host.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from ansible_collections.pyfleet.deploy.plugins.module_utils import report

DEFAULT_STATUSES = tuple(range(200, 400))
BODY_LINES = 5          # of the last answer, in a failure's message
BODY_BYTES = 65536      # read at most this much of an answer
FIRST_PAUSE = 0.1       # seconds between tries while the wait is young (QUICK_SECONDS), then ``interval``
QUICK_SECONDS = 5.0     # a server that was just started answers within them, most within one


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix socket (gunicorn's, as nginx reaches it)."""

    def __init__(self, path, timeout):
        super().__init__('localhost', timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def _fetch_unix(path, url, headers, timeout):
    parts = urllib.parse.urlsplit(url)
    conn = _UnixConnection(path, timeout)
    try:
        conn.request('GET', (parts.path or '/') + ('?' + parts.query if parts.query else ''), headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read(BODY_BYTES).decode('utf-8', 'replace')
    except (OSError, http.client.HTTPException) as exc:
        return None, str(exc) or type(exc).__name__
    finally:
        conn.close()


def fetch(url, host=None, timeout=5.0, unix_socket=None):
    """(status, body text) of one GET; (None, error text) when there is no HTTP answer. With
    ``unix_socket``, the request goes to that socket; the URL gives its path (and the Host, by default)."""
    headers = {'User-Agent': 'pyfleet-health-check', 'Accept': '*/*'}
    if host:
        headers['Host'] = host
    if unix_socket:
        headers.setdefault('Host', urllib.parse.urlsplit(url).netloc or 'localhost')
        return _fetch_unix(unix_socket, url, headers, timeout)
    context = ssl.create_default_context()
    context.check_hostname = False          # the site's own certificate, asked for on 127.0.0.1
    context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=timeout) as resp:
            return resp.status, resp.read(BODY_BYTES).decode('utf-8', 'replace')
    except urllib.error.HTTPError as exc:    # 3xx (not followed), 4xx and 5xx are answers too
        try:
            body = exc.read(BODY_BYTES).decode('utf-8', 'replace')
        except Exception:  # pragma: no cover - a reset while reading the error body
            body = ''
        return exc.code, body
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, 'reason', exc))


def judge(status, body, statuses=DEFAULT_STATUSES, expect=''):
    """None when the answer is healthy, else why not (one line)."""
    if status is None:
        return 'no answer (%s)' % body
    if status not in statuses:
        return 'status %d is not an accepted one' % status
    if expect and not re.search(expect, body):
        return 'the body does not match %r' % expect
    return None


def wait_healthy(url, host=None, statuses=DEFAULT_STATUSES, expect='', timeout=60.0, interval=1.0,
                 request_timeout=5.0, clock=time.monotonic, sleep=time.sleep, get=fetch, unix_socket=None,
                 gone=None):
    """Poll ``url`` (or each of a list of urls in turn, any of which answering as healthy is enough: LeanEngine's
    probe) until it answers as healthy or ``timeout`` seconds have passed; never much longer. For the first
    QUICK_SECONDS it tries every FIRST_PAUSE (a request to a server on the host costs next to nothing, and a
    switch waits on this), then every ``interval``. ``gone``, when given, is asked
    after each try that was not healthy: a reason (the process it asks exited) ends the wait at once.

    Returns a dict: ok, status (the last), why (the last reason it was not healthy), body (its first
    lines), attempts, elapsed (seconds).
    """
    urls = [url] if isinstance(url, str) else list(url)
    start = clock()
    deadline = start + float(timeout)
    attempts = 0
    status, body, why = None, '', 'not tried'
    while True:
        attempts += 1
        for one in urls:
            status, body = get(one, host, max(0.1, min(float(request_timeout), deadline - clock())), **(
                {'unix_socket': unix_socket} if unix_socket else {}))
            why = judge(status, body, statuses, expect)
            if why is None:
                break
            if len(urls) > 1:
                why = '/%s: %s' % (one.split('/', 3)[-1] if one.count('/') >= 3 else '', why)
        if why is None:
            break
        ended = gone() if gone is not None else None
        if ended:
            why = ended
            break
        left = deadline - clock()
        if left <= 0:
            break
        # every 0.1 s at first (a server that was just started answers within a second or so, and each tenth
        # of a second waited here is one a switch waits), then every ``interval``
        sleep(min(float(interval), FIRST_PAUSE if clock() - start < QUICK_SECONDS else float(interval), left))
    head = '\n'.join((body or '').strip().splitlines()[:BODY_LINES])
    return {'ok': why is None, 'status': status, 'why': why, 'body': head, 'attempts': attempts,
            'elapsed': round(clock() - start, 2)}


# the health gate's options, as every module that asks an app takes them (doc fragment pyfleet.deploy.health)
CHECK_SPEC = dict(
    status_codes=dict(type='list', elements='int'),
    body=dict(type='str', default=''),
    timeout=dict(type='float', default=60.0),
    interval=dict(type='float', default=1.0),
    name=dict(type='str', default=''),
    journal_lines=dict(type='int', default=30),
    hints=dict(type='list', elements='dict', default=[]),
    timeout_setting=dict(type='str', default=''),
)

ARGUMENT_SPEC = dict(
    CHECK_SPEC,
    url=dict(type='str', required=True),
    host=dict(type='str'),
    request_timeout=dict(type='float', default=5.0),
    unix_socket=dict(type='path'),
    outcome=dict(type='str', default=''),
    journal_unit=dict(type='str', default=''),
)


def journal(unit, lines):
    """The last ``lines`` lines of ``unit``'s journal, as text."""
    try:
        proc = subprocess.run(['journalctl', '--no-pager', '-o', 'short-iso', '-n', str(lines), '--unit=' + unit],
                              stdin=subprocess.DEVNULL, capture_output=True, check=False)
    except OSError as exc:
        return 'journalctl: %s' % (exc.strerror or exc)
    return (proc.stdout or proc.stderr).decode('utf-8', 'replace').rstrip()


def failure(p, res, read_journal=journal):
    """A failed check, said once: what did not answer and why, the last status and the body's first lines, what
    serves now (``outcome``), the journal's last lines and the first of ``hints`` whose match is found in
    "status <N>", the body or the journal."""
    log = read_journal(p['journal_unit'], p['journal_lines']) if p['journal_unit'] else ''
    status = res['status'] if res['status'] is not None else 'no answer'
    setting = p.get('timeout_setting') or ''
    return report.compose(
        '%s%s%s did not answer as healthy within %s s%s (%d tries): %s.' % (
            'pyfleet: %s ' % p['name'] if p['name'] else '',
            p['url'], ' (on %s)' % p['unix_socket'] if p['unix_socket'] else '', ('%g' % p['timeout']),
            ', the limit %s sets' % setting if setting else '', res['attempts'], res['why']),
        'Last status: %s%s' % (status, '; its body began:' if res['body'] else ''),
        ['  ' + line for line in res['body'].splitlines()],
        p['outcome'],
        ['Last journal lines (%s):' % p['journal_unit']] + log.splitlines() if p['journal_unit'] else [],
        report.first_hint('status %s\n%s\n%s' % (status, res['body'], log), p['hints']),
        ('If the app needs longer to start, raise %s (seconds).' % setting) if setting and res['status'] is None else '')


def run_task(p, read_journal=journal):
    """The module's result for validated parameters ``p``."""
    bad = report.bad_pattern([('body', p['body'])] + [('hints', h.get('match')) for h in p['hints']])
    if bad:
        return dict(failed=True, msg=bad)
    res = wait_healthy(p['url'], p['host'], tuple(p['status_codes'] or DEFAULT_STATUSES), p['body'], p['timeout'],
                       p['interval'], p['request_timeout'], unix_socket=p['unix_socket'])
    result = dict(changed=False, **res)
    if not res['ok']:
        result['failed'] = True
        result['msg'] = failure(p, res, read_journal)
        del result['body']      # in the message
    return result
