"""A Cloud Foundry-style app: manifest.yml's `command: python hello.py`, listening on $PORT, reading its
database from VCAP_SERVICES (as the Cloud Foundry seed's settings do) and itself from VCAP_APPLICATION."""
import http.server
import json
import os
import platform

import six  # installed from vendor/

PORT = int(os.environ['PORT'])
SERVICES = json.loads(os.environ.get('VCAP_SERVICES') or '{}')
APPLICATION = json.loads(os.environ.get('VCAP_APPLICATION') or '{}')


def database():
    """The bound database's credentials, found by name as the seed's settings find them."""
    for entries in SERVICES.values():
        for service in entries:
            if service.get('name') == 'database':
                return service.get('credentials') or {}
    return {}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = 200
        if self.path == '/env':
            db = database()
            body = json.dumps({'PORT': os.environ.get('PORT'), 'GREETING': os.environ.get('GREETING'),
                               'python': platform.python_version(), 'six': six.__version__,
                               'db_host': db.get('hostname'), 'db_name': db.get('name'),
                               'app_name': APPLICATION.get('application_name'),
                               'mem': (APPLICATION.get('limits') or {}).get('mem'),
                               'MEMORY_LIMIT': os.environ.get('MEMORY_LIMIT')})
        elif self.path == '/health':
            # healthy once the database is bound: Cloud Foundry's http health check asks this
            status = 200 if database() else 503
            body = 'ok\n' if status == 200 else 'no database bound\n'
        else:
            body = '%s on port %d\n' % (os.environ.get('GREETING') or 'Hello', PORT)
        data = body.encode()
        self.send_response(status)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        print('%s %s' % (self.address_string(), fmt % args), flush=True)


if __name__ == '__main__':
    http.server.ThreadingHTTPServer(('0.0.0.0', PORT), Handler).serve_forever()
