"""Helpers shared by the unit tests: pyfleet's paths, fixture apps, findings."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOGUE = os.path.join(ROOT, 'roles', 'app_plan', 'files', 'python-versions.yml')

# What can be installed in the unit tests: the patches pyenv defined and Heroku resolved in August 2026
# (the newest of each minor), with a few older ones. (The catalogue holds no versions, only end-of-life data.)
INSTALLABLE = ['2.7.18', '3.4.10', '3.5.10', '3.6.15', '3.7.17', '3.8.20', '3.9.25', '3.10.20', '3.10.21',
               '3.11.2', '3.11.15', '3.11.16', '3.12.0', '3.12.13', '3.12.14', '3.13.5', '3.13.15', '3.13.16',
               '3.14.0', '3.14.4', '3.14.7', '3.15.0']


def newest(minor):
    return [v for v in INSTALLABLE if v.startswith(minor + '.')][-1]


def task_params(rules, **kw):
    """The app_plan task's parameters: its defaults, the repository's catalogue, INSTALLABLE, a fixed day."""
    params = {k: v.get('default') for k, v in rules.ARGUMENT_SPEC.items()}
    params.update(catalogue_file=CATALOGUE, available_versions=INSTALLABLE, today='2026-11-22', fail_on_error=False)
    params.update(kw)
    return params


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
