"""A day picked on a form means that day in Moroccan time, whatever Morocco's offset that day."""

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.timeutil import end_of_local_day, local_day, start_of_local_day


@pytest.mark.parametrize(
    ("day", "first", "last"),
    [
        # Summer 2026: UTC+1.
        (date(2026, 6, 15), datetime(2026, 6, 14, 23, 0), datetime(2026, 6, 15, 22, 59, 59, 999999)),
        # Since the autumn of 2026 Morocco keeps UTC+0 (tz database 2026 releases).
        (date(2026, 12, 15), datetime(2026, 12, 15, 0, 0), datetime(2026, 12, 15, 23, 59, 59, 999999)),
    ],
)
def test_a_day_is_the_whole_moroccan_day(app, day, first, last):
    with app.test_request_context():
        assert start_of_local_day(day) == first
        assert end_of_local_day(day) == last
        assert local_day(first) == local_day(last) == day


def test_the_fast_zone_of_pages_keeps_flask_babels_offsets(app):
    """Lists convert dates with ``zoneinfo`` (in C): the offsets must be pytz's, hour by hour."""
    from flask_babel import to_user_timezone

    from portal.templating import day_formatter

    with app.test_request_context():
        day = day_formatter()
        moment = datetime(2025, 12, 31, 0, 30)
        # Every hour of a year holding Ramadan's change of offset and the autumn's.
        while moment.year == 2026 or moment.month == 12:
            expected = to_user_timezone(moment).date()
            assert local_day(moment) == expected, moment
            assert local_day(moment.replace(tzinfo=UTC)) == expected, moment
            moment += timedelta(hours=1)
        assert day(datetime(2026, 12, 15, 23, 30)) == "15 déc. 2026"
        assert day(datetime(2026, 6, 15, 23, 30)) == "16 juin 2026"
