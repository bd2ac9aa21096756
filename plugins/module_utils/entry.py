# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every pyfleet host module's ``main`` does: validate its parameters against the module_utils file's
ARGUMENT_SPEC, run that file's ``run_task``, and end with its result (``fail_json`` when it says it failed).
The logic is in the module_utils file; the module is its documentation and this one call."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule


def run(argument_spec, run_task, supports_check_mode=True, pass_check_mode=False):
    """Run ``run_task(params)`` (and ``check_mode=`` when ``pass_check_mode``) as a module, and exit with it."""
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=supports_check_mode)
    result = run_task(module.params, check_mode=module.check_mode) if pass_check_mode else run_task(module.params)
    for warning in result.pop('warnings', []):   # said once, by Ansible, as a warning
        module.warn(warning)
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)
