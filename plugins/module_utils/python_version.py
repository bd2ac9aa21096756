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
# Cloud Foundry's runtime.txt: "x" for the newest patch (X.Y.x) or the newest minor (X.x)
_WILDCARD_RE = re.compile(r'^(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?\.x$')


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
        # which patches exist is read from pyenv's definitions, not kept here (an older catalogue's
        # "latest" is ignored)
        entry.pop('latest', None)
        entry['eol'] = str(entry['eol']) if entry.get('eol') else None
        entry.setdefault('status', 'bugfix')
        if entry['status'] not in ('bugfix', 'security', 'end-of-life', 'prerelease'):
            raise ValueError('catalogue minor %s: status %r is not bugfix, security, end-of-life or prerelease'
                             % (minor, entry['status']))
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


def installable_minors(catalogue, today, have):
    """The supported minors (newest first) with a patch in ``have`` (the versions that can be installed);
    every supported minor when ``have`` is None (pyfleet does not know)."""
    return [m for m in supported_minors(catalogue, today) if have is None or _in_minor(have, m)]


def invisible_characters(line, categories=('Cc', 'Cf', 'Co', 'Cn', 'Zs', 'Zl', 'Zp')):
    """Characters in ``line`` a person cannot see or tell from a space: control and format characters, and
    any space but the ASCII one and the tab (or only those of the Unicode ``categories`` given), each named
    with its column, e.g. 'U+200B ZERO WIDTH SPACE (column 5)'."""
    out = []
    for column, ch in enumerate(line, 1):
        if ch in ' \t':
            continue
        if unicodedata.category(ch) in categories:
            name = _CONTROL_NAMES.get(ord(ch)) or unicodedata.name(ch, 'CONTROL CHARACTER')
            out.append('U+%04X %s (column %d)' % (ord(ch), name, column))
    return out


def example_version(catalogue, today, available=None):
    """The newest patch of the newest supported minor that can be installed, for the examples in a fix
    ("python-3.13.5" / "3.13"); without a list of what can be installed, "3.14.0" of the default minor."""
    have = versions_from_listing(available) if available is not None else []
    for minor in supported_minors(catalogue, today):
        if _in_minor(have, minor):
            return _in_minor(have, minor)[-1]
    return '%s.0' % (catalogue.get('default') or '3.14') if not have else have[-1]


def parse_version_file(name, text, findings, example_version='3.14.0'):
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
    minor = python_minor(example_version)
    example = 'python-%s' % example_version if name == 'runtime.txt' else minor
    if not lines:
        findings.add('python-version-invalid', '%s holds no version (a line starting with "#" is a comment).' % name,
                     'Write one version, e.g. "%s", or delete the file to use the default.' % example, name, 1)
        return None, None
    # a control character (NUL, ESC, ...) makes a line no version, whatever else it holds: named, not counted
    # as a second version
    for line, number in lines:
        controls = invisible_characters(line, ('Cc',))
        if controls:
            findings.add('python-version-invalid',
                         '%s line %d holds a control character: %s.' % (name, number, '; '.join(controls)),
                         'Retype the line by hand, as the only version line: "%s" (a tool that wrote it, or a copy from a '
                         'terminal, put the character there).' % example, name, number)
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
        wild = _WILDCARD_RE.match(m.group(1)) if m else None
        if wild:
            spec = wild.group(1) if wild.group(2) is None else '%s.%s' % wild.group(1, 2)
            findings.add('python-version-wildcard',
                         'runtime.txt asks for %r, as Cloud Foundry writes it: the newest %s that can be installed.'
                         % (word, ('Python %s patch' % spec) if '.' in spec else ('supported Python %s minor' % spec)),
                         'Nothing to do. Heroku reads "python-X.Y" (or .python-version "X.Y") as the newest patch.',
                         name, number)
            return spec, number
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
        fix = 'Name a CPython version, e.g. "%s"; "system" means the host\'s Python, which pyfleet does not use.' % minor
    elif re.match(r'^\d+$', low):
        fix = 'Name a minor version, e.g. "%s"; a major version alone is ambiguous.' % (
            minor if minor.startswith(low + '.') else low + '.<minor>')
    else:
        fix = 'Write "X.Y" (newest patch) or "X.Y.Z", e.g. "%s".' % minor
    findings.add('python-version-invalid', '.python-version holds %r, which is not a CPython version.' % word,
                 fix, name, number)
    return None, None


def _in_minor(versions, minor):
    return [v for v in versions if v.startswith(minor + '.')]


