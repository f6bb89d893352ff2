"""Time in one place, so tests can freeze the clock.

Datetimes are stored naive in UTC (SQLite has no time zones); pages show them in
``BABEL_DEFAULT_TIMEZONE`` through Flask-Babel.
"""

from datetime import UTC, datetime

_frozen = None


def utcnow():
    """The current time, naive UTC (or the frozen time in tests)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC).replace(tzinfo=None)


def freeze(moment):
    """Freeze ``utcnow()`` at ``moment`` (``None`` unfreezes). For tests and simulations."""
    global _frozen
    _frozen = moment
