# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""This ansible-playbook run, as the deploy lock names its holder (module_utils/deploy_lock.py): the actions that
take the lock (pyfleet.deploy.deploy_lock) and release it (that one, and pyfleet.deploy.app_releases' snapshot)
derive the same token from it."""

from __future__ import annotations

import getpass
import hashlib
import os
import socket

from ansible_collections.pyfleet.deploy.plugins.module_utils import deploy_lock


def this_run():
    """(token, holder) of this ansible-playbook run: a task runs in a worker whose parent is the run."""
    pid = os.getppid()
    started = deploy_lock.process_started(pid)
    holder = {'controller': socket.gethostname(), 'user': getpass.getuser(), 'pid': pid, 'started': started}
    token = hashlib.sha256(('%s:%s:%s' % (holder['controller'], pid, started)).encode()).hexdigest()[:32]
    return token, holder
