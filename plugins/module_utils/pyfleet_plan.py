# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app plan: how pyfleet judges an app's source before any host is touched.

Plain Python, no Ansible imports: the module ``pyfleet_app_plan`` ships it to
the controller through ``ansible.module_utils``, the filter plugin loads it by
path (a filter cannot import a repository's module_utils), and the unit tests
import it directly. Every rule lives here once.

Every finding is a ``Diagnostic`` with a stable ``code`` (see ``CODES``), the
file and line it is about, a message and the fix. ``build_plan`` collects all of
them instead of stopping at the first.
"""

from __future__ import annotations

import ast
import datetime
import os
import re
import shlex
import unicodedata

try:  # pip's own requirement grammar (pip vendors the same library)
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version
    HAS_PACKAGING = True
except ImportError:  # pragma: no cover - ansible-core depends on packaging
    HAS_PACKAGING = False

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - ansible-core depends on PyYAML
    HAS_YAML = False

import importlib.util as _util

try:  # what the pack ships: the plan refuses first what the pack could not ship safely
    from ansible.module_utils.pyfleet_pack import tree_problems
except ImportError:  # loaded by path (the action plugin, the filters, the unit tests): the sibling file
    _spec = _util.spec_from_file_location(
        'pyfleet_pack_rules', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pyfleet_pack.py'))
    _pack = _util.module_from_spec(_spec)
    _spec.loader.exec_module(_pack)
    tree_problems = _pack.tree_problems

try:  # Pipenv's and Poetry's lock files
    from ansible.module_utils.pyfleet_lockfiles import poetry_constraint_to_pep440, read_pipenv, read_poetry
except ImportError:  # loaded by path, as above
    _spec = _util.spec_from_file_location(
        'pyfleet_lockfiles_rules', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pyfleet_lockfiles.py'))
    _locks = _util.module_from_spec(_spec)
    _spec.loader.exec_module(_locks)
    poetry_constraint_to_pep440, read_pipenv, read_poetry = \
        _locks.poetry_constraint_to_pep440, _locks.read_pipenv, _locks.read_poetry

try:
    import tomllib
except ImportError:  # pragma: no cover - Python < 3.11
    tomllib = None


# --------------------------------------------------------------------------
# Error catalogue: code -> (severity, what it means). The fix is per finding.
# The README lists each of these; tests/unit/test_codes.py keeps them in step.
# --------------------------------------------------------------------------
CODES = {
    # app shape
    'src-missing': ('error', 'The app source directory does not exist or is not a directory.'),
    'not-python-app': ('error', 'No Python package manager file was found in the app root.'),
    'misspelled-file': ('error', 'A file that looks like a platform file has the wrong name, so it would be ignored.'),
    'misspelled-file-ignored': ('error', 'A misspelled copy of a platform file sits beside the real one; which one was meant is unclear.'),
    'committed-virtualenv': ('error', 'A virtualenv is part of the source; it would be shipped and is tied to another machine.'),
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
    'python-version-unknown': ('error', 'The requested Python version is not in the catalogue.'),
    'python-version-eol': ('error', 'The requested Python minor has reached end of life.'),
    'python-version-eol-allowed': ('warning', 'End-of-life Python, allowed by the operator.'),
    'python-version-prerelease': ('error', 'The requested Python is a pre-release.'),
    'python-version-denied': ('error', 'The operator denies this exact version.'),
    'python-version-near-eol': ('warning', 'The Python minor reaches end of life soon.'),
    'python-version-outdated': ('warning', 'A newer patch release of the pinned minor exists.'),
    'python-version-newer-than-catalogue': ('warning', 'The pinned patch is newer than the catalogue knows.'),
    'python-version-not-on-mirror': ('error', 'The Python version is not in the list of versions the mirror holds.'),
    'python-version-mirror-substitute': ('note', 'The mirror lacks the newest patch; the newest it holds is used.'),
    'python-version-default': ('note', 'No version file; the default was used.'),
    'python-version-requires-python': ('error', "The resolved version is outside pyproject.toml's requires-python."),
    'runtime-txt-deprecated': ('note', 'Both runtime.txt and .python-version are present; they agree.'),
    # processes
    'procfile-invalid-line': ('error', 'A Procfile line is not "name: command".'),
    'procfile-invalid-name': ('error', 'A Procfile process name has characters outside [A-Za-z0-9_-].'),
    'procfile-empty-command': ('error', 'A Procfile process has no command.'),
    'procfile-duplicate': ('error', 'A Procfile names the same process twice.'),
    'procfile-empty': ('error', 'The Procfile declares no process.'),
    'leanengine-yaml-invalid': ('error', 'leanengine.yaml is not valid YAML or its run: is not a command.'),
    'python-syntax-error': ('error', 'An entry-point Python file does not parse.'),
    'no-web-process': ('error', 'pyfleet cannot tell how to start the app.'),
    'gunicorn-bind-ignored': ('note', "pyfleet binds gunicorn to its own socket; the Procfile's --bind is replaced."),
    'gunicorn-not-required': ('warning', 'gunicorn serves the app but is not in the requirements; pyfleet installs it.'),
    # Django
    'django-not-required': ('warning', 'manage.py exists but Django is not a requirement, so Django steps are skipped.'),
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


class PlanError(Exception):
    """Raised by the single-purpose helpers (used by filters) for one finding."""

    def __init__(self, diagnostic):
        Exception.__init__(self, str(diagnostic))
        self.diagnostic = diagnostic


# --------------------------------------------------------------------------
# Reading platform files
# --------------------------------------------------------------------------
def read_text(path, rel, findings):
    """Read a small platform file as text, or add a 'file-encoding' error and return None.

    CRLF is fine; a UTF-8 BOM, UTF-16 or bytes that are not UTF-8 are not,
    because the platforms we replace do not accept them either.
    """
    with open(path, 'rb') as fh:
        data = fh.read()
    resave = ('Re-save %s as UTF-8 without a BOM (in VS Code: "Save with Encoding" > "UTF-8"; '
              'in Notepad: "UTF-8", not "UTF-8 with BOM"; or run: '
              "iconv -f UTF-16 -t UTF-8 %s | sed '1s/^\\xEF\\xBB\\xBF//' > tmp && mv tmp %s)." % (rel, rel, rel))
    if data.startswith(b'\xef\xbb\xbf'):
        findings.add('file-encoding', '%s starts with a UTF-8 byte order mark (BOM).' % rel, resave, rel, 1)
        return None
    if data.startswith((b'\xff\xfe', b'\xfe\xff')) or (len(data) >= 2 and b'\x00' in data[:64]):
        findings.add('file-encoding', '%s is encoded as UTF-16, not UTF-8.' % rel, resave, rel, 1)
        return None
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b'\n') + 1
        findings.add('file-encoding', '%s is not valid UTF-8 (byte 0x%02x).' % (rel, data[exc.start]),
                     resave, rel, line)
        return None
    return text.replace('\r\n', '\n').replace('\r', '\n')


# --------------------------------------------------------------------------
# File names: the platform files and their common misspellings
# --------------------------------------------------------------------------
PLATFORM_FILES = {
    # normalised core -> the right name
    'requirements': 'requirements.txt',
    'runtime': 'runtime.txt',
    'pythonversion': '.python-version',
    'procfile': 'Procfile',
    'leanengine': 'leanengine.yaml',
}
# Extensions a misspelling may carry; any other extension (requirements.in,
# requirements-dev.txt's "-dev", Procfile.dev) is a different, legitimate file.
_MISSPELL_EXTS = ('', 'txt', 'text', 'yml', 'yaml', 'cfg', 'conf', 'ini')


def _edit_distance(a, b, limit=3):
    """Levenshtein distance, cut off above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def misspelling_of(name):
    """The platform file ``name`` is a misspelling of, or None.

    >>> misspelling_of('requirments.txt')
    'requirements.txt'
    """
    if name in PLATFORM_FILES.values():
        return None
    low = name.lower().lstrip('.')
    stem, dot, ext = low.rpartition('.')
    if not dot:
        stem, ext = low, ''
    if ext not in _MISSPELL_EXTS:
        return None
    core = re.sub(r'[^a-z0-9]', '', stem)
    if not core:
        return None
    for key, right in PLATFORM_FILES.items():
        if core == key:
            return right
        limit = 1 if len(key) < 8 else 2
        if len(core) >= 5 and _edit_distance(core, key, limit) <= limit:
            return right
    return None


# --------------------------------------------------------------------------
# requirements.txt, read as pip reads it
# --------------------------------------------------------------------------
# Options pip accepts in a requirements file (pip/_internal/req/req_file.py).
_GLOBAL_OPTIONS_WITH_ARG = {
    '-i': 'index_url', '--index-url': 'index_url',
    '--extra-index-url': 'extra_index_urls',
    '-f': 'find_links', '--find-links': 'find_links',
    '--trusted-host': 'trusted_hosts',
    '--only-binary': None, '--no-binary': None, '--use-feature': None,
}
_GLOBAL_FLAGS = {'--no-index', '--pre', '--prefer-binary', '--require-hashes'}
_INCLUDE_OPTIONS = {'-r': 'requirement', '--requirement': 'requirement',
                    '-c': 'constraint', '--constraint': 'constraint'}
_EDITABLE_OPTIONS = {'-e', '--editable'}
_PER_REQ_OPTIONS = ('--hash', '--global-option', '--config-settings', '--install-option')
_COMMENT_RE = re.compile(r'(^|\s+)#.*$')
_VCS_RE = re.compile(r'^(git|hg|svn|bzr)\+', re.I)
_URL_RE = re.compile(r'^[a-z][a-z0-9+.-]*://', re.I)
_EGG_RE = re.compile(r'[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)')
_NAME_AT_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@')
_ARCHIVE_RE = re.compile(r'\.(whl|tar\.gz|tgz|tar\.bz2|tar\.xz|zip)$', re.I)


def canonical_name(name):
    """PEP 503 normalised project name."""
    return re.sub(r'[-_.]+', '-', name).lower()


def _logical_lines(text):
    """Yield (first physical line number, logical line) exactly as pip's preprocessing joins them.

    A line ending in a backslash continues on the next one, unless it is a comment line (its first
    non-space character is "#"): a comment line ends a continuation instead, and is dropped later. So
    "flask==3.1.3 \\" followed by "# note \\" yields "flask==3.1.3 ", and a comment *after* a
    requirement does not stop its backslash: the next line is swallowed by the comment, as in pip.
    """
    buf, start = [], None
    for number, line in enumerate(text.split('\n'), 1):
        comment = _COMMENT_RE.match(line) is not None
        if not line.endswith('\\') or comment:
            if comment:
                line = ' ' + line   # so the comment is stripped later
            if buf:
                buf.append(line)
                yield start, ''.join(buf)
                buf, start = [], None
            else:
                yield number, line
        else:
            if not buf:
                start = number
            buf.append(line.strip('\\'))
    if buf:
        yield start, ''.join(buf)


_ENV_VAR_RE = re.compile(r'\$\{([A-Z0-9_]+)\}')


def _expanded_lines(text, env, used):
    """(line number, line as written, line as pip reads it) for each logical line that is not blank:
    continuations joined, comments stripped, then ${NAME} expanded (pip's order)."""
    for number, line in _logical_lines(text):
        line = _COMMENT_RE.sub('', line).strip()
        if line:
            yield number, line, expand_env(line, env, used)


def expand_env(line, env, used):
    """pip's ${NAME} expansion (upper-case names only), from the app's environment; names are added to
    ``used``. A name the environment does not set is left as it is, as pip leaves it."""
    def sub(m):
        used.add(m.group(1))
        value = env.get(m.group(1))
        return m.group(0) if value is None else str(value)
    return _ENV_VAR_RE.sub(sub, line)


def _split_option(token, rest_tokens):
    """'--opt=value' or '--opt value' -> (opt, value, consumed extra tokens)."""
    if '=' in token and token.startswith('--'):
        opt, value = token.split('=', 1)
        return opt, value, 0
    if token.startswith('-') and not token.startswith('--') and len(token) > 2:
        return token[:2], token[2:].lstrip('='), 0   # -rfile.txt, -e.
    if rest_tokens:
        return token, rest_tokens[0], 1
    return token, None, 0


def _classify_requirement(spec, rel, number, findings, editable=False):
    """One requirement line (without options) -> a dict, or None on error."""
    item = {'file': rel, 'line': number, 'raw': spec, 'editable': editable,
            'name': None, 'specifier': '', 'marker': None, 'kind': 'named', 'pinned': False}
    if _VCS_RE.match(spec):
        item['kind'] = 'vcs'
        egg = _EGG_RE.search(spec)
        url_part = spec.split('#', 1)[0]
        item['name'] = canonical_name(egg.group(1)) if egg else None
        # a VCS URL is pinned when it names a ref after the last path segment: repo.git@v1.2
        tail = url_part.rsplit('/', 1)[-1]
        item['pinned'] = '@' in tail
        if not item['name'] and editable:
            findings.add('requirements-invalid-line',
                         'The editable VCS requirement %r has no "#egg=NAME".' % spec,
                         'Append "#egg=<project name>" to the URL, as pip requires for -e VCS URLs.',
                         rel, number)
            return None
        return item
    if _URL_RE.match(spec):
        item['kind'] = 'url'
        egg = _EGG_RE.search(spec)
        item['name'] = canonical_name(egg.group(1)) if egg else None
        item['pinned'] = bool(_ARCHIVE_RE.search(spec.split('#', 1)[0]))
        return item
    if spec.startswith(('.', '/', '~')) or (editable and not re.match(r'^[A-Za-z0-9]', spec)):
        item['kind'] = 'path'
        item['pinned'] = True   # local code ships with the app
        return item
    if editable and os.sep in spec:
        item['kind'] = 'path'
        item['pinned'] = True
        return item
    if _ARCHIVE_RE.search(spec) and '/' in spec and not _NAME_AT_RE.match(spec):
        item['kind'] = 'path'
        item['pinned'] = True
        return item
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        findings.add('requirements-invalid-line',
                     'pip cannot read %r: %s' % (spec, str(exc).split('\n')[0]),
                     'Write it as pip expects, e.g. "flask==3.0.3", "requests>=2.31,<3", '
                     '"git+https://host/repo.git@v1#egg=name" or "-r other.txt".',
                     rel, number)
        return None
    item['name'] = canonical_name(req.name)
    item['specifier'] = str(req.specifier)
    item['marker'] = str(req.marker) if req.marker else None
    item['extras'] = sorted(req.extras)
    if req.url:
        item['kind'] = 'vcs' if _VCS_RE.match(req.url) else 'url'
        item['pinned'] = '@' in req.url.rsplit('/', 1)[-1] or bool(_ARCHIVE_RE.search(req.url))
    else:
        item['pinned'] = any(s.operator in ('==', '===') and '*' not in s.version for s in req.specifier)
    return item


def parse_requirements(app_dir, rel='requirements.txt', findings=None, env=None):
    """Read ``rel`` (relative to ``app_dir``) and its -r/-c includes as pip does.

    ``${NAME}`` is expanded from ``env`` (the app's environment) to judge each line, as pip expands it
    from the install's environment; the plan keeps the lines as written (values may be secrets) and
    lists the names in ``env_vars``. Returns a dict with the requirements, the constraints, the index
    options and the files read. Findings go to ``findings``.
    """
    findings = Findings() if findings is None else findings
    result = {'files': [], 'requirements': [], 'constraints': [], 'index_url': None,
              'extra_index_urls': [], 'find_links': [], 'trusted_hosts': [], 'no_index': False,
              'pre': False, 'require_hashes': False, 'env_vars': []}
    used, first = set(), len(findings)
    env = env or {}
    _walk_requirements(app_dir, rel, findings, result, [], 'requirement', env=env, env_used=used)
    result['env_vars'] = sorted(used)
    # what the plan keeps and prints names the variables, never their values (tokens in index URLs)
    values = sorted(((str(env[n]), n) for n in used if env.get(n) is not None and len(str(env[n])) >= 4),
                    key=lambda vn: -len(vn[0]))
    if values:
        def redact(obj):
            if isinstance(obj, str):
                for value, name in values:
                    obj = obj.replace(value, '${%s}' % name)
                return obj
            if isinstance(obj, list):
                return [redact(o) for o in obj]
            if isinstance(obj, dict):
                return {k: redact(v) for k, v in obj.items()}
            return obj
        result.update(redact({k: v for k, v in result.items() if k != 'env_vars'}))
        for d in findings[first:]:
            d.message, d.fix = redact(d.message), redact(d.fix)
    return result


def _walk_requirements(app_dir, rel, findings, result, stack, role, from_file=None, from_line=None, env=None,
                       env_used=None):
    root = os.path.realpath(app_dir)
    path = os.path.realpath(os.path.join(root, rel))
    if not os.path.isfile(path):
        findings.add('requirements-include-missing',
                     '%s includes %r, which does not exist.' % (from_file, rel),
                     'Create %s, or fix the path (it is relative to %s).' % (rel, from_file),
                     from_file, from_line)
        return
    if path != root and not path.startswith(root + os.sep):
        findings.add('requirements-include-outside',
                     '%s includes %r, which is outside the app directory and would not be shipped.' % (from_file, rel),
                     'Move the file into the app directory and include it by a relative path.',
                     from_file, from_line)
        return
    rel = os.path.relpath(path, root)
    if path in stack:
        chain = ' -> '.join([os.path.relpath(p, root) for p in stack] + [rel])
        findings.add('requirements-include-cycle', 'The -r includes form a cycle: %s.' % chain,
                     'Remove the -r line that points back to an including file.', from_file, from_line)
        return
    if rel not in result['files']:
        result['files'].append(rel)
    text = read_text(path, rel, findings)
    if text is None:
        return
    stack = stack + [path]
    target = result['requirements'] if role == 'requirement' else result['constraints']
    for number, written, line in _expanded_lines(text, env, env_used):
        first = line.split()[0]
        if first.startswith('-'):
            try:   # pip hands option lines to optparse after shlex-splitting them
                tokens = shlex.split(line, posix=True)
            except ValueError as exc:
                findings.add('requirements-invalid-line', 'pip cannot read %r: %s.' % (line, exc),
                             'Close the quote or remove it.', rel, number)
                continue
            opt, value, used = _split_option(first, tokens[1:])
            rest = tokens[1 + used:]
            if opt in _INCLUDE_OPTIONS:
                if not value:
                    findings.add('requirements-invalid-line', '%s needs a file name.' % opt,
                                 'Write "%s other-requirements.txt".' % opt, rel, number)
                    continue
                if _URL_RE.match(value):
                    findings.add('requirements-remote-include',
                                 '%s %s is fetched by pip at install time.' % (opt, value),
                                 'Vendor the file into the app so deploys do not depend on that host.',
                                 rel, number)
                    continue
                inc = os.path.normpath(os.path.join(os.path.dirname(rel), value))
                _walk_requirements(app_dir, inc, findings, result, stack, _INCLUDE_OPTIONS[opt], rel, number,
                                   env, env_used)
            elif opt in _EDITABLE_OPTIONS:
                if not value:
                    findings.add('requirements-invalid-line', '-e needs a path or VCS URL.',
                                 'Write "-e ." or "-e git+https://host/repo.git@ref#egg=name".', rel, number)
                    continue
                item = _classify_requirement(value, rel, number, findings, editable=True)
                if item:
                    target.append(item)
            elif opt in _GLOBAL_OPTIONS_WITH_ARG:
                if value is None:
                    findings.add('requirements-invalid-line', '%s needs a value.' % opt,
                                 'Write "%s <value>".' % opt, rel, number)
                    continue
                key = _GLOBAL_OPTIONS_WITH_ARG[opt]
                if key == 'index_url':
                    result['index_url'] = value
                elif key:
                    result[key].append(value)
            elif opt in _GLOBAL_FLAGS:
                if opt == '--no-index':
                    result['no_index'] = True
                elif opt == '--pre':
                    result['pre'] = True
                elif opt == '--require-hashes':
                    result['require_hashes'] = True
            else:
                findings.add('requirements-unknown-option', 'pip does not accept %r in a requirements file.' % opt,
                             'Remove it, or use one of: -r, -c, -e, -i/--index-url, --extra-index-url, '
                             '-f/--find-links, --trusted-host, --no-index, --pre, --prefer-binary, '
                             '--only-binary, --no-binary, --require-hashes.', rel, number)
            continue
        # a requirement, possibly followed by per-requirement options (pip's break_args_options)
        spec_tokens, options = [], []
        for tok in line.split():
            if tok.startswith('-') or options:
                options.append(tok)
            else:
                spec_tokens.append(tok)
        bad = [o for o in options if o.startswith('-') and o.split('=', 1)[0] not in _PER_REQ_OPTIONS]
        if bad:
            findings.add('requirements-unknown-option',
                         'pip does not accept %r after a requirement.' % bad[0].split('=', 1)[0],
                         'Only --hash, --config-settings and --global-option may follow a requirement.',
                         rel, number)
            continue
        item = _classify_requirement(' '.join(spec_tokens), rel, number, findings)
        if item:
            item['hashes'] = [o.split('=', 1)[1] for o in options if o.startswith('--hash=')]
            target.append(item)


# --------------------------------------------------------------------------
# Python versions
# --------------------------------------------------------------------------
_NON_CPYTHON = ('pypy', 'jython', 'ironpython', 'anaconda', 'miniconda', 'miniforge', 'mambaforge',
                'graalpy', 'graalpython', 'stackless', 'micropython', 'pyston', 'activepython', 'nogil',
                'cinder', 'rustpython')
# X.Y or X.Y.Z, numbers without leading zeros (Heroku's rule)
_SPEC_RE = re.compile(r'^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?$')


def _vtuple(version):
    return tuple(int(p) for p in version.split('.'))


def load_catalogue(path=None, data=None, overrides=None):
    """The catalogue as a dict: from YAML text at ``path``, or ``data``, merged with ``overrides``."""
    if data is None:
        if not HAS_YAML:  # pragma: no cover
            raise RuntimeError('PyYAML is needed to read %s' % path)
        with open(path, 'r') as fh:
            data = yaml.safe_load(fh)
    cat = {'default': data.get('default'), 'checked': data.get('checked'),
           'minors': {str(k): dict(v) for k, v in (data.get('minors') or {}).items()}}
    for key, value in (overrides or {}).items():
        if key == 'minors':
            for minor, fields in (value or {}).items():
                cat['minors'].setdefault(str(minor), {}).update(fields or {})
        else:
            cat[key] = value
    for minor, entry in cat['minors'].items():
        if not _SPEC_RE.match(minor) or _SPEC_RE.match(minor).group(3):
            raise ValueError('catalogue minor %r is not "X.Y"' % minor)
        if 'latest' not in entry or not str(entry['latest']).startswith(minor + '.'):
            raise ValueError('catalogue minor %s needs latest: "%s.N"' % (minor, minor))
        entry['latest'] = str(entry['latest'])
        entry['eol'] = str(entry['eol']) if entry.get('eol') else None
        entry.setdefault('status', 'bugfix')
    return cat


def versions_from_listing(items):
    """Versions 'X.Y.Z' named by a mirror listing (plain versions or tarball names)."""
    found = set()
    for item in items or []:
        for m in re.finditer(r'(?<![\d.])(\d+\.\d+\.\d+)(?![\d]|\.\d|[abc]\d|rc\d)', str(item)):
            found.add(m.group(1))
    return sorted(found, key=_vtuple)


def supported_minors(catalogue, today):
    """Minors that are neither end of life nor pre-release, newest first."""
    out = []
    for minor, entry in catalogue['minors'].items():
        if entry['status'] in ('end-of-life', 'prerelease'):
            continue
        if entry.get('eol') and entry['eol'] <= today.isoformat():
            continue
        out.append(minor)
    return sorted(out, key=_vtuple, reverse=True)


_ASCII_SPACE = ' \t\r\n\f\v'
# control characters have no Unicode name; these are the ones a terminal or an editor leaves behind
_CONTROL_NAMES = {0x00: 'NULL', 0x07: 'BELL', 0x08: 'BACKSPACE', 0x1b: 'ESCAPE',
                  0x7f: 'DELETE', 0x85: 'NEXT LINE'}


def invisible_characters(line):
    """Characters in ``line`` a person cannot see or tell from a space: control and format characters, and
    any space but the ASCII one and the tab, each named with its column, e.g. 'U+200B ZERO WIDTH SPACE
    (column 5)'."""
    out = []
    for column, ch in enumerate(line, 1):
        if ch in ' \t':
            continue
        if unicodedata.category(ch) in ('Cc', 'Cf', 'Co', 'Cn', 'Zs', 'Zl', 'Zp'):
            name = _CONTROL_NAMES.get(ord(ch)) or unicodedata.name(ch, 'CONTROL CHARACTER')
            out.append('U+%04X %s (column %d)' % (ord(ch), name, column))
    return out


def parse_version_file(name, text, findings):
    """runtime.txt or .python-version text -> (spec, line) or (None, None) after adding findings.

    Read as Heroku's buildpack reads both: a line that is blank or starts with "#" (after spaces) is a
    comment; exactly one other line must hold the version, with nothing else on it but ASCII spaces and
    tabs around it ("python-X.Y[.Z]" in runtime.txt, "X.Y[.Z]" in .python-version; numbers without leading
    zeros). Anything invisible on that line is named.
    """
    lines = []
    for number, raw in enumerate(text.split('\n'), 1):
        line = raw.strip(_ASCII_SPACE)
        if line and not line.startswith('#'):
            lines.append((line, number))
    example = 'python-3.14.4' if name == 'runtime.txt' else '3.14'
    if not lines:
        findings.add('python-version-invalid', '%s holds no version (a line starting with "#" is a comment).' % name,
                     'Write one version, e.g. "%s", or delete the file to use the default.' % example, name, 1)
        return None, None
    if len(lines) > 1:
        findings.add('python-version-multiple',
                     '%s names %d versions, on lines %s (%s); pyfleet installs exactly one.'
                     % (name, len(lines), ', '.join(str(n) for _, n in lines), ', '.join(w for w, _ in lines)),
                     'Keep one version line, e.g. "%s"; start any other line with "#" to make it a comment.'
                     % example, name, lines[1][1])
        return None, None
    line, number = lines[0]
    hidden = invisible_characters(line)
    if hidden:
        findings.add('python-version-invalid',
                     '%s line %d holds characters that cannot be seen: %s.' % (name, number, '; '.join(hidden)),
                     'Retype the line by hand as "%s" (an editor or a copy from a web page or a terminal put them '
                     'there).' % example, name, number)
        return None, None
    words = line.split()
    if len(words) > 1:
        if all(_SPEC_RE.match(w.lower()[len('python-'):] if w.lower().startswith('python-') else w) for w in words):
            findings.add('python-version-multiple',
                         '%s line %d names %d versions (%s); pyfleet installs exactly one.'
                         % (name, number, len(words), ', '.join(words)),
                         'Keep one version, e.g. "%s".' % example, name, number)
        elif '#' in line:
            findings.add('python-version-invalid', '%s line %d holds %r: a comment after the version.'
                         % (name, number, line),
                         'Put the comment on a line of its own, starting with "#", and keep "%s" alone on its line.'
                         % words[0], name, number)
        else:
            findings.add('python-version-invalid', '%s line %d holds %r, which is not one version.'
                         % (name, number, line), 'Write one version, e.g. "%s".' % example, name, number)
        return None, None
    word = words[0]
    low = word.lower()
    bare = low[len('python-'):] if low.startswith('python-') else low
    if bare.startswith(_NON_CPYTHON) or low.startswith(_NON_CPYTHON):
        findings.add('python-not-cpython', '%s asks for %r, which is not CPython.' % (name, word),
                     'pyfleet installs CPython only. Ask for a CPython version, e.g. "%s".' % example, name, number)
        return None, None
    if name == 'runtime.txt':
        m = re.match(r'^python-(.*)$', low)
        if not m or not _SPEC_RE.match(m.group(1)):
            hint = ('Write "python-%s".' % low) if _SPEC_RE.match(low) else 'Write e.g. "%s".' % example
            findings.add('python-version-invalid',
                         'runtime.txt holds %r; it must be "python-X.Y" or "python-X.Y.Z".' % word,
                         hint, name, number)
            return None, None
        return m.group(1), number
    if _SPEC_RE.match(low):
        return low, number
    if low.startswith('python-') and _SPEC_RE.match(bare):
        fix = 'Write "%s" (the "python-" prefix belongs in runtime.txt, not .python-version).' % bare
    elif low in ('system',):
        fix = 'Name a CPython version, e.g. "3.14"; "system" means the host\'s Python, which pyfleet does not use.'
    elif re.match(r'^\d+$', low):
        fix = 'Name a minor version, e.g. "%s.14"; a major version alone is ambiguous.' % low
    else:
        fix = 'Write "X.Y" (newest patch) or "X.Y.Z", e.g. "3.14".'
    findings.add('python-version-invalid', '.python-version holds %r, which is not a CPython version.' % word,
                 fix, name, number)
    return None, None


def resolve_python(spec, catalogue, today, available=None, allow_eol=False, deny=(),
                   near_eol_days=180, source=None, line=None, findings=None, is_default=False):
    """Resolve 'X.Y' or 'X.Y.Z' against the catalogue (and a mirror's listing).

    Returns a dict (version, minor, eol, status, ...) or None when an error was added.
    """
    findings = Findings() if findings is None else findings
    errors_before = len(findings.errors())
    m = _SPEC_RE.match(str(spec).strip())
    supported = supported_minors(catalogue, today)
    # what can be installed here: with a mirror's listing, every suggestion names only what it holds
    have = versions_from_listing(available) if available is not None else None
    if have is not None:
        supported = [s for s in supported if any(v.startswith(s + '.') for v in have)] or \
            sorted({v.rsplit('.', 1)[0] for v in have}, key=_vtuple, reverse=True)
    listed = ', '.join(supported)
    if not m:
        findings.add('python-version-invalid', '%r is not "X.Y" or "X.Y.Z".' % spec,
                     'Use a version such as %s.' % (supported[0] if supported else '3.14'), source, line)
        return None
    minor = '%s.%s' % (m.group(1), m.group(2))
    entry = catalogue['minors'].get(minor)
    if entry is None:
        findings.add('python-version-unknown', 'Python %s is not a version pyfleet knows.' % spec,
                     'Use one of the supported versions: %s.' % listed, source, line)
        return None
    latest = entry['latest']
    eol = entry.get('eol')
    status = entry['status']
    if eol and eol <= today.isoformat() and status != 'prerelease':
        status = 'end-of-life'
    if status == 'prerelease' and not allow_eol:
        findings.add('python-version-prerelease', 'Python %s is a pre-release.' % minor,
                     'Use a released version: %s.' % listed, source, line)
        return None
    if status == 'end-of-life':
        msg = 'Python %s reached end of life on %s and no longer gets security fixes.' % (minor, eol or 'an earlier date')
        if allow_eol:
            findings.add('python-version-eol-allowed', msg + ' The operator allows it.',
                         'Upgrade to a supported version: %s.' % listed, source, line)
        else:
            findings.add('python-version-eol', msg,
                         'Upgrade to a supported version (%s), or, for a legacy app, have the operator set '
                         'app_plan_allow_eol: true.' % listed, source, line)
            return None
    elif eol and near_eol_days is not None:
        days = (datetime.date.fromisoformat(eol) - today).days
        if 0 <= days <= near_eol_days:
            findings.add('python-version-near-eol', 'Python %s reaches end of life on %s (in %d days).' % (minor, eol, days),
                         'Plan the upgrade to %s.' % (supported[0] if supported else 'a newer minor'), source, line)
    if m.group(3) is not None and have is not None:
        version = '%s.%s' % (minor, m.group(3))
        in_minor = [v for v in have if v.startswith(minor + '.')]
        if version in have and _vtuple(version) < _vtuple(in_minor[-1]):
            findings.add('python-version-outdated', 'Python %s is pinned; %s is the newest %s that can be installed.'
                         % (version, in_minor[-1], minor),
                         'Pin %s (or write "%s" to always get the newest patch).' % (in_minor[-1], minor), source, line)
    elif m.group(3) is not None:
        version = '%s.%s' % (minor, m.group(3))
        if _vtuple(version) < _vtuple(latest):
            findings.add('python-version-outdated', 'Python %s is pinned; %s is the newest %s release.' % (version, latest, minor),
                         'Pin %s (or write "%s" to always get the newest patch).' % (latest, minor), source, line)
        elif _vtuple(version) > _vtuple(latest):
            findings.add('python-version-newer-than-catalogue',
                         'Python %s is newer than the catalogue knows (%s, checked %s).'
                         % (version, latest, catalogue.get('checked') or 'unknown'),
                         'Nothing to do if it exists; the operator can update app_plan_catalogue_overrides.',
                         source, line)
    else:
        version = latest
    result = {'version': version, 'minor': minor, 'eol': eol, 'status': status, 'latest': latest,
              'spec': str(spec), 'mirror': None}
    if available is not None:
        have = versions_from_listing(available)
        in_minor = [v for v in have if v.startswith(minor + '.')]
        mirror_text = ', '.join(have) if have else 'nothing'
        if m.group(3) is not None:
            if version not in have:
                findings.add('python-version-not-on-mirror',
                             'Python %s cannot be installed here: %s. What can be installed: %s.'
                             % (version, 'no such release is known' if _vtuple(version) > _vtuple(latest)
                                else 'the mirror does not hold it', mirror_text),
                             'Pin one of those%s, or add Python-%s.tgz to the mirror.'
                             % (' (e.g. "%s" for the newest %s)' % (minor, minor) if in_minor else '', version),
                             source, line)
                return None
        elif not in_minor:
            findings.add('python-version-not-on-mirror', 'The mirror has no Python %s release; it has: %s.' % (minor, mirror_text),
                         'Ask for a minor the mirror holds, or add Python-%s.tgz to the mirror.' % latest, source, line)
            return None
        elif in_minor[-1] != version:
            result['mirror'] = in_minor[-1]
            findings.add('python-version-mirror-substitute',
                         'Python %s resolves to %s, the newest %s the mirror holds (%s is the newest release).'
                         % (spec, in_minor[-1], minor, latest),
                         'Add Python-%s.tgz to the mirror to get the newest patch.' % latest, source, line)
            version = result['version'] = in_minor[-1]
    if version in [str(d) for d in deny] or str(spec) in [str(d) for d in deny]:
        findings.add('python-version-denied', 'Python %s is on the operator\'s deny-list.' % version,
                     'Pin another %s patch, e.g. %s.' % (minor, latest) if latest != version
                     else 'Pin another supported version: %s.' % listed, source, line)
        return None
    if len(findings.errors()) > errors_before:
        return None
    return result


def _newest_satisfying(requires, catalogue, today, available, source):
    """(version, minor) of the newest installable patch of a supported minor that satisfies the
    ``requires`` specifier (requires-python, or a Pipfile's), or (None, what was tried)."""
    have = versions_from_listing(available) if available is not None else None
    tried = []
    for minor in supported_minors(catalogue, today):
        if have is not None:
            in_minor = [v for v in have if v.startswith(minor + '.')]
            newest = in_minor[-1] if in_minor else None
        else:
            newest = catalogue['minors'][minor]['latest']
        if newest is None:
            continue
        tried.append(newest)
        try:
            if Version(newest) in SpecifierSet(requires):
                return newest, minor
        except (InvalidSpecifier, InvalidVersion):
            return None, tried
    return None, tried


def resolve_default_python(catalogue, today, default=None, available=None, findings=None, requires=None,
                           requires_source='pyproject.toml', **kwargs):
    """The version for an app that names none: with ``requires`` (requires-python), the newest installable
    version that satisfies it; else the default minor, or the newest supported on the mirror."""
    findings = Findings() if findings is None else findings
    if requires:
        version, tried = _newest_satisfying(requires, catalogue, today, available, requires_source)
        if version is None:
            findings.add('python-version-requires-python',
                         'No Python that can be installed here satisfies requires-python "%s" in %s (tried %s).'
                         % (requires, requires_source, ', '.join(tried) or 'nothing'),
                         'Relax requires-python, or pin a version in .python-version.', requires_source)
            return None
        res = resolve_python(version, catalogue, today, available=available, findings=findings,
                             source=None, is_default=True, **kwargs)
        if res:
            findings.add('python-version-default',
                         'No runtime.txt or .python-version; using Python %s, the newest that can be installed and '
                         'satisfies requires-python "%s" in %s.' % (res['version'], requires, requires_source),
                         'Pin a version in .python-version (e.g. "%s") to make the choice explicit.' % res['minor'])
        return res
    minor = str(default or catalogue.get('default') or (supported_minors(catalogue, today) or ['3.14'])[0])
    if available is not None:
        have = versions_from_listing(available)
        if not any(v.startswith(minor + '.') for v in have):
            supported = supported_minors(catalogue, today)
            for cand in supported:
                if any(v.startswith(cand + '.') for v in have):
                    findings.add('python-version-default',
                                 'No runtime.txt or .python-version; the default %s is not on the mirror, so the '
                                 'newest supported minor it holds, %s, is used.' % (minor, cand),
                                 'Pin a version in .python-version (e.g. "%s") to make the choice explicit.' % cand)
                    minor = cand
                    break
    res = resolve_python(minor, catalogue, today, available=available, findings=findings,
                         source=None, is_default=True, **kwargs)
    if res:
        findings.add('python-version-default',
                     'No runtime.txt or .python-version; using the default, Python %s.' % res['version'],
                     'Pin a version in .python-version (e.g. "%s") so upgrades of pyfleet do not change it.' % res['minor'])
    return res


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------
PROC_NAME_RE = re.compile(r'^[A-Za-z0-9_-]+$')


def parse_procfile(text, findings, rel='Procfile'):
    """Procfile text -> ordered dict name -> {command, line}."""
    procs = {}
    for number, raw in enumerate(text.split('\n'), 1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        name, colon, command = line.partition(':')
        name, command = name.strip(), command.strip()
        if not colon or len(name.split()) > 1:
            words = line.split(None, 1)
            guess = ('%s: %s' % (words[0], words[1]) if len(words) == 2 and PROC_NAME_RE.match(words[0])
                     else 'web: gunicorn app:app')
            findings.add('procfile-invalid-line', 'Line %d is not "name: command": %r.' % (number, line),
                         'Write "%s".' % guess, rel, number)
            continue
        if not PROC_NAME_RE.match(name):
            findings.add('procfile-invalid-name', 'Process name %r may only use letters, digits, "_" and "-".' % name,
                         'Rename it, e.g. "%s".' % (re.sub(r'[^A-Za-z0-9_-]+', '_', name).strip('_') or 'web'),
                         rel, number)
            continue
        if not command:
            findings.add('procfile-empty-command', 'Process %r has no command.' % name,
                         'Write the command after the colon, e.g. "%s: gunicorn app:app".' % name, rel, number)
            continue
        if name in procs:
            findings.add('procfile-duplicate', 'Process %r is declared on line %d and again on line %d.'
                         % (name, procs[name]['line'], number),
                         'Keep one "%s:" line.' % name, rel, number)
            continue
        procs[name] = {'command': command, 'line': number}
    if not procs and not findings.errors():
        findings.add('procfile-empty', 'The Procfile declares no process.',
                     'Add a line such as "web: gunicorn app:app".', rel, None)
    return procs


_GUNICORN_VALUE_OPTS = {'-b', '--bind', '-w', '--workers', '-k', '--worker-class', '-t', '--timeout', '-c',
                        '--config', '--threads', '--chdir', '--pythonpath', '--log-level', '-n', '--name',
                        '--max-requests', '--max-requests-jitter', '--graceful-timeout', '--keep-alive',
                        '--access-logfile', '--error-logfile', '--access-logformat', '-e', '--env',
                        '--worker-connections', '--forwarded-allow-ips', '--limit-request-line',
                        '--limit-request-fields', '--limit-request-field_size', '-u', '--user', '-g', '--group',
                        '-m', '--umask', '--log-config', '--statsd-host', '--proxy-allow-from', '--paste',
                        '--worker-tmp-dir', '--backlog', '-p', '--pid', '--capture-output'}


def classify_web(command):
    """A web command -> how pyfleet serves it.

    'gunicorn': pyfleet runs gunicorn on its own unix socket with the app's
    module and the remaining options; 'command': the command binds $PORT.
    """
    try:
        argv = shlex.split(command)
    except ValueError:
        return {'mode': 'command', 'command': command}
    # strip leading VAR=value assignments and "env"
    while argv and (argv[0] == 'env' or re.match(r'^[A-Za-z_][A-Za-z0-9_]*=', argv[0])):
        argv.pop(0)
    if argv[:3] in (['python', '-m', 'gunicorn'], ['python3', '-m', 'gunicorn']):
        argv = ['gunicorn'] + argv[3:]
    if not argv or os.path.basename(argv[0]) != 'gunicorn':
        return {'mode': 'command', 'command': command}
    app, options, dropped = None, [], []
    i = 1
    while i < len(argv):
        tok = argv[i]
        # "--opt=value" and "-w4" carry their value; a bare value option takes the next word
        takes_next = tok in _GUNICORN_VALUE_OPTS
        words = argv[i:i + 2] if takes_next else argv[i:i + 1]
        i += len(words)
        if not tok.startswith('-'):
            if app is None:
                app = tok
            else:
                options.append(tok)
        elif tok in ('-b', '--bind') or tok.startswith('--bind=') or (tok.startswith('-b') and tok[1] != '-'):
            dropped.append(' '.join(words))
        else:
            options.extend(words)
    if app is None:
        return {'mode': 'command', 'command': command}
    chdir, rest, i = '.', [], 0
    while i < len(options):   # --chdir is kept apart: pyfleet points it into the release
        if options[i] == '--chdir' and i + 1 < len(options):
            chdir, i = options[i + 1], i + 2
            continue
        if options[i].startswith('--chdir='):
            chdir = options[i].split('=', 1)[1]
        else:
            rest.append(options[i])
        i += 1
    return {'mode': 'gunicorn', 'wsgi_app': app, 'gunicorn_args': rest, 'dropped_args': dropped,
            'command': command, 'chdir': chdir.strip('/') or '.'}


def _defines_name(path, rel, name, findings):
    """Does the Python file define ``name`` at top level? None when it does not parse."""
    text = read_text(path, rel, findings)
    if text is None:
        return None
    try:
        tree = ast.parse(text, filename=rel)
    except SyntaxError as exc:
        findings.add('python-syntax-error', '%s does not parse: %s.' % (rel, exc.msg),
                     'Fix the syntax error at line %s.' % exc.lineno, rel, exc.lineno)
        return None
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                return True
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if (alias.asname or alias.name.split('.')[0]) == name:
                    return True
        elif isinstance(node, (ast.If, ast.Try)):
            # definitions guarded by if/try at top level still count
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and sub.id == name and isinstance(sub.ctx, ast.Store):
                    return True
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and sub.id == name:
                    return True
    return False


# --------------------------------------------------------------------------
# The walk
# --------------------------------------------------------------------------
_SKIP_DIRS = {'.git', '.hg', '.svn', 'node_modules', '__pycache__', '.tox', '.nox', '.mypy_cache',
              '.pytest_cache', 'venv', '.venv', 'env', '.env', 'site-packages', 'static', 'staticfiles',
              'media', 'dist', 'build', '.eggs'}


def find_files_bounded(root, name, max_depth=3, limit_dirs=2000):
    """Paths (relative) of files called ``name`` at most ``max_depth`` directories deep, shallowest first.

    Only directory entries are listed, no file is read, and well-known bulky
    folders are skipped, so this stays fast on large trees.
    """
    found, frontier, seen = [], [''], 0
    for depth in range(max_depth + 1):
        nxt = []
        for rel in frontier:
            seen += 1
            if seen > limit_dirs:
                return found
            try:
                it = os.scandir(os.path.join(root, rel))
            except OSError:
                continue
            with it:
                for entry in it:
                    if entry.name == name and entry.is_file():
                        found.append(os.path.join(rel, entry.name))
                    elif depth < max_depth and entry.is_dir(follow_symlinks=False) and entry.name not in _SKIP_DIRS \
                            and not entry.name.startswith('.'):
                        nxt.append(os.path.join(rel, entry.name))
        if found:
            return sorted(found)
        frontier = sorted(nxt)
    return found


def _truthy_env(value):
    return value is not None and str(value).strip() not in ('', '0')


def _django_details(root, manage_rel, findings):
    """Settings module, project package and WSGI app for a Django project, read without importing."""
    base = os.path.dirname(manage_rel)
    info = {'manage_py': manage_rel, 'chdir': base or '.', 'settings_module': None, 'wsgi_app': None}
    text = read_text(os.path.join(root, manage_rel), manage_rel, findings)
    if text is None:
        return info
    m = re.search(r'''DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]''', text)
    if m:
        info['settings_module'] = m.group(1)
        mod_path = os.path.join(root, base, *m.group(1).split('.'))
        for cand in (mod_path + '.py', os.path.join(mod_path, '__init__.py'), os.path.join(mod_path, 'base.py'),
                     os.path.join(mod_path, 'production.py')):
            if os.path.isfile(cand):
                try:
                    with open(cand, 'rb') as fh:
                        stext = fh.read(262144).decode('utf-8', 'replace')
                except OSError:
                    continue
                wm = re.search(r'''^WSGI_APPLICATION\s*=\s*['"]([\w.]+)['"]''', stext, re.M)
                if wm:
                    mod, _, attr = wm.group(1).rpartition('.')
                    info['wsgi_app'] = '%s:%s' % (mod, attr)
                    break
    if not info['wsgi_app']:
        findings.add('django-settings-unknown',
                     'Could not find WSGI_APPLICATION in the settings named by %s.' % manage_rel,
                     'Set WSGI_APPLICATION = "<project>.wsgi.application" in settings, or add a Procfile '
                     'with "web: gunicorn <project>.wsgi".', manage_rel)
    return info


def read_ignore_file(path):
    """Patterns from a .slugignore / .leanignore (comments and blanks dropped)."""
    out = []
    try:
        with open(path, 'rb') as fh:
            text = fh.read().decode('utf-8', 'replace').lstrip('\ufeff')
    except OSError:
        return out
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith('#'):
            out.append(line)
    return out


ALWAYS_EXCLUDE = ['.git', '.hg', '.svn', '__pycache__', '*.pyc', '/.venv']


def build_plan(src, catalogue, today=None, available=None, default_python=None, allow_eol=False,
               deny=(), near_eol_days=180, env=None, migrations=True):
    """Inspect the app at ``src`` and return the plan (a plain dict). Reads only the platform files."""
    findings = Findings()
    env = env or {}
    today = today or datetime.date.today()
    if isinstance(today, str):
        today = datetime.date.fromisoformat(today)
    plan = {'src': src, 'is_python': False, 'platform': 'heroku', 'package_manager': None,
            'requirements': None, 'python': None, 'processes': {}, 'release': None, 'web': None,
            'django': None, 'ship_exclude': list(ALWAYS_EXCLUDE), 'extra_packages': [],
            'errors': [], 'warnings': [], 'notes': []}
    if not src:
        findings.add('src-missing', 'No app source was given.',
                     'Run: ansible-playbook deploy.yml -i INVENTORY -e app_src=PATH/TO/APP')
        return _finish(plan, findings)
    if not os.path.isdir(src):
        findings.add('src-missing', 'The app source %s is not a directory.' % src,
                     'Point app_src at the directory that holds requirements.txt.')
        return _finish(plan, findings)
    root = src
    try:
        entries = {e.name: e for e in os.scandir(root)}
    except OSError as exc:
        findings.add('src-missing', 'Cannot list %s: %s.' % (src, exc), 'Check the path and its permissions.')
        return _finish(plan, findings)
    files = {n for n, e in entries.items() if e.is_file()}
    dirs = {n for n, e in entries.items() if e.is_dir()}

    # -- misspelled platform files
    for name in sorted(files):
        right = misspelling_of(name)
        if right:
            if right in files:
                findings.add('misspelled-file-ignored',
                             '%r sits beside %s and looks like a misspelled copy of it; as on Heroku, pyfleet will not '
                             'guess which of the two was meant.' % (name, right),
                             'Delete %s, or merge it into %s: git rm %s' % (shlex.quote(name), right, shlex.quote(name)),
                             name)
            else:
                findings.add('misspelled-file', '%s looks like a misspelling of %s, so it would be ignored.' % (name, right),
                             'Rename it: git mv %s %s' % (shlex.quote(name), shlex.quote(right)), name)

    # -- committed virtualenvs
    for d in sorted(dirs):
        if os.path.isfile(os.path.join(root, d, 'pyvenv.cfg')):
            findings.add('committed-virtualenv', 'The directory %s/ is a virtualenv inside the app source.' % d,
                         'Remove it from git and ignore it: git rm -r --cached %s && echo "%s/" >> .gitignore'
                         % (shlex.quote(d), d), d + '/pyvenv.cfg')

    # -- package manager
    managers = [f for f in ('requirements.txt', 'uv.lock', 'Pipfile', 'Pipfile.lock', 'poetry.lock') if f in files]
    kinds = set()
    for f in managers:
        kinds.add({'requirements.txt': 'pip', 'uv.lock': 'uv', 'Pipfile': 'pipenv', 'Pipfile.lock': 'pipenv',
                   'poetry.lock': 'poetry'}[f])
    requirement_names = set()
    pyproject = None
    lock_python = None      # (version, file, line) from Pipfile.lock
    requires_python = None  # a PEP 440 constraint the default version must satisfy
    if 'pyproject.toml' in files and tomllib is not None:
        text = read_text(os.path.join(root, 'pyproject.toml'), 'pyproject.toml', findings)
        if text is not None:
            try:
                pyproject = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                lm = re.search(r'line (\d+)', str(exc))
                findings.add('pyproject-invalid', 'pyproject.toml does not parse: %s.' % exc,
                             'Fix the TOML syntax.', 'pyproject.toml', int(lm.group(1)) if lm else None)
    if len(kinds) > 1:
        findings.add('multiple-package-managers',
                     'Found several package manager files: %s. pyfleet would not know which to trust.'
                     % ', '.join(managers),
                     'Keep exactly one: requirements.txt (pip), uv.lock + pyproject.toml (uv), Pipfile + Pipfile.lock '
                     '(Pipenv) or poetry.lock + pyproject.toml (Poetry); delete the others.',
                     managers[1])
    elif kinds == {'pip'}:
        plan['package_manager'] = 'pip'
        reqs = parse_requirements(root, 'requirements.txt', findings, env)
        plan['requirements'] = reqs
        requirement_names = {r['name'] for r in reqs['requirements'] if r['name']}
        unpinned = [r for r in reqs['requirements'] if not r['pinned']]
        if unpinned:
            findings.add('requirements-unpinned',
                         '%d requirement(s) are not pinned: %s.' % (
                             len(unpinned), ', '.join('%s (%s:%s)' % (r['name'] or r['raw'], r['file'], r['line'])
                                                      for r in unpinned)),
                         'Pin exact versions ("name==X.Y.Z"), e.g. with "pip freeze" or pip-tools, so every '
                         'deploy installs the same code.', unpinned[0]['file'], unpinned[0]['line'])
    elif kinds == {'uv'}:
        if 'pyproject.toml' not in files:
            findings.add('uv-lock-without-pyproject', 'uv.lock is present but pyproject.toml is not.',
                         'Commit the pyproject.toml that uv.lock was made from.', 'uv.lock')
        else:
            plan['package_manager'] = 'uv'
            deps = ((pyproject or {}).get('project') or {}).get('dependencies') or []
            plan['requirements'] = {'files': ['pyproject.toml', 'uv.lock'], 'requirements': [], 'constraints': []}
            for dep in deps:
                try:
                    requirement_names.add(canonical_name(Requirement(dep).name))
                except (InvalidRequirement, TypeError):
                    pass
    elif kinds == {'pipenv'}:
        texts = _read_texts(root, [f for f in ('Pipfile', 'Pipfile.lock') if f in files], findings)
        if texts is not None:
            locked = read_pipenv(texts)
            _add_problems(findings, locked['problems'])
            plan['package_manager'] = 'pipenv'
            plan['requirements'] = {'files': sorted(texts), 'requirements': [], 'constraints': [],
                                    'export': locked['lines'], 'env_vars': []}
            requirement_names = locked['names']
            if locked['python']:
                lock_python = (locked['python'], locked['python_file'], locked['python_line'])
    elif kinds == {'poetry'}:
        texts = _read_texts(root, [f for f in ('poetry.lock', 'pyproject.toml') if f in files], findings)
        if texts is not None:
            locked = read_poetry(texts, pyproject)
            _add_problems(findings, locked['problems'])
            plan['package_manager'] = 'poetry'
            plan['requirements'] = {'files': sorted(texts), 'requirements': [], 'constraints': [],
                                    'export': locked['lines'], 'env_vars': []}
            requirement_names = locked['names']
            requires_python = locked['requires']
    else:
        _not_python_app(root, files, dirs, findings)
    plan['is_python'] = bool(plan['package_manager'])

    # -- Python version
    specs = {}
    for name in ('runtime.txt', '.python-version'):
        if name in files:
            text = read_text(os.path.join(root, name), name, findings)
            if text is not None:
                spec, line = parse_version_file(name, text, findings)
                if spec:
                    specs[name] = (spec, line)
    resolve_kw = dict(today=today, available=available, allow_eol=allow_eol, deny=deny, near_eol_days=near_eol_days)
    python = None
    if len(specs) == 2:
        scratch = Findings()
        a = resolve_python(specs['runtime.txt'][0], catalogue, findings=scratch, **resolve_kw)
        b = resolve_python(specs['.python-version'][0], catalogue, findings=Findings(), **resolve_kw)
        if specs['runtime.txt'][0] != specs['.python-version'][0] and (not a or not b or a['version'] != b['version']):
            findings.add('python-version-conflict',
                         'runtime.txt asks for %s (line %d) but .python-version asks for %s (line %d).'
                         % (specs['runtime.txt'][0], specs['runtime.txt'][1],
                            specs['.python-version'][0], specs['.python-version'][1]),
                         'Keep one of the two files (.python-version is the modern one), or make them agree.',
                         'runtime.txt', specs['runtime.txt'][1])
        else:
            findings.add('runtime-txt-deprecated', 'runtime.txt and .python-version agree; runtime.txt is used.',
                         'Delete runtime.txt and keep .python-version, which pyenv and uv also read.', 'runtime.txt')
            findings.extend(scratch)
            python = a
            if python:
                python.update(source='runtime.txt', source_line=specs['runtime.txt'][1])
    elif specs:
        name = next(iter(specs))
        spec, line = specs[name]
        python = resolve_python(spec, catalogue, source=name, line=line, findings=findings, **resolve_kw)
        if python:
            python.update(source=name, source_line=line)
    elif lock_python:   # Heroku's order: runtime.txt, .python-version, then Pipfile.lock
        spec, name, line = lock_python
        python = resolve_python(spec, catalogue, source=name, line=line, findings=findings, **resolve_kw)
        if python:
            python.update(source=name, source_line=line)
    elif not findings.errors() or plan['is_python']:
        if not any(d.code in ('python-version-invalid', 'python-version-multiple', 'python-not-cpython',
                              'file-encoding') for d in findings):
            python = resolve_default_python(catalogue, today, default=default_python, available=available,
                                            findings=findings, allow_eol=allow_eol, deny=deny,
                                            near_eol_days=near_eol_days,
                                            requires=requires_python
                                            or ((pyproject or {}).get('project') or {}).get('requires-python'))
            if python:
                python.update(source='default', source_line=None)
    if python and (pyproject or requires_python):
        rp = requires_python or ((pyproject.get('project') or {}).get('requires-python'))
        if rp:
            try:
                if Version(python['version']) not in SpecifierSet(rp):
                    findings.add('python-version-requires-python',
                                 'Python %s does not satisfy requires-python "%s" in pyproject.toml.' % (python['version'], rp),
                                 'Pin a version that satisfies it in .python-version, or relax requires-python.',
                                 'pyproject.toml')
            except (InvalidSpecifier, InvalidVersion):
                pass
    plan['python'] = python

    # -- processes
    _plan_processes(plan, root, files, findings)

    # -- Django
    manage = find_files_bounded(root, 'manage.py', max_depth=3)
    if manage:
        if 'django' in requirement_names:
            info = plan['django'] or _django_details(root, manage[0], findings)
            disable = None
            for var in ('DISABLE_COLLECTSTATIC', 'BUILD_DISABLE_COLLECTSTATIC'):
                if _truthy_env(env.get(var)):
                    disable = var
                    break
            info['collectstatic'] = disable is None
            info['collectstatic_skip_reason'] = ('%s=%s' % (disable, env.get(disable))) if disable else None
            info['migrate'] = bool(migrations)
            plan['django'] = info
        else:
            findings.add('django-not-required', '%s exists but Django is not in the requirements.' % manage[0],
                         'Add "Django==X.Y.Z" to requirements.txt if this is a Django app.', manage[0])
            plan['django'] = None
    else:
        plan['django'] = None

    # -- gunicorn availability
    web = plan.get('web')
    if web and web.get('mode') == 'gunicorn' and plan['package_manager'] and 'gunicorn' not in requirement_names:
        plan['extra_packages'].append('gunicorn')
        findings.add('gunicorn-not-required', 'The web process runs under gunicorn, which is not a requirement.',
                     'Add "gunicorn==X.Y.Z" to your requirements to choose its version.',
                     plan['requirements']['files'][0] if plan.get('requirements') else None)

    # -- what not to ship, and what in the rest cannot be shipped safely
    for ign in ('.slugignore', '.leanignore'):
        if ign in files:
            for pat in read_ignore_file(os.path.join(root, ign)):
                if pat not in plan['ship_exclude']:
                    plan['ship_exclude'].append(pat)
    for rel, message, fix in tree_problems(root, plan['ship_exclude']):
        findings.add('special-file' if 'not a regular file' in message else 'symlink-outside', message, fix, rel)
    return _finish(plan, findings)


def _read_texts(root, names, findings):
    """{name: text} of platform files, or None when one is not plain UTF-8 (a finding says so)."""
    texts = {}
    for name in names:
        text = read_text(os.path.join(root, name), name, findings)
        if text is None:
            return None
        texts[name] = text
    return texts


def _add_problems(findings, problems):
    for code, message, fix, rel, line in problems:
        findings.add(code, message, fix, rel, line)


def _plan_processes(plan, root, files, findings):
    procs = {}
    if 'leanengine.yaml' in files:
        plan['platform'] = 'leanengine'
    if 'Procfile' in files:
        text = read_text(os.path.join(root, 'Procfile'), 'Procfile', findings)
        if text is not None:
            for name, p in parse_procfile(text, findings).items():
                procs[name] = {'command': p['command'], 'source': 'Procfile', 'line': p['line']}
    else:
        web = _detect_web(root, files, findings, plan)
        if web:
            procs['web'] = web
    release = procs.pop('release', None)
    for name, p in procs.items():
        p['name'] = name
        if name == 'web':
            p.update(classify_web(p['command']))
            if p.get('dropped_args'):
                findings.add('gunicorn-bind-ignored',
                             'The web command binds itself (%s); pyfleet binds gunicorn to a unix socket behind nginx.'
                             % ', '.join(p['dropped_args']),
                             'Nothing to do; remove the --bind option to silence this.', p['source'], p.get('line'))
        else:
            p['mode'] = 'command'
    plan['processes'] = procs
    plan['release'] = release
    plan['web'] = procs.get('web')


def _detect_web(root, files, findings, plan):
    """The web process when there is no Procfile: leanengine.yaml, wsgi.py, Django, app.py."""
    checked = []
    if 'leanengine.yaml' in files:
        text = read_text(os.path.join(root, 'leanengine.yaml'), 'leanengine.yaml', findings)
        if text is not None:
            try:
                data = yaml.safe_load(text) if text.strip() else {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, 'problem_mark', None)
                findings.add('leanengine-yaml-invalid', 'leanengine.yaml is not valid YAML: %s.'
                             % (getattr(exc, 'problem', None) or exc),
                             'Fix the YAML syntax; the file needs e.g. "run: python app.py".', 'leanengine.yaml',
                             mark.line + 1 if mark else None)
                return None
            run = data.get('run') if isinstance(data, dict) else None
            if run is not None and (not isinstance(run, str) or not run.strip()):
                findings.add('leanengine-yaml-invalid', 'leanengine.yaml run: must be a command string.',
                             'Write e.g. "run: python app.py".', 'leanengine.yaml', _line_of(text, 'run'))
                return None
            if run:
                return {'command': run.strip(), 'source': 'leanengine.yaml', 'line': _line_of(text, 'run')}
        checked.append('leanengine.yaml has no run:')
    web = _module_entry(root, files, 'wsgi.py', 'application', checked, findings)
    if web is not None:
        return web or None
    manage = find_files_bounded(root, 'manage.py', max_depth=3)
    if manage:
        info = _django_details(root, manage[0], findings)
        if info['wsgi_app']:
            plan['django'] = info
            cmd = 'gunicorn %s' % info['wsgi_app']
            if info['chdir'] not in ('.', ''):
                cmd = 'gunicorn --chdir %s %s' % (shlex.quote(info['chdir']), info['wsgi_app'])
            return {'command': cmd, 'source': manage[0], 'line': None}
        checked.append('%s names no WSGI_APPLICATION' % manage[0])
    web = _module_entry(root, files, 'app.py', 'app', checked, findings)
    if web is not None:
        return web or None
    if plan.get('package_manager') or not findings.errors():
        findings.add('no-web-process',
                     'pyfleet cannot tell how to start this app%s.' % (' (%s)' % '; '.join(checked) if checked else ''),
                     'Add a Procfile, e.g. "web: gunicorn myapp.wsgi" (WSGI) or "web: python app.py" (binds $PORT). '
                     'Without one pyfleet looks, in order, for leanengine.yaml run:, wsgi.py with "application", '
                     'a Django manage.py with WSGI_APPLICATION, and app.py with "app".', 'Procfile')
    return None


def _module_entry(root, files, filename, attr, checked, findings):
    """`gunicorn module:attr` when ``filename`` defines ``attr`` at top level.

    None when the file is absent or lacks ``attr`` (noted in ``checked``), so the
    search goes on; False when it does not parse (a finding was added), so it stops.
    """
    if filename not in files:
        return None
    ok = _defines_name(os.path.join(root, filename), filename, attr, findings)
    if ok:
        return {'command': 'gunicorn %s:%s' % (filename[:-3], attr), 'source': filename, 'line': None}
    if ok is False:
        checked.append('%s defines no top-level "%s"' % (filename, attr))
        return None
    return False


def _line_of(text, key):
    for number, line in enumerate(text.split('\n'), 1):
        if re.match(r'^%s\s*:' % re.escape(key), line):
            return number
    return None


def _not_python_app(root, files, dirs, findings):
    """Heroku prints a checklist; pyfleet adds what it actually found and where the app may be instead."""
    shown = sorted(files | {d + '/' for d in dirs})
    listing = ', '.join(shown[:25]) + (', ... (%d more)' % (len(shown) - 25) if len(shown) > 25 else '')
    nested = []
    for d in sorted(dirs):
        if d.startswith('.') or d in _SKIP_DIRS:
            continue
        for f in ('requirements.txt', 'uv.lock', 'manage.py'):
            if os.path.isfile(os.path.join(root, d, f)):
                nested.append('%s/%s' % (d, f))
    checklist = [
        '1. requirements.txt (pip; an empty file means no dependencies), uv.lock with pyproject.toml (uv), '
        'Pipfile with Pipfile.lock (Pipenv) or poetry.lock with pyproject.toml (Poetry) must be in the root of '
        'the app source.',
        '2. app_src must point at that root: %s' % (
            'found %s, so try app_src=%s' % (', '.join(nested), os.path.join(root, nested[0].split('/')[0]))
            if nested else 'no subfolder holds one either.'),
        '3. The file name must be exact and lower case (see any misspelled-file finding above).',
        '4. The file must be committed/shipped: check .gitignore, .slugignore and .leanignore.',
    ]
    if 'setup.py' in files or 'pyproject.toml' in files:
        checklist.append('5. %s alone is not enough: add a requirements.txt that installs the project ("-e ." '
                         'or "."), or lock it with "uv lock".' % ('setup.py' if 'setup.py' in files else 'pyproject.toml'))
    findings.add('not-python-app',
                 'No Python package manager file in the app root. It contains: %s.' % (listing or 'nothing'),
                 '\n'.join(checklist), None)


def _finish(plan, findings):
    for d in findings:
        plan[{'error': 'errors', 'warning': 'warnings', 'note': 'notes'}[d.severity]].append(d.as_dict())
    plan['ok'] = not plan['errors']
    return plan


# --------------------------------------------------------------------------
# The pyfleet_app_plan task (module and action plugin share this)
# --------------------------------------------------------------------------
ARGUMENT_SPEC = dict(
    src=dict(type='path', required=True),
    catalogue_file=dict(type='path'),
    catalogue=dict(type='dict'),
    catalogue_overrides=dict(type='dict', default={}),
    available_versions=dict(type='list', elements='str'),
    default_python=dict(type='str'),
    allow_eol=dict(type='bool', default=False),
    deny_versions=dict(type='list', elements='str', default=[]),
    near_eol_days=dict(type='int', default=180),
    env=dict(type='dict', default={}, no_log=True),
    migrations=dict(type='bool', default=True),
    today=dict(type='str'),
    fail_on_error=dict(type='bool', default=True),
)
ARGUMENT_RULES = dict(required_one_of=[('catalogue_file', 'catalogue')],
                      mutually_exclusive=[('catalogue_file', 'catalogue')])


def run_task(p):
    """The task's result for validated parameters ``p``: a dict with ``plan``, ``report`` and
    ``warnings`` (one line each), and ``failed``/``msg`` when the app cannot be deployed."""
    if not HAS_PACKAGING:
        return dict(failed=True, msg='pyfleet_app_plan needs the Python library "packaging" on the controller.')
    try:
        catalogue = load_catalogue(path=p['catalogue_file'], data=p['catalogue'], overrides=p['catalogue_overrides'])
    except (OSError, ValueError) as exc:
        return dict(failed=True, msg='The Python catalogue %s is unusable: %s' % (p['catalogue_file'] or '(data)', exc))
    try:
        plan = build_plan(
            p['src'], catalogue, today=p['today'], available=p['available_versions'],
            default_python=p['default_python'], allow_eol=p['allow_eol'], deny=p['deny_versions'],
            near_eol_days=p['near_eol_days'], env=p['env'], migrations=p['migrations'])
    except ValueError as exc:   # the controller lacks a library the rules need (pathspec)
        return dict(failed=True, msg='pyfleet_app_plan: %s' % exc)
    report = format_report(plan['errors'] + plan['warnings'] + plan['notes'])
    result = dict(changed=False, plan=plan, report=report,
                  warnings=['%s: [%s] %s Fix: %s' % (w['file'] or p['src'], w['code'], w['message'], w['fix'])
                            for w in plan['warnings']])
    if plan['errors'] and p['fail_on_error']:
        # the findings, once, in the message: not the plan (a hundred lines), nor the warnings again
        return dict(changed=False, failed=True, msg='The app at %s cannot be deployed (%d error(s)):\n%s'
                    % (p['src'], len(plan['errors']), report))
    return result
