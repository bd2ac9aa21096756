# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pyfleet filters: the app plan's rules where a playbook needs them.

A filter runs in the controller's Python, where a repository's module_utils is
not importable as ``ansible.module_utils``. The rules are therefore loaded by
path from ``../module_utils/pyfleet_plan.py``, so the module and the filters
share one implementation.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import sys

from ansible.errors import AnsibleFilterError

# Each filter is documented for ansible-doc in a YAML file of its own name beside this one.

_HERE = os.path.dirname(os.path.abspath(__file__))
_NAME = 'pyfleet_plan_rules'


def _rules():
    mod = sys.modules.get(_NAME)
    if mod is None:
        path = os.path.join(_HERE, '..', 'module_utils', 'pyfleet_plan.py')
        spec = importlib.util.spec_from_file_location(_NAME, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = mod
        spec.loader.exec_module(mod)
    return mod


def _catalogue(catalogue):
    rules = _rules()
    if isinstance(catalogue, dict) and 'minors' in catalogue:
        return rules.load_catalogue(data=catalogue)
    raise AnsibleFilterError('pyfleet: the catalogue must be the parsed python-versions.yml (with "minors:")')


def resolve_python(spec, catalogue, available=None, allow_eol=False, deny=(), today=None):
    """'3.13' -> '3.13.5' (newest known, or newest on the mirror when ``available`` is given)."""
    rules = _rules()
    findings = rules.Findings()
    day = datetime.date.fromisoformat(today) if today else datetime.date.today()
    res = rules.resolve_python(str(spec), _catalogue(catalogue), day, available=available,
                               allow_eol=allow_eol, deny=deny, findings=findings)
    if res is None:
        raise AnsibleFilterError('pyfleet_resolve_python: ' + rules.format_report(findings.errors()))
    return res['version']


def python_versions_from_listing(items):
    """Mirror listing (file names or an HTML index split in lines) -> sorted 'X.Y.Z' versions."""
    if isinstance(items, str):
        items = items.splitlines()
    return _rules().versions_from_listing(items)


def format_findings(findings):
    """A plan's errors/warnings/notes as readable text."""
    return _rules().format_report(findings or [])


def python_minor(version):
    """'3.13.5' -> '3.13'."""
    parts = str(version).split('.')
    if len(parts) < 2:
        raise AnsibleFilterError('pyfleet_python_minor: %r is not X.Y[.Z]' % version)
    return '.'.join(parts[:2])


class FilterModule(object):
    def filters(self):
        return {
            'pyfleet_resolve_python': resolve_python,
            'pyfleet_python_versions_from_listing': python_versions_from_listing,
            'pyfleet_format_findings': format_findings,
            'pyfleet_python_minor': python_minor,
        }
