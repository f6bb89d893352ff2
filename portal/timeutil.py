"""Time in one place, so tests can freeze the clock.

Datetimes are stored naive in UTC (SQLite has no time zones); pages show them in
``BABEL_DEFAULT_TIMEZONE`` (Moroccan time) through Flask-Babel. A day someone picks (the
last day applications are accepted, say) means that day in Moroccan time: the helpers
below turn it into the UTC moments stored, whatever the offset of that day (Morocco's
offsets have changed over the years: the tz database pinned with pytz knows them).
"""

from datetime import UTC, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytz
from flask_babel import get_timezone, to_utc

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


@lru_cache(maxsize=4)
def _zone_from_pytz(name):
    with pytz.open_resource(name) as data:
        return ZoneInfo.from_file(data, key=name)


def local_zone():
    """The portal's time zone (Flask-Babel's) as a ``zoneinfo`` zone, for converting many dates.

    pytz converts a datetime in Python (about 3 µs), ``zoneinfo`` in C (0.3 µs): it counts
    on pages of fifty rows. The zone is read from the file pinned with pytz, not from the
    system's tz database, which may be older and disagree (Debian 12's keeps Morocco at +01
    after 20 September 2026, where pytz 2026.6 has +00): every page keeps the same offsets
    as Flask-Babel's own conversions and ``end_of_local_day``.
    """
    return _zone_from_pytz(get_timezone().zone)


def local_day(moment, zone=None):
    """The day, in Moroccan time (or ``zone``), of ``moment``: a datetime, naive in UTC or aware."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone or local_zone()).date()
