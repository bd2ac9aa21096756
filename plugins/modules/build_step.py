#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: build_step
short_description: Run one build step on the host; when it fails, say so once, with its output's last lines and a hint
description:
  - Runs O(argv) without a shell (pyfleet's build steps run through C(systemd-run), as the app's user, in its
    sandbox). When it exits with a status other than 0, or its output matches O(fail_on), the task fails with one
    message, as lines. It says that O(step) failed and how, what serves now (by whether O(current) is there), the
    last O(tail) lines of its standard output and of its standard error, and a hint when the output matches one.
  - A failed step's output is in that message only; the result does not carry it again. A step that succeeded
    returns its output's last lines as O(ignore:stdout) and O(ignore:stderr). However much the step prints, only
    those last lines are held, on the host and on the controller; every line goes to the journal (O(journal)).
  - For a long step, O(heartbeat) prints a line every so many seconds while it runs (C(async) and C(poll) work
    too, but then ansible-core prints a failure's message twice).
version_added: "1.1.0"
author: pyfleet contributors
options:
  argv:
    description: The command line.
    type: list
    elements: str
    required: true
  step:
    description: What the step is, as the message's first line names it, e.g. C(the build step "Collect static files").
    type: str
    required: true
  current:
    description:
      - The live release's link. On failure the message says the previous release keeps serving when it is there,
        and that nothing was started when it is not; without it, neither.
    type: path
  fail_on:
    description: A regular expression; output that matches it fails the step even when it exits with 0.
    type: str
    default: ""
  hints:
    description:
      - What a failure adds, by its output; the first whose O(hints[].match) (a regular expression) is found in the
        output is said.
    type: list
    elements: dict
    default: []
    suboptions:
      match:
        description: A regular expression, searched in the output.
        type: str
      text:
        description: The hint.
        type: str
  native_build:
    description:
      - The step builds packages from source (pip, uv). When it fails, a hint names the Debian packages still missing,
        derived from what the output says the build lacks (a header, a library, a C(pkg-config) name, a tool, the
        compiler) and from the sdists that failed (module_utils/native.py), never one that is installed; and a pin
        the index does not have is named with the versions it has.
    type: bool
    default: false
  native_build_hints:
    description:
      - More libraries a package builds against, found by the output; every one found goes into a single hint that
        names the Debian packages they need together, to add to C(pyfleet_system_packages) in one round.
    type: list
    elements: dict
    default: []
    suboptions:
      match:
        description: A regular expression, searched in the output.
        type: str
      needs:
        description: What is missing, in words.
        type: str
      packages:
        description: The Debian packages that provide it (the compiler and the headers).
        type: list
        elements: str
  tail:
    description:
      - How many of the last lines of each output stream are kept (a failure shows them, a success returns them). The
        output is read as it comes and only these are held, never the whole of it.
    type: int
    default: 40
  tail_bytes:
    description: At most this many bytes of each stream's last lines are kept (each line at most 4096 characters).
    type: int
    default: 65536
  timeout:
    description:
      - Seconds the step may take; 0 for no limit. A C(systemd-run) command line gets C(RuntimeMaxSec=) on its unit, so
        systemd stops the step by itself at the limit even when the deploy that started it is gone; past it the module
        also stops O(unit). The failure names the step and O(timeout_setting).
    type: int
    default: 0
  timeout_setting:
    description: The setting a timed-out step's message tells to raise.
    type: str
    default: pyfleet_step_timeout
  unit:
    description: The unit the step runs as (C(systemd-run --unit=)); stopped when the step runs past O(timeout).
    type: str
    default: ""
  journal:
    description:
      - The syslog identifier every line of the output goes to the journal under (C(journalctl -t)); empty takes
        O(unit)'s name without C(.service), and with no unit the output goes nowhere else.
    type: str
    default: ""
  changed:
    description: Whether the step counts as a change when it runs.
    type: bool
    default: true
  checked:
    description:
      - Once the step passed, mark the release checked (module_utils/releases.py), in the same round-trip - for the step
        that is a release's last check. The mark holds gunicorn's answer in the step's output, or else O(checked.gunicorn).
    type: dict
    suboptions:
      release:
        description: The release's directory.
        type: path
        required: true
      state:
        description: The app's state directory, where the marks are.
        type: path
        required: true
      gunicorn:
        description: The answer the mark holds when the output has none (the one the release's mark held before).
        type: dict
        default: {}
  heartbeat:
    description:
      - Seconds; when more than 0, the step runs in the background on the host, and a line says every so many seconds
        that it still runs. Handled by the action on the controller, never passed to the host.
    type: float
    default: 0
  show:
    description:
      - When not empty, the name the step's output is shown under. After the step passed, its output's last lines are
        printed at every verbosity, each indented under a line that names it and the host (as Heroku and Cloud Foundry
        show a build hook's output). Handled by the action on the controller, never passed to the host.
    type: str
    default: ""
attributes:
  check_mode:
    support: none
    description: A build step runs the app's code; check mode skips it.
  diff_mode:
    support: none
    description: Nothing to show a diff of.
'''

EXAMPLES = r'''
- name: Import the WSGI app, as the app's user, in its sandbox
  pyfleet.deploy.build_step:
    argv: [systemd-run, --quiet, --wait, --pipe, --collect, --uid=shop, --, /srv/shop/venvs/abc/bin/python, -c, import app]
    step: the build step "Import the WSGI app"
    current: /srv/shop/current
    hints:
      - match: Read-only file system|Permission denied
        text: "Hint: this step ran into pyfleet's sandbox."

- name: Install the requirements, with a line every 5 s
  pyfleet.deploy.build_step:
    argv: [/srv/shop/venvs/abc/bin/pip, install, -r, requirements.txt]
    step: building the virtualenv, at "Install the app's requirements"
    native_build_hints:
      - {match: mysql_config, needs: the MySQL client library, packages: [default-libmysqlclient-dev, build-essential]}
    heartbeat: 5
'''

RETURN = r'''
rc:
  description: The command's exit status.
  returned: when it ran
  type: int
stdout:
  description: Its standard output.
  returned: success
  type: str
stderr:
  description: Its standard error.
  returned: success
  type: str
msg:
  description: The failure, as lines (see the description).
  returned: failure
  type: str
marked:
  description: With O(checked), whether the release's mark changed.
  returned: success, with checked
  type: bool
timed_out:
  description: Whether the step ran past O(timeout) and was stopped.
  returned: failure
  type: bool
'''

from ansible_collections.pyfleet.deploy.plugins.module_utils import entry
from ansible_collections.pyfleet.deploy.plugins.module_utils.steps import ARGUMENT_SPEC, run_task


def main():
    entry.run(ARGUMENT_SPEC, run_task, supports_check_mode=False)


if __name__ == '__main__':
    main()
