"""pyfleet's Flask example: a WSGI app exposed as `application`."""
import os
import platform

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/")
def index():
    return (
        "Hello from pyfleet: Flask on CPython %s, release %s\n"
        % (platform.python_version(), os.environ.get("PYFLEET_RELEASE", "unknown"))
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
