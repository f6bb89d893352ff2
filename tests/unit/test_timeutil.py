"""A day picked on a form means that day in Moroccan time, whatever Morocco's offset that day."""

from datetime import date, datetime

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
