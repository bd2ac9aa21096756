"""pyfleet's Flask example: a WSGI app exposed as `application`."""
import os
import platform

from flask import Flask, jsonify, request

app = Flask(__name__)


def _release():
    # pyfleet writes the release id to .pyfleet-release at the release's root.
    try:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".pyfleet-release")) as fh:
            return fh.read().strip()
    except OSError:
        return "unknown"


RELEASE = _release()  # read once: a running process belongs to one release


@app.get("/")
def index():
    return (
        "Hello from pyfleet: Flask on CPython %s, release %s\n"
        % (platform.python_version(), RELEASE)
    )


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/whoami")
def whoami():
    # The client's real address, as nginx passes it on.
    return jsonify(
        remote_addr=request.remote_addr,
        x_real_ip=request.headers.get("X-Real-IP"),
        x_forwarded_for=request.headers.get("X-Forwarded-For"),
        x_forwarded_proto=request.headers.get("X-Forwarded-Proto"),
    )


application = app
