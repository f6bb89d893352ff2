"""The runtime requirements are what the portal uses, and nothing more."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Packages the portal uses without importing them by this name: why each is pinned.
INDIRECT = {
    "werkzeug": "Flask's server layer (imported as werkzeug, pinned with Flask)",
    "alembic": "Flask-Migrate's engine",
    "babel": "Flask-Babel's catalogues and formats",
    "pytz": "Flask-Babel's time zones",
    "cachelib": "Flask-Caching's backends",
    "redis": "storage of the throttles (limits) and of the shared cache in production",
    "psycopg": "the PostgreSQL driver, chosen by SQLALCHEMY_DATABASE_URI",
    "brotli": "Flask-Static-Digest's brotli copies",
    "gunicorn": "the production server (gunicorn.conf.py, make serve)",
    "uharfbuzz": "fpdf2's text shaping (Arabic certificates)",
    "fonttools": "fpdf2's font parsing and subsetting",
    "defusedxml": "fpdf2's dependency, pinned with it",
}
# Distribution name -> the module it is imported as, when they differ.
MODULES = {
    "flask-sqlalchemy": "flask_sqlalchemy",
    "flask-migrate": "flask_migrate",
    "flask-login": "flask_login",
    "flask-wtf": "flask_wtf",
    "flask-mail": "flask_mail",
    "flask-babel": "flask_babel",
    "flask-caching": "flask_caching",
    "flask-static-digest": "flask_static_digest",
    "argon2-cffi": "argon2",
    "email-validator": "email_validator",
    "pillow": "PIL",
    "fpdf2": "fpdf",
}


def runtime_requirements():
    """Lower-cased distribution names of requirements.txt."""
    names = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            names.append(re.split(r"[\[=<>]", line)[0].strip().lower())
    return names


def test_every_runtime_requirement_is_imported_by_the_portal_or_documented():
    sources = "\n".join(
        path.read_text() for path in [*ROOT.joinpath("portal").rglob("*.py"), ROOT / "gunicorn.conf.py"]
    )
    unused = []
    for name in runtime_requirements():
        if name in INDIRECT:
            continue
        module = MODULES.get(name, name.replace("-", "_"))
        if not re.search(rf"^\s*(from|import) {re.escape(module)}\b", sources, re.MULTILINE | re.IGNORECASE):
            unused.append(name)
    assert unused == []


def test_flask_limiter_is_gone_the_throttles_use_limits():
    assert "flask-limiter" not in runtime_requirements()
    assert {"limits", "redis"} <= set(runtime_requirements())
    code = (
        "import sys; from portal import create_app; "
        "create_app({'SECRET_KEY': 'k', 'SQLALCHEMY_DATABASE_URI': 'sqlite://'}); "
        "print('flask_limiter' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_benchmark_and_test_tools_are_not_runtime_requirements():
    runtime = set(runtime_requirements())
    for tool in ("pyinstrument", "py-spy", "pytest", "aiosmtpd", "playwright", "hypothesis", "ruff"):
        assert tool not in runtime
