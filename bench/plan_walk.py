#!/usr/bin/env python3
"""Time the app plan on a generated 10,000-file app tree.

Goal (issue "The app plan"): the plan comes back in under 1 s, because the walk
reads only the platform files. For scale, the same run also times a naive
walk that opens every file, and prints the ratio. Not a timed test: it prints.

    .venv/bin/python bench/plan_walk.py [--files 10000] [--runs 5]
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_rules():
    """The plan's conductor, imported by name from the collection (the checkout's .collections link)."""
    sys.path.insert(0, os.path.join(ROOT, '.collections'))
    from ansible_collections.pyfleet.deploy.plugins.module_utils import plan
    return plan


def make_tree(base, nfiles):
    """A Django app with a big static tree, vendored JS and many modules: nfiles files in all."""
    files = {
        'requirements.txt': 'Django==5.2.19\ngunicorn==27.0.1\n-r requirements/extra.txt\n',
        'requirements/extra.txt': 'requests==2.32.3\n',
        '.python-version': '3.13\n',
        'Procfile': 'web: gunicorn mysite.wsgi\nworker: python manage.py worker\n',
        'manage.py': "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n",
        'mysite/__init__.py': '',
        'mysite/settings.py': "WSGI_APPLICATION = 'mysite.wsgi.application'\n",
        'mysite/wsgi.py': 'application = None\n',
        '.slugignore': '*.psd\n',
    }
    for rel, text in files.items():
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as fh:
            fh.write(text)
    n = len(files)
    i = 0
    while n < nfiles:
        # spread files over deep and wide folders: apps/aN/sub/..., static/..., node_modules/...
        top = ('apps', 'static', 'node_modules', 'docs', 'data')[i % 5]
        d = os.path.join(base, top, 'd%03d' % (i % 97), 'e%02d' % (i % 13), 'f%d' % (i % 7))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, 'file%05d.py' % i), 'w') as fh:
            fh.write('x = %d\n' % i * 20)
        n += 1
        i += 1
    return n


def naive_full_read(base):
    total = 0
    for dirpath, _dirs, names in os.walk(base):
        for name in names:
            with open(os.path.join(dirpath, name), 'rb') as fh:
                total += len(fh.read())
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--files', type=int, default=10000)
    ap.add_argument('--runs', type=int, default=5)
    args = ap.parse_args()
    rules = load_rules()
    catalogue = rules.load_catalogue(os.path.join(ROOT, 'roles/app_plan/files/python-versions.yml'))
    base = tempfile.mkdtemp(prefix='pyfleet-bench-')
    try:
        count = make_tree(base, args.files)
        plan_times, naive_times = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            plan = rules.build_plan(base, catalogue)
            plan_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            naive_full_read(base)
            naive_times.append(time.perf_counter() - t0)
        assert plan['ok'], plan['errors']
        p, q = statistics.median(plan_times), statistics.median(naive_times)
        print('tree: %d files under %s' % (count, base))
        print('plan (median of %d): %.4f s   goal: < 1 s   %s' % (args.runs, p, 'MET' if p < 1 else 'MISSED'))
        print('naive walk reading every file (median): %.4f s' % q)
        print('ratio plan / naive full read: %.3f' % (p / q))
        print('plan: python %s from %s, web %s, django %s' % (
            plan['python']['version'], plan['python']['source'], plan['web']['wsgi_app'], bool(plan['django'])))
        return 0 if p < 1 else 1
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
