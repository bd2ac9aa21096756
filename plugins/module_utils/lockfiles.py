# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pipenv's and Poetry's lock files, read on the controller: the rules of the plan for those apps.

Plain Python (no Ansible imports). Each reader checks the lock file the way its tool would before
installing (valid, and in step with the file it locks: Pipfile, pyproject.toml) and exports the
packages that production installs (Pipenv's "default" section; Poetry's "main" group) as pip
requirement lines, with their hashes. The host installs those with pip, like any requirements file,
so neither tool has to be installed there.

Every problem is a tuple (code, message, fix, file, line) for the plan to report.
"""

from __future__ import annotations

import hashlib
import json
import re

try:
    import tomllib
except ImportError:  # pragma: no cover - Python < 3.11
    tomllib = None

# Pipenv adds this source when a Pipfile names none (plette's DEFAULT_SOURCE_TOML), before hashing.
_PIPENV_DEFAULT_SOURCE = [{'name': 'pypi', 'url': 'https://pypi.org/simple', 'verify_ssl': True}]
# Pipfile sections that are not package categories (plette's PIPFILE_SECTIONS, and Pipenv's own)
_PIPFILE_SECTIONS = {'source', 'packages', 'dev-packages', 'requires', 'scripts', 'pipfile', 'pipenv'}
_VERSION_RE = re.compile(r'^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$')


def _json_error(exc, rel, tool_fix):
    return ('lock-invalid', '%s is not valid JSON: %s (line %d).' % (rel, exc.msg, exc.lineno), tool_fix,
            rel, exc.lineno)


def _toml_error(exc, rel, tool_fix):
    m = re.search(r'line (\d+)', str(exc))
    return ('lock-invalid', '%s is not valid TOML: %s.' % (rel, exc), tool_fix, rel, int(m.group(1)) if m else None)


def pipfile_hash(pipfile):
    """The hash Pipenv writes to Pipfile.lock's _meta.hash.sha256 for a parsed Pipfile."""
    data = {'_meta': {'sources': pipfile.get('source', _PIPENV_DEFAULT_SOURCE), 'requires': pipfile.get('requires', {})},
            'default': pipfile.get('packages', {}), 'develop': pipfile.get('dev-packages', {})}
    for category, values in pipfile.items():
        if category not in _PIPFILE_SECTIONS and category not in ('default', 'develop'):
            data[category] = values
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(',', ':')).encode('utf-8')).hexdigest()


def poetry_content_hashes(pyproject):
    """The content-hash Poetry writes to poetry.lock for a parsed pyproject.toml: as Poetry >= 2.3 computes
    it, and as earlier Poetry did (without [dependency-groups]); a lock is in step when it holds either."""
    project = pyproject.get('project', {})
    poetry = pyproject.get('tool', {}).get('poetry', {})
    legacy = ['dependencies', 'source', 'extras', 'dev-dependencies']
    out = []
    for groups in (pyproject.get('dependency-groups', {}), {}):
        relevant_project = {k: project[k] for k in ('requires-python', 'dependencies', 'optional-dependencies')
                            if project.get(k) is not None}
        relevant_poetry = {}
        for key in legacy + ['group']:
            value = poetry.get(key)
            if value is None and (key not in legacy or relevant_project or groups):
                continue
            relevant_poetry[key] = value
        content = {}
        if relevant_project:
            content['project'] = relevant_project
        if groups:
            content['dependency-groups'] = groups
        content = dict(content, tool={'poetry': relevant_poetry}) if content else relevant_poetry
        out.append(hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest())
    return out


def _line(name, pin, extras=(), marker=None, hashes=()):
    spec = name + ('[%s]' % ','.join(sorted(extras)) if extras else '') + pin
    if marker:
        spec += ' ; ' + marker
    return ' '.join([spec] + ['--hash=%s' % h for h in hashes])


def _drop_hashes_if_mixed(lines, hashed):
    """pip checks hashes for all requirements or for none: with one unhashed (a VCS or local package), none."""
    if all(hashed):
        return lines
    return [l.split(' --hash=')[0] for l in lines]


