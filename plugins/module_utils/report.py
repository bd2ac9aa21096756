# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How pyfleet says that something failed on a host: once, by the task that failed, as lines.

A failed step's message is the whole story: what failed, what serves now, the last lines of its output,
and a hint when the output points at one. The task that failed says it in its ``msg`` (ansible-core
prints a failure's ``msg`` as lines), and keeps the raw output out of its result, so nothing says it again.
Plain Python (the standard library only): the modules run it on the host.
"""

from __future__ import annotations

import json
import os
import re

TAIL = 40   # lines of a stream's output a failure shows


def tail(text, lines=TAIL, earlier=0):
    """The last ``lines`` lines of ``text``, with a line that says how many came before them (``earlier`` more
    than ``text`` holds, when it is already the last of a longer output)."""
    rows = (text or '').rstrip().splitlines()
    dropped = earlier + max(len(rows) - lines, 0)
    return (['[... %d earlier lines]' % dropped] if dropped else []) + rows[-lines:]


def bad_pattern(patterns):
    """The message for the first of ``patterns`` ((parameter, a regular expression or empty)) that does not
    compile; None when they all do. Checked before anything runs."""
    for key, value in patterns:
        try:
            re.compile(value or '')
        except re.error as exc:
            return '%s: %r is not a regular expression: %s' % (key, value, exc)
    return None


def first_hint(text, hints):
    """The text of the first of ``hints`` ({match: a regular expression, text}) whose match is found in ``text``."""
    for hint in hints or ():
        if hint.get('match') and hint.get('text') and re.search(hint['match'], text or '', re.M):
            return hint['text']
    return None


def packages_hint(text, table):
    """One hint for every library of ``table`` ({match, needs, packages}) the output shows missing: the Debian
    packages they need together (the compiler and the headers), so that one round adds them all."""
    found = [row for row in table or () if row.get('match') and re.search(row['match'], text or '', re.M)]
    if not found:
        return None
    packages = []
    for row in found:
        packages += [p for p in row.get('packages') or () if p not in packages]
    return ('Hint: a package failed to build from source; it needs %s.\n'
            'Add these Debian packages to pyfleet_system_packages (the compiler and headers together), e.g.\n'
            "  -e '%s'" % (', '.join(row.get('needs') or row['match'] for row in found),
                           json.dumps({'pyfleet_system_packages': packages})))


def serving(current, exists=os.path.lexists):
    """What a failure before the switch leaves serving, by whether ``current`` (the live release's link) is there."""
    if current and exists(current):
        return 'Nothing was switched: the host keeps serving the previous release.'
    return 'Nothing was started: nothing served before this release.'


def compose(*parts):
    """The message: the parts that are not empty (strings, or lists of lines), one line each."""
    out = []
    for part in parts:
        if not part:
            continue
        out += part if isinstance(part, list) else [part]
    return '\n'.join(out)
