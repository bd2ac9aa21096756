"""Hold a websocket to http://HOST/ws open while a deploy (the command after --) runs, and say what it saw.

The websocket answers each message with the release that serves it. Meanwhile the page at / is asked every
0.2 s, to see when nginx switched to the new release. After the deploy, wait for the old websocket to end (its
instance drains), then open a new one. The last line printed is JSON: the old release, the new page's and the
new websocket's, how many answers the old websocket had (from another release, after the switch), and when it
ended, in seconds after the switch. Bounded: one websocket, one page request at a time, at most 10 minutes.
"""
import asyncio
import json
import re
import subprocess
import sys
import time
import urllib.request

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

RELEASE = re.compile(r'release ([0-9a-f]+|dev)')


def page_release(host):
    with urllib.request.urlopen('http://%s/' % host, timeout=5) as resp:
        return RELEASE.search(resp.read().decode()).group(1)


async def main(host, deploy):
    seen = {'answers': 0, 'answers_from_other': 0, 'answers_after_switch': 0, 'switched_at': None,
            'closed_at': None, 'close_code': None}
    async with connect('ws://%s/ws' % host, open_timeout=10, ping_interval=None) as old:
        seen['old'] = RELEASE.search(await old.recv()).group(1)
        done = asyncio.Event()

        async def talk():
            n = 0
            try:
                while True:
                    n += 1
                    await old.send('ping %d' % n)
                    answer = await asyncio.wait_for(old.recv(), 10)
                    seen['answers'] += 1
                    if RELEASE.search(answer).group(1) != seen['old']:
                        seen['answers_from_other'] += 1
                    if seen['switched_at'] is not None:
                        seen['answers_after_switch'] += 1
                    await asyncio.sleep(0.2)
            except ConnectionClosed as exc:
                seen['closed_at'] = time.monotonic()
                seen['close_code'] = exc.rcvd.code if exc.rcvd else None

        async def watch():
            while not done.is_set():
                try:
                    if seen['switched_at'] is None and await asyncio.to_thread(page_release, host) != seen['old']:
                        seen['switched_at'] = time.monotonic()
                except OSError:
                    pass
                await asyncio.sleep(0.2)

        talker, watcher = asyncio.create_task(talk()), asyncio.create_task(watch())
        ran = await asyncio.to_thread(subprocess.run, deploy, capture_output=True, text=True, timeout=540)
        sys.stderr.write(ran.stdout[-4000:] + ran.stderr[-2000:])
        seen['deploy_rc'] = ran.returncode
        try:
            await asyncio.wait_for(talker, 60)
        except asyncio.TimeoutError:
            talker.cancel()
        done.set()
        await watcher
    seen['new_page'] = page_release(host)
    async with connect('ws://%s/ws' % host, open_timeout=10, ping_interval=None) as new:
        seen['new_socket'] = RELEASE.search(await new.recv()).group(1)
    seen['closed_after_switch'] = (round(seen['closed_at'] - seen['switched_at'], 2)
                                   if seen['closed_at'] and seen['switched_at'] else None)
    return seen


if __name__ == '__main__':
    split = sys.argv.index('--')
    print(json.dumps(asyncio.run(asyncio.wait_for(main(sys.argv[1], sys.argv[split + 1:]), 600))))
