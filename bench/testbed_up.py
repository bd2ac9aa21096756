#!/usr/bin/env python3
"""Test-bed speed: the cold image build, and `up` to SSH-ready with the cached image.

Goals (issue "Real test machines"): cold build <= 180 s; up with the cached image <= 10 s for one machine
and <= 20 s for four. Prints each figure beside its goal, all measured in this one run. Run as root:

    .venv/bin/python bench/testbed_up.py [--skip-cold]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTBED = [sys.executable, os.path.join(ROOT, 'testbed', 'nspawn.py')]


def timed(args, **kw):
    t0 = time.perf_counter()
    res = subprocess.run(TESTBED + args, capture_output=True, text=True, **kw)
    took = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit('testbed %s failed:\n%s' % (' '.join(args), res.stderr))
    return took, res.stdout


def line(what, seconds, goal):
    print('%-42s %7.1f s   goal <= %4d s   ratio %.2f   %s'
          % (what, seconds, goal, seconds / goal, 'MET' if seconds <= goal else 'MISSED'))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--skip-cold', action='store_true', help='skip the cold image build (about 2 min)')
    ap.add_argument('--release', default='bookworm')
    args = ap.parse_args()
    timed(['down'])
    if not args.skip_cold:
        cache = tempfile.mkdtemp(prefix='pyfleet-cold-')
        try:
            took, _ = timed(['--cache-dir', cache, 'image', '--release', args.release])
            line('cold image build (%s, debootstrap)' % args.release, took, 180)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    timed(['image', '--release', args.release])   # make sure the real cache is warm
    for n, goal in ((1, 10), (4, 20)):
        took, out = timed(['up', str(n), '--release', args.release, '--json'])
        summary = json.loads(out.strip().splitlines()[-1])
        line('up %d (cached image) to SSH-ready, wall' % n, took, goal)
        print('   machines ready after: %s' % ', '.join('%s %.1f s' % kv for kv in sorted(summary['ready_at'].items())))
        timed(['down'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
