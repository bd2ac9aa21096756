"""pyfleet's uv example: dependencies from uv.lock, installed with `uv sync --frozen`."""
import platform

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "Hello from pyfleet: uv app on CPython %s\n" % platform.python_version()


application = app
