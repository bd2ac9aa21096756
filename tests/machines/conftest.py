"""Real-machine tests need root; without it they are skipped, loudly."""
import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason='real machines need root (./pyfleet test runs as root)')
        for item in items:
            if 'tests/machines' in str(item.fspath):
                item.add_marker(skip)
