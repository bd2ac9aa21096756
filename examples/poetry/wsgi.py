"""pyfleet's Poetry example: Flask from poetry.lock's main group (pytest, in the dev group, is not installed)."""
import importlib.util
import platform

from flask import Flask

application = Flask(__name__)


@application.route('/')
def index():
    dev = 'with' if importlib.util.find_spec('pytest') else 'without'
    return 'Hello from Poetry on CPython %s, %s dev packages\n' % (platform.python_version(), dev)
