#!/usr/bin/env python3
"""Requests per second for examples/flask through the load balancer and two app hosts, against one host direct.

Issue "The fleet": what the `lb` group costs or buys a client. Three fresh test machines boot: pf1 runs HAProxy
(the `lb` group), pf2 and pf3 run the app (deployed in one batch). The same bounded load client
(testbed/load.py: 20 connections at most, no pause between a connection's requests, a fixed time, it stops by
itself) asks, in turn: through the load balancer (which spreads the requests over both hosts), then one app host
straight to its nginx. Each is measured twice, alternating, after a short warm-up; the line shows each figure and
the ratio of the medians. Every request must succeed.

On this 2-core machine the client, HAProxy and both app hosts share the same cores, so the ratio says what the
extra hop costs more than what a second host adds; on separate machines the second host's capacity adds up.
Run as root:   .venv/bin/python bench/lb_rps.py
"""
import json
import os
from statistics import median
import subprocess
import sys
import tempfile

from common import BIN, ROOT, TESTBED, sh, testbed_up  # bench/common.py
sys.path.insert(0, os.path.join(ROOT, 'testbed'))
import load  # noqa: E402  (the test bed's bounded load client)

SECONDS = float(os.environ.get('PYFLEET_BENCH_SECONDS', '15'))
CONNECTIONS = 20


def rate(url):
    got = load.run(url, connections=CONNECTIONS, max_seconds=SECONDS, interval=0)
    if got['failed']:
        sys.exit('%s: %d of %d requests failed: %s' % (url, got['failed'], got['sent'], got['first_failure']))
    return got['sent'] / got['seconds'], got


def main():
    summary = testbed_up(3)
    work = tempfile.mkdtemp(prefix='pyfleet-bench-lb-')
    try:
        machines = summary['machines']
        host = lambda m: {'ansible_host': m['address'], 'ansible_user': 'root',
                          'ansible_ssh_private_key_file': summary['key'], 'ansible_python_interpreter': '/usr/bin/python3',
                          'ansible_ssh_common_args': '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'}
        inventory = os.path.join(work, 'inventory.json')
        with open(inventory, 'w') as fh:
            json.dump({'all': {'children': {
                'lb': {'hosts': {machines[0]['name']: host(machines[0])}},
                'web': {'hosts': {m['name']: host(m) for m in machines[1:]}}}}}, fh)
        extra = os.path.join(work, 'vars.json')
        with open(extra, 'w') as fh:
            json.dump(summary['vars'], fh)
        sh([os.path.join(BIN, 'ansible-playbook'), '-i', inventory, os.path.join(ROOT, 'deploy.yml'),
            '-e', '@' + extra, '-e', 'app_src=%s' % os.path.join(ROOT, 'examples', 'flask'), '-e', 'app_name=flask',
            '-e', 'pyfleet_batch=100%'], cwd=ROOT)
        lb, direct = 'http://%s/' % machines[0]['address'], 'http://%s/' % machines[1]['address']
        load.run(lb, connections=CONNECTIONS, max_seconds=3, interval=0)          # warm-up: both ways
        load.run(direct, connections=CONNECTIONS, max_seconds=3, interval=0)
        via_lb, one_host = [], []
        for _ in range(2):
            via_lb.append(rate(lb)[0])
            one_host.append(rate(direct)[0])
        print('examples/flask, %d connections, %.0f s each, twice, alternating:' % (CONNECTIONS, SECONDS))
        print('  through the load balancer (%s) to 2 hosts: %s req/s' % (machines[0]['name'],
                                                                          ', '.join('%.0f' % r for r in via_lb)))
        print('  one host (%s) straight to its nginx:      %s req/s' % (machines[1]['name'],
                                                                        ', '.join('%.0f' % r for r in one_host)))
        print('  load balancer and 2 hosts / one host direct: %.2f (medians %.0f / %.0f req/s)'
              % (median(via_lb) / max(median(one_host), 0.01), median(via_lb), median(one_host)))
    finally:
        subprocess.run(['rm', '-rf', work])
        subprocess.run(TESTBED + ['down'], capture_output=True)


if __name__ == '__main__':
    main()
