"""Read ``pip-audit --format json`` output: fail on a known vulnerability, warn on what was not audited.

Used by ``.ci/run`` (issue 6 point 18). pip-audit reports a dependency it could not look
up (vulnerability database unreachable, package unknown to it) with a ``skip_reason``
instead of a ``vulns`` list: that is not a vulnerability, but it is not a clean bill of
health either, so it is said loudly. Exit status: 1 when any dependency has a known
vulnerability that is not in the documented exceptions, else 0.

Usage: python scripts/pip_audit_report.py REPORT.json [--ignore VULN-ID ...]
"""

import argparse
import json
import sys


def summarise(report, ignored=()):
    """(vulnerable lines, warning lines, audited count) for a parsed pip-audit report."""
    dependencies = report.get("dependencies", []) if isinstance(report, dict) else []
    vulnerable, warnings = [], []
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dependency in audited:
        ids = [v.get("id", "?") for v in dependency.get("vulns") or [] if v.get("id") not in ignored]
        if ids:
            vulnerable.append(f"{dependency.get('name')} {dependency.get('version')}: {', '.join(ids)}")
    if not audited:
        warnings.append(
            "WARNING: pip-audit could not audit any dependency (vulnerability database unreachable?): "
            "no vulnerability check was made."
        )
    elif skipped:
        names = ", ".join(d.get("name", "?") for d in skipped)
        warnings.append(f"WARNING: pip-audit could not audit {len(skipped)} dependencies: {names}")
    return vulnerable, warnings, len(audited)


def main(argv=None):
    """Print the summary; exit 1 on a known vulnerability."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("--ignore", action="append", default=[], help="a documented exception")
    args = parser.parse_args(argv)
    try:
        with open(args.report, encoding="utf-8") as handle:
            report = json.load(handle)
    except (OSError, ValueError):
        report = {}
    vulnerable, warnings, audited = summarise(report, set(args.ignore))
    for line in warnings:
        print(line)
    for line in vulnerable:
        print(f"VULNERABLE {line}")
    print(f"pip-audit: {audited} dependencies audited, {len(vulnerable)} with a known vulnerability.")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