def read_pipenv(texts):
    """Pipfile / Pipfile.lock: ``texts`` maps the file names present to their text.

    Returns dict(problems, lines, python, python_file, python_line, names, local) - ``local``: the packages
    that are paths in the app ({path, editable, file, line}).
    """
    out = {'problems': [], 'lines': [], 'python': None, 'python_file': None, 'python_line': None, 'names': set(),
           'local': []}
    fix = 'Run "pipenv lock" and commit Pipfile.lock.'
    if 'Pipfile.lock' not in texts:
        out['problems'].append(('lock-missing', 'Pipfile is here but Pipfile.lock is not: pyfleet installs exactly what '
                                'the lock file pins, as Heroku does.', fix, 'Pipfile', None))
        return out
    try:
        lock = json.loads(texts['Pipfile.lock'])
    except ValueError as exc:
        out['problems'].append(_json_error(exc, 'Pipfile.lock', fix))
        return out
    if not isinstance(lock, dict) or not isinstance(lock.get('default', {}), dict):
        out['problems'].append(('lock-invalid', 'Pipfile.lock has no "default" section of packages.', fix,
                                'Pipfile.lock', None))
        return out
    meta = lock.get('_meta') or {}
    if 'Pipfile' in texts and tomllib is not None:
        try:
            pipfile = tomllib.loads(texts['Pipfile'])
        except tomllib.TOMLDecodeError as exc:
            out['problems'].append(_toml_error(exc, 'Pipfile', 'Fix the TOML syntax, then run "pipenv lock".'))
            return out
        want = (meta.get('hash') or {}).get('sha256')
        have = pipfile_hash(pipfile)
        if want != have:
            out['problems'].append(('lock-out-of-sync',
                                    'Pipfile.lock is out of date: it was locked from a Pipfile whose hash is %s, '
                                    'the Pipfile here hashes to %s.' % ((want or 'missing')[:12], have[:12]),
                                    fix + ' (pipenv install --deploy refuses it too.)', 'Pipfile.lock', None))
    requires = meta.get('requires') or {}
    version = requires.get('python_full_version') or requires.get('python_version')
    if version is not None:
        key = 'python_full_version' if requires.get('python_full_version') else 'python_version'
        out['python_line'] = _json_line(texts['Pipfile.lock'], key)
        out['python_file'] = 'Pipfile.lock'
        if not _VERSION_RE.match(str(version)):
            out['problems'].append(('python-version-invalid',
                                    'Pipfile.lock asks for Python %r (%s), which is not "X.Y" or "X.Y.Z".'
                                    % (version, key),
                                    'Set python_version = "3.14" under [requires] in the Pipfile, then run '
                                    '"pipenv lock".', 'Pipfile.lock', out['python_line']))
        else:
            out['python'] = str(version)
    lines, hashed = [], []
    for name, entry in sorted(lock.get('default', {}).items()):
        entry = entry if isinstance(entry, dict) else {'version': entry}
        out['names'].add(name.lower().replace('_', '-').replace('.', '-'))
        marker = entry.get('markers')
        if entry.get('git'):
            ref = entry.get('ref') or ''
            spec = '%s @ git+%s%s' % (name, entry['git'], '@' + ref if ref else '')
            lines.append(spec + (' ; ' + marker if marker else ''))
            hashed.append(False)
        elif entry.get('path') or entry.get('file'):
            target = entry.get('path') or entry.get('file')
            lines.append(('-e ' if entry.get('editable') else '') + target)
            hashed.append(False)
            out['local'].append({'path': target, 'editable': bool(entry.get('editable')), 'file': 'Pipfile.lock',
                                 'line': _json_line(texts['Pipfile.lock'], name)})
        else:
            pin = entry.get('version') or ''
            lines.append(_line(name, pin if pin != '*' else '', entry.get('extras') or (), marker,
                               entry.get('hashes') or ()))
            hashed.append(bool(entry.get('hashes')))
    out['lines'] = _drop_hashes_if_mixed(lines, hashed)
    sources = [s for s in (meta.get('sources') or []) if s.get('url')]
    if sources:
        out['lines'] = ['--index-url %s' % sources[0]['url']] + ['--extra-index-url %s' % s['url'] for s in sources[1:]] \
            + out['lines']
    return out


def _json_line(text, key):
    for number, line in enumerate(text.split('\n'), 1):
        if '"%s"' % key in line:
            return number
    return None


