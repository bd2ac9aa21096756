"""The health gate (module_utils/health.py): a deadline in seconds, 2xx/3xx only, the site's Host, a body."""
import http.server
import socketserver
import threading

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import health


def params(**kw):
    """The module's parameters as AnsibleModule hands them over: the spec's defaults, then ``kw``."""
    out = {k: v.get('default') for k, v in health.ARGUMENT_SPEC.items()}
    out.update(kw)
    return out


class FakeClock(object):
    """Time that passes only when the gate sleeps or a request takes time."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def answers(clock, seq, cost=0.0):
    """A fetch that gives the answers in ``seq`` (the last one forever), each taking ``cost`` seconds."""
    calls = []

    def get(url, host, timeout):
        calls.append((url, host, timeout))
        clock.now += min(cost, timeout)
        return seq[min(len(calls), len(seq)) - 1]
    return get, calls


def test_the_timeout_is_seconds_not_retries():
    clock = FakeClock()
    get, calls = answers(clock, [(502, 'Bad Gateway')], cost=0.4)
    res = health.wait_healthy('http://127.0.0.1/', timeout=10, interval=1, clock=clock, sleep=clock.sleep, get=get)
    assert not res['ok'] and res['status'] == 502
    assert 9.9 <= res['elapsed'] <= 10.5, res        # 60 retries of 1 s + a round-trip once took 92 s
    # 0.4 s a try; pauses of 0.1 s in the first 5 s (eleven tries start in them), then of 1 s: four more by 10 s
    assert len(calls) == res['attempts'] == 15


def test_a_slow_request_never_runs_past_the_deadline():
    clock = FakeClock()
    get, calls = answers(clock, [(None, 'timed out')], cost=30)
    res = health.wait_healthy('http://127.0.0.1/', timeout=7, request_timeout=5, clock=clock, sleep=clock.sleep, get=get)
    # 5 s (the quick first seconds are over), a pause of the interval, 1 s left
    assert [round(c[2], 1) for c in calls] == [5.0, 1.0] and res['elapsed'] <= 7.1


def test_a_server_that_was_just_started_is_seen_within_a_tenth_of_a_second():
    # gunicorn answers 1.05 s after its start: a try every 0.1 s sees it by 1.1 s (doubling pauses saw it at 1.5 s)
    clock = FakeClock()
    start = clock.now

    def get(url, host, timeout):
        return (200, 'ok') if clock.now - start >= 1.05 else (None, 'Connection refused')
    res = health.wait_healthy('http://127.0.0.1/', clock=clock, sleep=clock.sleep, get=get)
    assert res['ok'] and res['elapsed'] <= 1.15 and res['attempts'] == 12


def test_healthy_as_soon_as_it_answers():
    clock = FakeClock()
    get, calls = answers(clock, [(None, 'Connection refused'), (502, ''), (200, 'hello')])
    res = health.wait_healthy('http://127.0.0.1/', host='shop.example.com', clock=clock, sleep=clock.sleep, get=get)
    assert res['ok'] and res['attempts'] == 3 and res['status'] == 200 and res['why'] is None
    assert {c[1] for c in calls} == {'shop.example.com'}


@pytest.mark.parametrize('status,body,expect,why', [
    (200, 'ok', '', None),
    (301, '', '', None),
    (204, '', '', None),
    (400, 'Bad Request (400)', '', 'status 400 is not an accepted one'),   # Django's DisallowedHost
    (404, 'nope', '', 'status 404 is not an accepted one'),
    (500, 'boom', '', 'status 500 is not an accepted one'),
    (200, '<title>Shop</title>', r'<title>Shop', None),
    (200, 'maintenance', r'<title>Shop', "the body does not match '<title>Shop'"),
    (None, 'Connection refused', '', 'no answer (Connection refused)'),
])
def test_what_counts_as_healthy(status, body, expect, why):
    assert health.judge(status, body, health.DEFAULT_STATUSES, expect) == why


def test_a_failure_says_the_last_status_and_the_first_lines_of_the_body():
    clock = FakeClock()
    body = '\n'.join('line %d' % n for n in range(1, 40))
    get, dummy = answers(clock, [(500, body)], cost=1)
    res = health.wait_healthy('http://127.0.0.1/', timeout=3, clock=clock, sleep=clock.sleep, get=get)
    assert res['body'] == '\n'.join('line %d' % n for n in range(1, 6))
    assert health.run_task(params(url='http://127.0.0.1/', body='('))['failed']
    assert 'hints' in health.run_task(params(url='http://127.0.0.1/', hints=[{'match': '[', 'text': 'x'}]))['msg']


def test_a_failure_is_said_once_with_what_serves_the_journal_and_a_hint():
    res = {'ok': False, 'status': 400, 'why': 'status 400 is not an accepted one', 'body': 'Bad Request (400)',
           'attempts': 11, 'elapsed': 10.0}
    p = params(url='http://127.0.0.1:8001/', timeout=10, name='shop', outcome='The live release, r1, kept serving.',
               journal_unit='shop-web@8001.service', journal_lines=5,
               hints=[{'match': 'Read-only file system', 'text': 'Hint: the sandbox.'},
                      {'match': '^status 400$', 'text': 'Hint: ALLOWED_HOSTS.'}])
    msg = health.failure(p, res, read_journal=lambda unit, n: 'line one\nline two')
    assert msg.splitlines() == [
        'pyfleet: shop http://127.0.0.1:8001/ did not answer as healthy within 10 s (11 tries): '
        'status 400 is not an accepted one.',
        'Last status: 400; its body began:', '  Bad Request (400)', 'The live release, r1, kept serving.',
        'Last journal lines (shop-web@8001.service):', 'line one', 'line two', 'Hint: ALLOWED_HOSTS.']
    # no answer at all, and no body, says so; without a unit there is no journal
    msg = health.failure(dict(p, journal_unit=''), dict(res, status=None, body='', why='no answer (refused)'),
                         read_journal=lambda unit, n: 'never read')
    assert msg.splitlines()[1:] == ['Last status: no answer', 'The live release, r1, kept serving.']
    # the journal is read against the hints too
    msg = health.failure(p, dict(res, status=500), read_journal=lambda unit, n: 'OSError: Read-only file system')
    assert msg.splitlines()[-1] == 'Hint: the sandbox.'
    # the setting that gives the limit is named; when nothing ever answered, it says to raise it
    msg = health.failure(dict(p, timeout_setting='app_switch_health_timeout', journal_unit=''),
                         dict(res, status=None, body='', why='no answer (refused)'), read_journal=lambda unit, n: '')
    assert msg.splitlines()[0].startswith('pyfleet: shop http://127.0.0.1:8001/ did not answer as healthy within 10 s, '
                                          'the limit app_switch_health_timeout sets (11 tries)')
    assert msg.splitlines()[-1] == 'If the app needs longer to start, raise app_switch_health_timeout (seconds).'


class Handler(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        Handler.seen.append(self.headers.get('Host'))
        if self.path == '/moved':
            self.send_response(301)
            self.send_header('Location', '/elsewhere')
            self.end_headers()
            return
        code = 200 if self.headers.get('Host') == 'shop.example.com' else 400
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b'<title>Shop</title>\n' if code == 200 else b'Bad Request (400)\n')

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()


def test_a_real_site_on_loopback_with_its_host_and_no_redirects(site):
    ok = health.run_task(params(url=site + '/', host='shop.example.com', status_codes=None, body='<title>Shop',
                              timeout=3, interval=0.2, request_timeout=1, unix_socket=None))
    assert ok['ok'] and ok['status'] == 200 and 'failed' not in ok
    bad = health.run_task(params(url=site + '/', host=None, status_codes=None, body='', timeout=0.5, interval=0.2,
                               request_timeout=1, unix_socket=None))
    assert bad['failed'] and bad['status'] == 400 and 'within 0.5 s' in bad['msg'] and 'Bad Request' in bad['msg']
    assert 'body' not in bad     # said once, in the message
    moved = health.run_task(params(url=site + '/moved', host='shop.example.com', status_codes=None, body='',
                                 timeout=1, interval=0.2, request_timeout=1, unix_socket=None))
    assert moved['ok'] and moved['status'] == 301
    assert Handler.seen[0] == 'shop.example.com'
    assert health.fetch('http://127.0.0.1:9/', timeout=0.5)[0] is None


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def test_a_gunicorn_instance_is_asked_on_its_own_unix_socket(tmp_path):
    path = str(tmp_path / 'web-8001.sock')
    server = UnixServer(path, Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ok = health.run_task(params(url='http://localhost/', host='shop.example.com', status_codes=None, body='Shop',
                                  timeout=3, interval=0.2, request_timeout=1, unix_socket=path))
        assert ok['ok'] and ok['status'] == 200
        bad = health.run_task(params(url='http://localhost/', host=None, status_codes=None, body='', timeout=0.3,
                                   interval=0.1, request_timeout=1, unix_socket=path))
        assert bad['failed'] and bad['status'] == 400 and ('(on %s)' % path) in bad['msg']
    finally:
        server.shutdown()
        server.server_close()
    gone = health.run_task(params(url='http://localhost/', host=None, status_codes=None, body='', timeout=0.3,
                                interval=0.1, request_timeout=1, unix_socket=path))
    assert gone['failed'] and gone['status'] is None and gone['why'].startswith('no answer')


def test_a_process_that_exits_at_start_ends_the_wait_at_once():
    clock = FakeClock()
    get, calls = answers(clock, [(None, 'no answer ([Errno 2] No such file or directory)')], cost=0.01)
    tries = []

    def gone():
        tries.append(clock.now)
        return 'its process exited (status 1, exit-code)' if len(tries) >= 2 else None
    res = health.wait_healthy('http://127.0.0.1/', timeout=60, clock=clock, sleep=clock.sleep, get=get, gone=gone)
    assert not res['ok'] and res['why'].startswith('its process exited') and len(calls) == 2 and res['elapsed'] < 1
