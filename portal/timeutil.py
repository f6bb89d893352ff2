"""Time in one place, so tests can freeze the clock.

Datetimes are stored naive in UTC (SQLite has no time zones); pages show them in
``BABEL_DEFAULT_TIMEZONE`` (Moroccan time) through Flask-Babel. A day someone picks (the
last day applications are accepted, say) means that day in Moroccan time: the helpers
below turn it into the UTC moments stored, whatever the offset of that day (Morocco's
offsets have changed over the years: the tz database pinned with pytz knows them).
"""

from datetime import UTC, datetime, time

from flask_babel import to_user_timezone, to_utc

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


def start_of_local_day(day):
    """The first moment of ``day`` in Moroccan time, as naive UTC."""
    return to_utc(datetime.combine(day, time.min))


def end_of_local_day(day):
    """The last moment (23:59:59.999999) of ``day`` in Moroccan time, as naive UTC."""
    return to_utc(datetime.combine(day, time.max))


def local_day(moment):
    """The day, in Moroccan time, of the naive UTC datetime ``moment``."""
    return to_user_timezone(moment).date()