def resolve_python(spec, catalogue, today, available=None, known=None, allow_eol=False, deny=(),
                   near_eol_days=180, source=None, line=None, findings=None, is_default=False):
    """Resolve 'X.Y' or 'X.Y.Z' against what can be installed and the catalogue's end-of-life data.

    ``available``: the versions that can really be installed here (pyenv's definitions that the mirror
    can serve; tarball names are read too). ``known``: the versions pyenv defines at all (default:
    ``available``). None: pyfleet does not know, so an exact pin is taken as it is and "X.Y" cannot be
    resolved. Every problem with the version is reported at once, and every suggestion names only
    versions that can be installed. Returns a dict (version, minor, eol, status, ...) or None when an
    error was added.
    """
    findings = Findings() if findings is None else findings
    errors_before = len(findings.errors())
    m = _SPEC_RE.match(str(spec).strip())
    have = versions_from_listing(available) if available is not None else None
    known = versions_from_listing(known) if known is not None else have
    supported = installable_minors(catalogue, today, have)
    listed = ', '.join(supported) if supported else 'none can be installed here'
    have_text = ', '.join(have) if have else 'nothing'
    if not m:
        findings.add('python-version-invalid', '%r is not "X.Y" or "X.Y.Z".' % spec,
                     'Use a version such as %s.' % (supported[0] if supported else example_version(catalogue, today)),
                     source, line)
        return None
    minor = '%s.%s' % (m.group(1), m.group(2))
    exact = '%s.%s' % (minor, m.group(3)) if m.group(3) is not None else None
    in_minor = _in_minor(have, minor) if have is not None else None
    entry = catalogue['minors'].get(minor)
    if entry is None and not in_minor:
        findings.add('python-version-unknown', 'Python %s is not a version pyfleet knows.' % spec,
                     'Use one of the supported versions that can be installed here: %s.' % listed, source, line)
        return None
    if entry is None:
        findings.add('python-version-not-in-catalogue',
                     'Python %s can be installed, but the catalogue (checked %s) does not know its end-of-life date.'
                     % (minor, catalogue.get('checked') or 'unknown'),
                     'Nothing to do for the app; the operator can add it with app_plan_catalogue_overrides.', source, line)
        entry = {'eol': None, 'status': 'bugfix'}
    eol = entry.get('eol')
    status = entry['status']
    if eol and eol <= today.isoformat() and status != 'prerelease':
        status = 'end-of-life'
    # is the minor (or the exact patch) installable at all? said together with any other problem
    absent = None
    if have is not None:
        if exact and exact not in have:
            if known is not None and exact not in known:
                absent = 'Python %s does not exist as far as pyenv knows (it has no definition for it)' % exact
            else:
                absent = 'Python %s cannot be installed here: pyenv defines it, but the mirror does not hold it' % exact
        elif not in_minor:
            absent = 'No Python %s release can be installed here' % minor
    stop = False
    if status == 'prerelease' and not allow_eol:
        findings.add('python-version-prerelease', 'Python %s is a pre-release.' % minor,
                     'Use a released version: %s.' % listed, source, line)
        stop = True
    elif status == 'end-of-life':
        msg = 'Python %s reached end of life on %s and no longer gets security fixes.' % (minor, eol or 'an earlier date')
        if allow_eol:
            findings.add('python-version-eol-allowed', msg + ' The operator allows it.',
                         'Upgrade to a supported version: %s.' % listed, source, line)
        else:
            if absent:
                msg += ' Besides: %s; what can be installed: %s.' % (absent, have_text)
            findings.add('python-version-eol', msg,
                         'Upgrade to a supported version that can be installed here (%s)%s.'
                         % (listed, '' if absent else ', or, for a legacy app, have the operator set app_plan_allow_eol: true'),
                         source, line)
            return None
    elif eol and near_eol_days is not None:
        days = (datetime.date.fromisoformat(eol) - today).days
        if 0 <= days <= near_eol_days:
            findings.add('python-version-near-eol', 'Python %s reaches end of life on %s (in %d days).' % (minor, eol, days),
                         'Plan the upgrade to %s.' % (supported[0] if supported else 'a newer minor'), source, line)
    if absent:
        findings.add('python-version-not-installable', '%s. What can be installed: %s.' % (absent, have_text),
                     ('Pin one of those (e.g. "%s" for the newest %s).' % (minor, minor) if in_minor else
                      'Ask for a supported minor that can be installed (%s).' % listed if supported else
                      'Add the tarball to the mirror, or point pyenv at a mirror that holds it.')
                     + ('' if not exact or (known is not None and exact not in known)
                        else ' Or add its tarball to the mirror.'), source, line)
        return None
    if stop:
        return None
    if exact:
        version = exact
        if have is not None and _vtuple(version) < _vtuple(in_minor[-1]):
            findings.add('python-version-outdated', 'Python %s is pinned; %s is the newest %s that can be installed.'
                         % (version, in_minor[-1], minor),
                         'Pin %s (or write "%s" to always get the newest patch).' % (in_minor[-1], minor), source, line)
    elif have is None:
        findings.add('python-version-unresolvable',
                     'Python %s names no patch, and pyfleet cannot tell which %s patches can be installed here.' % (minor, minor),
                     'Pin "%s.N", or give the plan pyenv\'s definitions (app_plan_pyenv_checkout) or the list '
                     '(app_plan_available_versions).' % minor, source, line)
        return None
    else:
        version = in_minor[-1]
    result = {'version': version, 'minor': minor, 'eol': eol, 'status': status, 'spec': str(spec)}
    newest = _in_minor(known, minor)[-1] if known is not None and _in_minor(known, minor) else version
    if not exact and newest != version:
        findings.add('python-version-mirror-substitute',
                     'Python %s resolves to %s, the newest %s the mirror holds (pyenv defines up to %s).'
                     % (spec, version, minor, newest),
                     'Add Python %s to the mirror to get the newest patch.' % newest, source, line)
    if version in [str(d) for d in deny] or str(spec) in [str(d) for d in deny]:
        others = [v for v in (in_minor or []) if v != version and v not in [str(d) for d in deny]]
        findings.add('python-version-denied', 'Python %s is on the operator\'s deny-list.' % version,
                     'Pin another %s patch that can be installed: %s.' % (minor, ', '.join(others)) if others
                     else 'Pin another supported version: %s.' % listed, source, line)
        return None
    if len(findings.errors()) > errors_before:
        return None
    return result


