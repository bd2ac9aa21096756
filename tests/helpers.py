"""Helpers shared by the unit tests: pyfleet's paths, fixture apps, findings."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOGUE = os.path.join(ROOT, 'roles', 'app_plan', 'files', 'python-versions.yml')

# A Flask app that passes every rule, and the same with other files beside it
# (with_files(Procfile=..., runtime__txt=...): "__" and "DOT" stand for ".").
FLASK_WSGI = 'from flask import Flask\napp = Flask(__name__)\napplication = app\n'
BASIC = {'requirements.txt': 'flask==3.1.3\ngunicorn==27.0.1\n', 'wsgi.py': FLASK_WSGI}


def with_files(**extra):
    files = dict(BASIC)
    files.update({k.replace('__', '.').replace('DOT', '.'): v for k, v in extra.items()})
    return files


def write_tree(base, files):
    """files: {relative path: str | bytes}; a path ending in '/' makes a directory."""
    for rel, content in files.items():
        path = os.path.join(str(base), rel)
        if rel.endswith('/'):
            os.makedirs(path, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = 'wb' if isinstance(content, bytes) else 'w'
        with open(path, mode) as fh:
            fh.write(content)
    return str(base)


def codes(plan, severity=None):
    items = plan['errors'] + plan['warnings'] + plan['notes']
    return sorted(d['code'] for d in items if severity is None or d['severity'] == severity)


def finding(plan, code):
    for d in plan['errors'] + plan['warnings'] + plan['notes']:
        if d['code'] == code:
            return d
    raise AssertionError('no %s in %s' % (code, codes(plan)))
