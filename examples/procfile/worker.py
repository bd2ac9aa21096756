"""`worker: python worker.py`: logs to the journal (stdout at info, stderr at error)."""
import sys
import time

print('worker starting', file=sys.stderr, flush=True)
n = 0
while True:
    n += 1
    print('worker tick %d' % n, flush=True)
    time.sleep(5)
