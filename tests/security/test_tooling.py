"""Issue 6 point 18: bandit finds no high-severity issue; the pip-audit report gate of .ci/run."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_report_module():
    spec = importlib.util.spec_from_file_location(
        "pip_audit_report", ROOT / "scripts" / "pip_audit_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bandit_finds_no_high_severity_issue():
    pytest.importorskip("bandit")
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-r", "portal", "-lll", "-f", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    high = [r for r in report["results"] if r["issue_severity"] == "HIGH"]
    assert high == [], high
    assert report["metrics"]["_totals"]["loc"] > 1000  # it did scan the portal


def run_gate(tmp_path, report, *ignore):
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(report))
    args = [str(path)]
    for vuln in ignore:
        args += ["--ignore", vuln]
    return load_report_module().main(args)


def test_a_known_vulnerability_fails_the_gate(tmp_path, capsys):
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {"name": "werkzeug", "version": "0.1", "vulns": [{"id": "PYSEC-0000-1", "fix_versions": ["9"]}]},
        ]
    }
    assert run_gate(tmp_path, report) == 1
    assert "VULNERABLE werkzeug 0.1: PYSEC-0000-1" in capsys.readouterr().out
    # A documented exception lets it pass.
    assert run_gate(tmp_path, report, "PYSEC-0000-1") == 0


def test_an_unreachable_database_warns_without_failing(tmp_path, capsys):
    skipped = {
        "name": "flask",
        "skip_reason": "Dependency not found on PyPI and could not be audited: flask (3.1.3)",
    }
    assert run_gate(tmp_path, {"dependencies": [skipped]}) == 0
    assert "WARNING: pip-audit could not audit any dependency" in capsys.readouterr().out
    (tmp_path / "empty.json").write_text("")
    assert load_report_module().main([str(tmp_path / "empty.json")]) == 0
    assert "WARNING" in capsys.readouterr().out


def test_a_clean_report_passes(tmp_path, capsys):
    assert run_gate(tmp_path, {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}]}) == 0
    assert "1 dependencies audited, 0 with a known vulnerability" in capsys.readouterr().out


def test_ci_runs_both_tools():
    script = (ROOT / ".ci" / "run").read_text()
    assert "bandit -q -r portal -lll" in script
    assert "pip-audit -r requirements.txt --format json" in script and "pip_audit_report.py" in script
