# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Python version, by Heroku's rules: version files, the catalogue, a mirror's listing."""

from __future__ import annotations

import datetime
import re
import unicodedata

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ansible_collections.pyfleet.deploy.plugins.module_utils.findings import Findings


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


def python_minor(version):
    """'3.13.5' -> '3.13'; ValueError unless ``version`` is X.Y[.Z]."""
    m = _SPEC_RE.match(str(version))
    if not m:
        raise ValueError('%r is not a CPython version X.Y[.Z]' % (version,))
    return '%s.%s' % m.group(1, 2)
