"""The bounded load client (testbed/load.py): it counts what fails, how long nothing answered, and stops by itself."""
import http.server
import os
import threading
import time

import pytest

from testbed import load


class Flaky(http.server.BaseHTTPRequestHandler):
    """Answers 200, except 502 while the class's window is open."""
    protocol_version = 'HTTP/1.1'
    broken = threading.Event()

    def do_GET(self):
        code = 502 if Flaky.broken.is_set() else 200
        body = b'ok\n'
        self.send_response(code)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield 'http://127.0.0.1:%d/' % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_clean_run_fails_nothing_and_stops_at_its_stop_file(site, tmp_path):
    stop = str(tmp_path / 'stop')
    threading.Timer(0.5, lambda: open(stop, 'w').close()).start()
    res = load.run(site, connections=3, max_seconds=30, stop_file=stop, interval=0.01)
    assert res['failed'] == 0 and res['sent'] > 10 and res['outage_s'] == 0.0
    assert res['seconds'] < 5 and not res['timed_out']


def test_failures_are_counted_with_the_time_nothing_answered(site):
    def window():
        time.sleep(0.3)
        Flaky.broken.set()
        time.sleep(0.5)
        Flaky.broken.clear()
    threading.Thread(target=window).start()
    res = load.run(site, connections=2, max_seconds=1.5, interval=0.01)
    assert res['failed'] > 0 and res['statuses']['502'] == res['failed']
    assert 0.4 <= res['outage_s'] <= 1.0 and res['first_failure']['status'] == 502
    assert res['timed_out']       # it stopped by itself, at its time limit


def test_no_answer_is_a_failure_too(tmp_path):
    res = load.run('http://127.0.0.1:9/', connections=1, max_seconds=0.3, interval=0.05, timeout=0.2)
    assert res['failed'] == res['sent'] > 0 and res['statuses'] == {'0': res['sent']}


def test_the_connections_are_bounded():
    with pytest.raises(ValueError):
        load.run('http://127.0.0.1:9/', connections=21, max_seconds=0.1)


class Closing(http.server.BaseHTTPRequestHandler):
    """Keeps connections alive, but closes each one, without an answer, at its third request (as nginx's
    old workers close idle keep-alive connections on a reload)."""
    protocol_version = 'HTTP/1.1'

    def handle(self):
        self.count = 0
        super().handle()

    def do_GET(self):
        self.count += 1
        if self.count == 3:
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header('Content-Length', '3')
        self.end_headers()
        self.wfile.write(b'ok\n')

    def log_message(self, *args):
        pass


def test_a_keep_alive_connection_closed_before_any_answer_is_sent_again_not_failed():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Closing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        res = load.run('http://127.0.0.1:%d/' % server.server_address[1], connections=2, max_seconds=0.5,
                       interval=0.01)
    finally:
        server.shutdown()
        server.server_close()
    assert res['failed'] == 0 and res['retried'] > 0 and res['sent'] > res['retried']
