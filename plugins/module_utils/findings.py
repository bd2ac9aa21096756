# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan's findings: every problem has a stable code, the file and line it is about, and the fix.

Plain Python; the plan's other sections add to a ``Findings`` list and never stop at the first.
"""

from __future__ import annotations


# --------------------------------------------------------------------------
# Error catalogue: code -> (severity, what it means). The fix is per finding.
# The README lists each of these; tests/unit/test_codes.py keeps them in step.
# --------------------------------------------------------------------------
CODES = {
    # app shape
    'src-missing': ('error', 'The app source directory does not exist or is not a directory.'),
    'app-name-invalid': ('error', 'The app name (given, or the source directory\'s) cannot name an account, paths and units.'),
    'input-invalid': ('error', 'A project input (pyfleet_web_port, pyfleet_keep, pyfleet_step_timeout) has a value pyfleet cannot use.'),
    'not-python-app': ('error', 'No Python package manager file was found in the app root.'),
    'misspelled-file': ('error', 'A file that looks like a platform file has the wrong name, so it would be ignored.'),
    'misspelled-file-ignored': ('error', 'A misspelled copy of a platform file sits beside the real one; which one was meant is unclear.'),
    'committed-virtualenv': ('error', 'A virtualenv is part of the source; it would be shipped and is tied to another machine.'),
    'symlink-loop': ('error', 'A link in the app source leads back to itself; nothing can read it.'),
    'symlink-outside': ('error', 'A link in the app source leads out of it; the host would serve or read whatever is there.'),
    'special-file': ('error', 'The app source holds a FIFO, socket or device, which cannot be shipped.'),
    'file-encoding': ('error', 'A platform file is not plain UTF-8 (a BOM, UTF-16 or other bytes).'),
    # package managers
    'multiple-package-managers': ('error', 'More than one package manager file is present.'),
    'lock-missing': ('error', 'Pipfile is present without the Pipfile.lock that pins it.'),
    'lock-invalid': ('error', 'A lock file (Pipfile.lock, poetry.lock) does not parse, or is of a format pyfleet does not read.'),
    'lock-out-of-sync': ('error', 'A lock file no longer matches the file it locks (Pipfile, pyproject.toml).'),
    'uv-lock-without-pyproject': ('error', 'uv.lock is present without the pyproject.toml it locks.'),
    'pyproject-invalid': ('error', 'pyproject.toml is not valid TOML.'),
    # requirements.txt
    'requirements-invalid-line': ('error', 'A requirements line that pip would reject.'),
    'requirements-unknown-option': ('error', 'A requirements option that pip does not know.'),
    'requirements-include-missing': ('error', 'A -r/-c include names a file that does not exist.'),
    'requirements-include-cycle': ('error', 'The -r includes form a cycle.'),
    'requirements-include-outside': ('error', 'A -r/-c include points outside the app directory, so it would not be shipped.'),
    'requirements-unpinned': ('warning', 'Requirements without an exact pin (==) make deploys unrepeatable.'),
    'requirements-remote-include': ('warning', 'A -r/-c include is a URL; pip fetches it at install time.'),
    # Python version
    'python-version-invalid': ('error', 'A Python version file does not hold a version pyfleet can read.'),
    'python-version-multiple': ('error', 'A Python version file names more than one version.'),
    'python-version-conflict': ('error', 'runtime.txt and .python-version ask for different versions.'),
    'python-not-cpython': ('error', 'pyfleet installs CPython only.'),
    'python-version-unknown': ('error', 'The requested Python minor is neither in the catalogue nor installable.'),
    'python-version-not-in-catalogue': ('warning', 'An installable Python minor whose end of life the catalogue does not know.'),
    'python-version-eol': ('error', 'The requested Python minor has reached end of life.'),
    'python-version-eol-allowed': ('warning', 'End-of-life Python, allowed by the operator.'),
    'python-version-prerelease': ('error', 'The requested Python is a pre-release.'),
    'python-version-denied': ('error', 'The operator denies this exact version.'),
    'python-version-near-eol': ('warning', 'The Python minor reaches end of life soon.'),
    'python-version-outdated': ('warning', 'A newer patch release of the pinned minor exists.'),
    'python-version-not-installable': ('error', 'The Python version cannot be installed here: pyenv has no definition for '
                                                'it, or the mirror does not hold it.'),
    'python-version-unresolvable': ('error', '"X.Y" names no patch, and pyfleet cannot tell which patches can be installed.'),
    'python-version-mirror-substitute': ('note', 'The mirror lacks the newest patch pyenv defines; the newest it holds is used.'),
    'python-definitions-unreadable': ('warning', "pyenv's definitions (which versions exist) cannot be read on the controller."),
    'python-definitions-ref-missing': ('warning', "The controller's pyenv checkout lacks the ref the hosts get; its working "
                                                  'tree was read.'),
    'python-mirror-unreadable': ('warning', "The mirror's listing cannot be read; every defined version is taken as installable."),
    'python-tarballs-unreadable': ('warning', 'The tarball directory (pyenv_tarballs_src) cannot be read.'),
    'python-version-default': ('note', 'No version file; the default was used.'),
    'python-version-wildcard': ('note', 'runtime.txt names the newest patch or minor with "x", as Cloud Foundry reads it.'),
    'python-version-requires-python': ('error', "The resolved version is outside pyproject.toml's requires-python."),
    'runtime-txt-deprecated': ('note', 'Both runtime.txt and .python-version are present; they agree.'),
    # processes
    'procfile-invalid-line': ('error', 'A Procfile line is not "name: command".'),
    'procfile-invalid-name': ('error', 'A Procfile process name has characters outside [A-Za-z0-9_-].'),
    'procfile-empty-command': ('error', 'A Procfile process has no command.'),
    'procfile-duplicate': ('error', 'A Procfile names the same process twice.'),
    'procfile-empty': ('error', 'The Procfile declares no process.'),
    'procfile-schedule': ('warning', 'A Procfile line that is not a cron* process starts its command with a cron '
                                     'schedule: it gets no unit (a cron* line is a scheduled job).'),
    'job-schedule-invalid': ('error', "A scheduled job's schedule (a Procfile cron* line, app.json's cron) is not one "
                                      'cron takes.'),
    'job-name-taken': ('error', "An app.json cron job's name (cron-<n>) is a Procfile cron line's name too."),
    'leanengine-yaml-invalid': ('error', 'leanengine.yaml is not valid YAML or its run: is not a command.'),
    'cf-manifest-invalid': ('error', "Cloud Foundry's manifest.yml is not valid YAML, or a command or process in it is not."),
    'cf-manifest-several-apps': ('warning', 'manifest.yml describes several applications; the first is deployed.'),
    'cf-manifest-env': ('warning', "manifest.yml sets environment variables, which pyfleet does not read."),
    'cf-manifest-note': ('note', 'manifest.yml sets something Cloud Foundry acts on and pyfleet does another way (instances, routes, services, ...), or does not read.'),
    'setup-py-installed': ('note', 'A setup.py app without requirements.txt, with a Cloud Foundry manifest or vendor/: the project itself is installed, as Cloud Foundry does.'),
    'vendor-used': ('note', "A Cloud Foundry app's vendor/ holds its packages: pip installs from there alone, as Cloud Foundry does."),
    'vendor-ignored': ('note', 'vendor/ holds packages, which only Cloud Foundry installs from; the index is used, as on Heroku.'),
    'app-json-invalid': ('error', 'app.json is not a JSON object, or its healthchecks are not a list of checks.'),
    'app-json-ignored': ('note', 'app.json sets a key pyfleet does not act on (each key is named once).'),
    'cf-manifest-command-ignored': ('warning', 'manifest.yml and the Procfile run a process differently; the Procfile wins.'),
    'python-syntax-error': ('error', 'An entry-point Python file does not parse.'),
    'no-web-process': ('error', 'pyfleet cannot tell how to start the app.'),
    'gunicorn-bind-ignored': ('note', "pyfleet binds gunicorn to its own socket; the Procfile's or the config's bind "
                                      'is replaced (the config\'s is said on the host, where gunicorn is asked).'),
    'gunicorn-reuse-port': ('note', "gunicorn, asked on the host, sets reuse_port from the app's config: it listens "
                                    'on a loopback port, not a unix socket.'),
    'gunicorn-not-required': ('warning', 'gunicorn serves the app but is not in the requirements; pyfleet installs it.'),
    # Django
    'django-not-required': ('warning', 'manage.py exists but Django is not a requirement, so Django steps are skipped.'),
    'django-migrate-opted-out': ('note', 'A Django app whose Procfile has no release: process: migrations are not run, '
                                         'as on Heroku.'),
    'nltk-not-required': ('warning', 'nltk.txt lists corpora, but nltk is not a requirement, so none is downloaded.'),
    'nltk-empty': ('error', 'nltk.txt names no corpus.'),
    'nltk-invalid': ('error', 'nltk.txt holds something that is not a corpus name.'),
    'django-settings-unknown': ('warning', "manage.py's settings module or WSGI_APPLICATION could not be found."),
}

SEVERITIES = ('error', 'warning', 'note')


class Diagnostic(object):
    """One finding: a stable code, where it is and how to fix it."""

    __slots__ = ('code', 'severity', 'file', 'line', 'message', 'fix')

    def __init__(self, code, message, fix='', file=None, line=None, severity=None):
        if code not in CODES:
            raise KeyError('unknown diagnostic code %r' % code)
        self.code = code
        self.severity = severity or CODES[code][0]
        self.file = file
        self.line = line
        self.message = message
        self.fix = fix

    def as_dict(self):
        return {'code': self.code, 'severity': self.severity, 'file': self.file,
                'line': self.line, 'message': self.message, 'fix': self.fix}

    def __str__(self):
        return format_diagnostic(self.as_dict())

    def __repr__(self):
        return '<Diagnostic %s %s:%s>' % (self.code, self.file, self.line)


def format_diagnostic(d):
    """Render a diagnostic (object or dict) as 'file:line: severity [code] message\\n  fix: ...'."""
    if isinstance(d, Diagnostic):
        d = d.as_dict()
    where = d.get('file') or '(app)'
    if d.get('line'):
        where = '%s:%s' % (where, d['line'])
    text = '%s: %s [%s] %s' % (where, d['severity'], d['code'], d['message'])
    if d.get('fix'):
        text += '\n    fix: ' + d['fix'].replace('\n', '\n         ')
    return text


def format_report(diagnostics):
    """All findings, errors first, as one text block."""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    items = [d.as_dict() if isinstance(d, Diagnostic) else d for d in diagnostics]
    items.sort(key=lambda d: order.get(d['severity'], 9))
    return '\n'.join(format_diagnostic(d) for d in items)


class Findings(list):
    """A list of Diagnostics with a shortcut to add one."""

    def add(self, code, message, fix='', file=None, line=None, severity=None):
        d = Diagnostic(code, message, fix, file, line, severity)
        self.append(d)
        return d

    def errors(self):
        return [d for d in self if d.severity == 'error']
