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