def read_poetry(texts, pyproject):
    """poetry.lock with the pyproject.toml it locks (``pyproject`` parsed, or None when it does not parse).

    Returns dict(problems, lines, names, requires, local) - ``requires`` is the Python constraint, as PEP 440;
    ``local``: the packages that are paths in the app.
    """
    out = {'problems': [], 'lines': [], 'names': set(), 'requires': None, 'local': []}
    fix = 'Run "poetry lock" (Poetry 2 or newer) and commit poetry.lock.'
    if 'pyproject.toml' not in texts:
        out['problems'].append(('lock-invalid', 'poetry.lock is here but the pyproject.toml it locks is not.',
                                'Commit the pyproject.toml that poetry.lock was made from.', 'poetry.lock', None))
        return out
    try:
        lock = tomllib.loads(texts['poetry.lock'])
    except tomllib.TOMLDecodeError as exc:
        out['problems'].append(_toml_error(exc, 'poetry.lock', fix))
        return out
    metadata = lock.get('metadata') or {}
    version = str(metadata.get('lock-version') or '0')
    if tuple(int(p) for p in re.findall(r'\d+', version)[:2]) < (2, 1):
        out['problems'].append(('lock-invalid', 'poetry.lock has lock-version %s; pyfleet reads 2.1 and newer, '
                                'which records the group of each package.' % version, fix, 'poetry.lock', None))
        return out
    if pyproject is not None and metadata.get('content-hash') not in poetry_content_hashes(pyproject):
        out['problems'].append(('lock-out-of-sync', 'poetry.lock is out of date: pyproject.toml changed since it '
                                'was locked (its content-hash no longer matches).', fix + ' (poetry sync refuses '
                                'it too.)', 'poetry.lock', None))
    project = (pyproject or {}).get('project') or {}
    constraint = project.get('requires-python')
    if constraint is None:
        constraint = poetry_constraint_to_pep440(
            (((pyproject or {}).get('tool') or {}).get('poetry') or {}).get('dependencies', {}).get('python'))
    out['requires'] = constraint
    lines, hashed, indexes = [], [], []
    for package in lock.get('package') or []:
        groups = package.get('groups') or []
        if 'main' not in groups:
            continue
        name = package['name']
        out['names'].add(name.lower().replace('_', '-').replace('.', '-'))
        markers = package.get('markers')
        marker = markers.get('main') if isinstance(markers, dict) else markers
        source = package.get('source') or {}
        kind = source.get('type')
        if kind == 'git':
            lines.append('%s @ git+%s@%s' % (name, source['url'], source.get('resolved_reference') or source.get('reference')))
            hashed.append(False)
        elif kind in ('directory', 'file'):
            lines.append(('-e ' if package.get('develop') else '') + source['url'])
            hashed.append(False)
            out['local'].append({'path': source['url'], 'editable': bool(package.get('develop')), 'file': 'poetry.lock',
                                 'line': None})
        elif kind == 'url':
            lines.append('%s @ %s' % (name, source['url']) + (' ; ' + marker if marker else ''))
            hashed.append(False)
        else:
            if kind == 'legacy' and source.get('url') and source['url'] not in indexes:
                indexes.append(source['url'])
            hashes = sorted({f['hash'] for f in package.get('files') or [] if f.get('hash')})
            lines.append(_line(name, '==' + package['version'], package.get('extras-requested') or (), marker, hashes))
            hashed.append(bool(hashes))
    out['lines'] = ['--extra-index-url %s' % u for u in indexes] + _drop_hashes_if_mixed(lines, hashed)
    return out


def poetry_constraint_to_pep440(constraint):
    """Poetry's Python constraint ("^3.12", "~3.12", ">=3.11,<3.14", "3.12.*") as a PEP 440 specifier."""
    if not constraint or not isinstance(constraint, str):
        return None
    parts = []
    for part in re.split(r'\s*,\s*|\s+(?=[<>=!~^])', constraint.strip()):
        m = re.match(r'^([\^~])\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$', part)
        if m:
            major, minor, patch = int(m.group(2)), m.group(3), m.group(4)
            low = '.'.join(x for x in (m.group(2), minor, patch) if x is not None)
            if m.group(1) == '^':
                high = '%d.0' % (major + 1) if major else '0.%d' % (int(minor or 0) + 1)
            else:
                high = '%d.%d' % (major, int(minor) + 1) if minor is not None else '%d.0' % (major + 1)
            parts += ['>=' + low, '<' + high]
        elif re.match(r'^\d', part):
            parts.append('==' + part)
        elif part and part != '*':
            parts.append(part)
    return ','.join(parts) or None
