"""pyfleet's Pipenv example: Flask from Pipfile.lock's default packages (pytest, a dev package, is not installed)."""
import importlib.util
import platform

from flask import Flask

application = Flask(__name__)


@application.route('/')
def index():
    dev = 'with' if importlib.util.find_spec('pytest') else 'without'
    return 'Hello from Pipenv on CPython %s, %s dev packages\n' % (platform.python_version(), dev)
