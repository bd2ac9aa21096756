# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pyfleet's filters. Each is documented for ansible-doc in a YAML file of its own name beside this one."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.pyfleet.deploy.plugins.module_utils.python_version import python_minor as _python_minor


def python_minor(version):
    """'3.13.5' -> '3.13'."""
    try:
        return _python_minor(version)
    except ValueError as exc:
        raise AnsibleFilterError('pyfleet.deploy.python_minor: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'python_minor': python_minor}
