# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""requirements.txt read as pip reads it: options, includes, constraints, ${VAR} expansion."""

from __future__ import annotations

import os
import re
import shlex

from packaging.requirements import InvalidRequirement, Requirement

from ansible_collections.pyfleet.deploy.plugins.module_utils.findings import Findings
from ansible_collections.pyfleet.deploy.plugins.module_utils.source import read_text


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
    result['local'] = local_requirements(result['requirements'])
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


def local_path(spec):
    """The app-relative directory (or archive) a local requirement names, as pip resolves it from the
    install's working directory: './pkg[extra]', 'file:pkg#egg=x' -> 'pkg'; '.' for the app itself.
    None for a path outside the app (absolute, ~, or ..), which is not shipped."""
    spec = spec.split(';', 1)[0].strip()
    spec = spec.split('#', 1)[0]
    if spec.startswith('file://'):
        return None
    if spec.startswith('file:'):
        spec = spec[len('file:'):]
    spec = re.sub(r'\[[^\]]*\]$', '', spec).strip()
    if not spec or spec.startswith(('/', '~')):
        return None
    path = os.path.normpath(spec)
    if path == '..' or path.startswith('..' + os.sep):
        return None
    return path


def local_requirements(items):
    """[{path, editable, file, line}] of the requirements that name a path in the app."""
    out = []
    for item in items:
        path = local_path(item['raw']) if item.get('kind') == 'path' else None
        if path is not None:
            out.append({'path': path, 'editable': bool(item.get('editable')), 'file': item['file'], 'line': item['line']})
    return out


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


