"""Every setting the portal reads is declared, with its default, in portal/config.py."""

import re
from pathlib import Path

from portal.config import Config

ROOT = Path(__file__).resolve().parents[2]

# config["KEY"], config.get("KEY"), config.setdefault("KEY") in Python; config.KEY in templates.
READS = re.compile(
    r"""config(?:\[|\.get\(|\.setdefault\()\s*["']([A-Z][A-Z0-9_]+)["']|config\.([A-Z][A-Z0-9_]+)"""
)


def settings_read():
    """Names of the settings read by portal/, templates/, wsgi.py and gunicorn.conf.py."""
    paths = [
        *ROOT.joinpath("portal").rglob("*.py"),
        *ROOT.joinpath("templates").rglob("*.html"),
        *ROOT.joinpath("templates").rglob("*.txt"),
        ROOT / "wsgi.py",
        ROOT / "gunicorn.conf.py",
    ]
    names = set()
    for path in paths:
        for match in READS.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    return names


def test_every_setting_read_is_declared_in_config():
    read = settings_read()
    assert len(read) > 40  # the search does find the settings
    assert sorted(name for name in read if not hasattr(Config, name)) == []


def test_every_declared_setting_has_a_comment_or_a_commented_section():
    """Each setting sits under a comment (its own or its group's): no bare, unexplained value."""
    lines = (ROOT / "portal" / "config.py").read_text().splitlines()
    body = lines[next(i for i, line in enumerate(lines) if line.startswith("class Config")) + 2 :]
    bare, commented = [], False
    for line in body:
        stripped = line.strip()
        if not stripped:
            commented = False
        elif stripped.startswith("#"):
            commented = True
        elif re.match(r"[A-Z][A-Z0-9_]+ =", stripped) and not commented and "#" not in stripped:
            bare.append(stripped.split()[0])
    assert bare == []
