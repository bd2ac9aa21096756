#!/usr/bin/env python3
"""A bounded load client for the test bed: at most 20 connections, and it always stops by itself.

It sends GET requests to one URL from N threads (each keeps one connection and opens a new one after an
error) until a stop file appears or a time limit passes, whichever is first; then it writes what it saw as
JSON and prints it on one line:

  sent, failed       requests, and those that got no answer or a status outside the accepted ones
  statuses           how many of each status (0: no answer)
  longest_s          the longest single request
  outage_s           the longest time no request succeeded, from the last success before a failure to
                     the first success after it (0.0 when nothing failed)
  first_failure      the first failure (time from the start, status, and what it was)
  retried            requests sent again: a reused keep-alive connection that the server closed before
                     any answer (nginx's old workers do so on a reload) is not a failure in HTTP's
                     terms; the request is sent once more on a new connection, as browsers and curl do

Only the test machines' addresses and loopback are valid targets; the test bed passes them.
    python testbed/load.py --url http://10.231.0.2/ --stop-file /tmp/stop --out /tmp/load.json
"""
import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

MAX_CONNECTIONS = 20


class Tally(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = self.failed = self.retried = 0
        self.statuses = {}
        self.longest = 0.0
        self.last_ok = None
        self.pending_fail = None     # the last success before the current run of failures
        self.outage = 0.0
        self.first_failure = None

    def add(self, start, took, status, why, ok):
        with self.lock:
            self.sent += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.longest = max(self.longest, took)
            end = start + took
            if ok:
                if self.pending_fail is not None:
                    self.outage = max(self.outage, end - self.pending_fail)
                    self.pending_fail = None
                self.last_ok = end if self.last_ok is None else max(self.last_ok, end)
            else:
                self.failed += 1
                if self.first_failure is None:
                    self.first_failure = {'at_s': round(start, 3), 'status': status, 'why': why}
                if self.pending_fail is None:
                    self.pending_fail = self.last_ok if self.last_ok is not None else start


_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def worker(url, host_header, tally, t0, stop, accept, interval, timeout):
    parts = urllib.parse.urlsplit(url)
    path = (parts.path or '/') + ('?' + parts.query if parts.query else '')
    headers = {'Host': host_header or parts.netloc, 'User-Agent': 'pyfleet-load'}
    conn, used = None, 0
    while not stop.is_set():
        start = time.monotonic() - t0
        status, why = 0, ''
        for attempt in (1, 2):
            if conn is None:
                conn, used = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout), 0
            try:
                conn.request('GET', path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status, used = resp.status, used + 1
                if resp.getheader('Connection', '').lower() == 'close':
                    conn.close()
                    conn = None
                break
            except _STALE as exc:
                reused = used > 0
                conn.close()
                conn = None
                if reused and attempt == 1:     # closed under us before any answer: send it again
                    with tally.lock:
                        tally.retried += 1
                    continue
                why = '%s: %s' % (type(exc).__name__, exc)
                break
            except (OSError, http.client.HTTPException) as exc:
                why = '%s: %s' % (type(exc).__name__, exc)
                conn.close()
                conn = None
                break
        took = time.monotonic() - t0 - start
        ok = status in accept
        tally.add(start, took, status, why or ('status %d' % status if not ok else ''), ok)
        if interval:
            stop.wait(interval)
    if conn is not None:
        conn.close()


def run(url, connections=10, max_seconds=120.0, stop_file=None, host=None, accept=range(200, 400), interval=0.02,
        timeout=10.0, started_file=None):
    if not 1 <= connections <= MAX_CONNECTIONS:
        raise ValueError('connections must be 1 to %d' % MAX_CONNECTIONS)
    tally = Tally()
    stop = threading.Event()
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(url, host, tally, t0, stop, set(accept), interval, timeout),
                                daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    if started_file:
        with open(started_file, 'w') as fh:
            fh.write('%d\n' % os.getpid())
    deadline = t0 + float(max_seconds)
    while time.monotonic() < deadline and not (stop_file and os.path.exists(stop_file)):
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout + 1)
    elapsed = time.monotonic() - t0
    if tally.pending_fail is not None:        # it never answered again
        tally.outage = max(tally.outage, elapsed - tally.pending_fail)
    return {'url': url, 'connections': connections, 'seconds': round(elapsed, 2), 'sent': tally.sent,
            'failed': tally.failed, 'retried': tally.retried, 'statuses': {str(k): v for k, v in sorted(tally.statuses.items())},
            'longest_s': round(tally.longest, 3), 'outage_s': round(tally.outage, 2),
            'first_failure': tally.first_failure, 'timed_out': not (stop_file and os.path.exists(stop_file))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--url', required=True)
    ap.add_argument('--host', help='the Host header (default: the URL\'s)')
    ap.add_argument('--connections', type=int, default=10, help='1 to %d (default 10)' % MAX_CONNECTIONS)
    ap.add_argument('--max-seconds', type=float, default=120.0, help='stop after this long in any case')
    ap.add_argument('--stop-file', help='stop as soon as this file exists')
    ap.add_argument('--started-file', help='written once every connection is running')
    ap.add_argument('--interval', type=float, default=0.02, help='pause between one connection\'s requests')
    ap.add_argument('--out', help='write the result here as JSON')
    args = ap.parse_args(argv)
    if args.stop_file and os.path.exists(args.stop_file):
        os.unlink(args.stop_file)
    result = run(args.url, args.connections, args.max_seconds, args.stop_file, args.host, interval=args.interval,
                 started_file=args.started_file)
    text = json.dumps(result, sort_keys=True)
    if args.out:
        with open(args.out + '.tmp', 'w') as fh:
            fh.write(text + '\n')
        os.rename(args.out + '.tmp', args.out)
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
