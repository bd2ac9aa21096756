"""A LeanEngine-style app: `run: python app.py`, listening on LEANCLOUD_APP_PORT."""
import http.server
import json
import os

PORT = int(os.environ.get('LEANCLOUD_APP_PORT') or os.environ['PORT'])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == '/__engine/1/ping':
            # LeanEngine's SDK answers its probe here; LeanEngine (and pyfleet) ask it, or /
            body = json.dumps({'runtime': 'python', 'version': 'custom'})
        elif self.path == '/env':
            body = json.dumps({k: os.environ.get(k) for k in ('PORT', 'LEANCLOUD_APP_PORT', 'LEANCLOUD_APP_ENV')})
        else:
            body = 'Hello from LeanEngine on port %d (%s)\n' % (PORT, os.environ.get('LEANCLOUD_APP_ENV'))
        data = body.encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        print('%s %s' % (self.address_string(), fmt % args), flush=True)


if __name__ == '__main__':
    http.server.ThreadingHTTPServer(('0.0.0.0', PORT), Handler).serve_forever()
