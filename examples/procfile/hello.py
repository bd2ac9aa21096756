"""A framework-free WSGI app: `web: gunicorn hello:app`."""
import json
import os


def app(environ, start_response):
    if environ.get('PATH_INFO') == '/headers':
        body = json.dumps({k: environ.get(k) for k in ('HTTP_X_REAL_IP', 'HTTP_X_FORWARDED_FOR',
                                                      'HTTP_X_FORWARDED_PROTO', 'HTTP_HOST')}).encode()
        ctype = 'application/json'
    else:
        body = ('Hello from a Procfile app (%s)\n' % os.environ.get('APP_ENV', '?')).encode()
        ctype = 'text/plain'
    start_response('200 OK', [('Content-Type', ctype), ('Content-Length', str(len(body)))])
    return [body]