def newest_minor_of(major, catalogue, today, available, findings, source=None, line=None):
    """'X.Y', the newest supported minor of ``major`` that can be installed (Cloud Foundry's "python-3.x"), or
    None after adding an error."""
    have = versions_from_listing(available) if available is not None else None
    if have is None:
        findings.add('python-version-unresolvable',
                     'Python %s.x names no minor, and pyfleet cannot tell which versions can be installed here.' % major,
                     'Pin "%s.N" in runtime.txt, or give the plan pyenv\'s definitions (app_plan_pyenv_checkout) or '
                     'the list (app_plan_available_versions).' % major, source, line)
        return None
    supported = installable_minors(catalogue, today, have)
    for minor in supported:
        if minor.split('.')[0] == str(major):
            return minor
    findings.add('python-version-not-installable',
                 'No supported Python %s minor can be installed here. What can be installed: %s.'
                 % (major, ', '.join(have) or 'nothing'),
                 'Ask for a supported minor that can be installed (%s).' % (', '.join(supported) or 'none'), source, line)
    return None


def _newest_satisfying(requires, catalogue, today, available):
    """(version, minor) of the newest installable patch of a supported minor that satisfies the
    ``requires`` specifier (requires-python, or a Pipfile's), or (None, what was tried)."""
    have = versions_from_listing(available) if available is not None else []
    tried = []
    for minor in supported_minors(catalogue, today):
        in_minor = _in_minor(have, minor)
        if not in_minor:
            continue
        tried.append(in_minor[-1])
        try:
            if Version(in_minor[-1]) in SpecifierSet(requires):
                return in_minor[-1], minor
        except (InvalidSpecifier, InvalidVersion):
            return None, tried
    return None, tried


def resolve_default_python(catalogue, today, default=None, available=None, findings=None, requires=None,
                           requires_source='pyproject.toml', **kwargs):
    """The version for an app that names none: with ``requires`` (requires-python), the newest installable
    version that satisfies it; else the default minor, or the newest supported minor that can be installed."""
    findings = Findings() if findings is None else findings
    if requires and available is not None:
        version, tried = _newest_satisfying(requires, catalogue, today, available)
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
        if not _in_minor(have, minor):
            for cand in installable_minors(catalogue, today, have)[:1]:
                findings.add('python-version-default',
                             'No runtime.txt or .python-version; the default %s cannot be installed here, so the '
                             'newest supported minor that can, %s, is used.' % (minor, cand),
                             'Pin a version in .python-version (e.g. "%s") to make the choice explicit.' % cand)
                minor = cand
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
