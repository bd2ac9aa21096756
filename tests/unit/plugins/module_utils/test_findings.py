"""The findings' catalogue (module_utils/findings.py): every code is documented, and reads as it should."""
import os

from ansible_collections.pyfleet.deploy.plugins.module_utils.findings import CODES, SEVERITIES, Findings, format_report
from helpers import ROOT


def test_readme_documents_every_code():
    with open(os.path.join(ROOT, 'README.md')) as fh:
        readme = fh.read()
    missing = [c for c in CODES if '`%s`' % c not in readme]
    assert not missing, 'README lacks: %s' % missing


def test_every_code_has_a_severity_and_a_meaning():
    for code, (severity, meaning) in CODES.items():
        assert severity in SEVERITIES and meaning.endswith('.'), code


def test_a_finding_reads_file_line_severity_code_message_and_fix():
    findings = Findings()
    findings.add('procfile-empty', 'The Procfile declares no process.', 'Add e.g. "web: gunicorn app:app".', 'Procfile', 3)
    text = format_report([d.as_dict() for d in findings])
    assert text.startswith('Procfile:3: error [procfile-empty] The Procfile declares no process.')
    assert 'fix: Add e.g. "web: gunicorn app:app".' in text
