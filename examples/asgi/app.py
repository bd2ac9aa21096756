"""An ASGI app with no framework: a page, and a websocket at /ws that answers every message with the release that
serves it. gunicorn runs it with uvicorn's worker (the Procfile); nginx proxies the websocket."""
import asyncio
import os

GREETING = 'Hello from an ASGI app'


def _release():
    try:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '.pyfleet-release')) as fh:
            return fh.read().strip()
    except OSError:
        return 'dev'


RELEASE = _release()


async def app(scope, receive, send):
    if scope['type'] == 'lifespan':
        while True:
            message = await receive()
            if message['type'] == 'lifespan.startup':
                await send({'type': 'lifespan.startup.complete'})
            elif message['type'] == 'lifespan.shutdown':
                await send({'type': 'lifespan.shutdown.complete'})
                return
    elif scope['type'] == 'http':
        body = ('%s, release %s\n' % (GREETING, RELEASE)).encode()
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'content-type', b'text/plain'), (b'content-length', str(len(body)).encode())]})
        await send({'type': 'http.response.body', 'body': body})
    elif scope['type'] == 'websocket':
        if scope['path'] != '/ws':
            await send({'type': 'websocket.close', 'code': 1008})
            return
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.send', 'text': 'hello from release %s' % RELEASE})
        while True:
            message = await receive()
            if message['type'] == 'websocket.disconnect':
                return
            await send({'type': 'websocket.send', 'text': 'release %s: %s' % (RELEASE, message.get('text') or '')})
            await asyncio.sleep(0)
