"""Real-machine tests need root; without it they are skipped, loudly."""
import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason='real machines need root (./pyfleet test runs as root)')
        for item in items:
            if 'tests/machines' in str(item.fspath):
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    """Which bed ran each molecule scenario, and when (minutes from the first start)."""
    import sys
    mod = sys.modules.get('test_molecule')
    runner = getattr(mod, 'RUNNER', {}).get('runner') if mod else None
    if not runner or not runner.timing:
        return
    t0 = min(t for _, t, _ in runner.timing.values())
    terminalreporter.section('molecule scenarios, %d bed(s)' % len(runner.threads))
    for scenario, (bed, start, end) in sorted(runner.timing.items(), key=lambda kv: kv[1][1]):
        terminalreporter.write_line('%-14s bed %d  %5.1f -> %5.1f min  (%4.1f min)  %s' % (
            scenario, bed, (start - t0) / 60, (end - t0) / 60, (end - start) / 60,
            'passed' if runner.outcome[scenario][0] == 0 else 'FAILED'))
    terminalreporter.write_line('each scenario\'s output: %s/<scenario>.log' % mod.LOGS)
    figures = os.path.join(mod.LOGS, 'zero-downtime.json')
    if 'zero-downtime' in runner.timing and os.path.isfile(figures) \
            and os.path.getmtime(figures) >= runner.timing['zero-downtime'][1]:
        import json
        with open(figures) as fh:
            for case in json.load(fh):
                terminalreporter.write_line('zero-downtime: ' + case['line'])
