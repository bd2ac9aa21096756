# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pyfleet's filters. Each is documented for ansible-doc in a YAML file of its own name beside this one."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.pyfleet.deploy.plugins.module_utils import contract
from ansible_collections.pyfleet.deploy.plugins.module_utils.python_version import python_minor as _python_minor


def python_minor(version):
    """'3.13.5' -> '3.13'."""
    try:
        return _python_minor(version)
    except ValueError as exc:
        raise AnsibleFilterError('pyfleet.deploy.python_minor: %s' % exc)


def app_layout(name, apps_root='/srv', config_root='/etc/pyfleet', src=''):
    """An app's host layout (the plan's layout) from its name, or its source directory's name."""
    name = name or contract.default_name(src)
    if not contract.NAME_RE.match(name or ''):
        raise AnsibleFilterError('pyfleet.deploy.app_layout: %r is not an app name; name the app with -e app_name=NAME'
                                 % (name,))
    return contract.layout(name, apps_root, config_root)


class FilterModule(object):
    def filters(self):
        return {'python_minor': python_minor, 'app_layout': app_layout}
