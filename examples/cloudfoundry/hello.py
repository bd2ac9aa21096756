"""A Cloud Foundry-style app: manifest.yml's `command: python hello.py`, listening on $PORT."""
import http.server
import json
import os
import platform

PORT = int(os.environ['PORT'])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == '/env':
            body = json.dumps({'PORT': os.environ.get('PORT'), 'GREETING': os.environ.get('GREETING'),
                               'python': platform.python_version()})
        else:
            body = '%s on port %d\n' % (os.environ.get('GREETING') or 'Hello', PORT)
        data = body.encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        print('%s %s' % (self.address_string(), fmt % args), flush=True)


if __name__ == '__main__':
    http.server.ThreadingHTTPServer(('0.0.0.0', PORT), Handler).serve_forever()
