"""The applications-per-day chart keeps bars that look like bars, whatever the number of days."""

import pytest

from portal.admin.charts import MAX_BAR_WIDTH, bar_chart


def _days(n):
    return [(f"2026-10-{d + 1:02d}", d % 5 + 1) for d in range(n)]


def test_one_day_is_one_bar_in_the_middle_not_a_block():
    chart = bar_chart([("2026-10-01", 7)])
    (bar,) = chart["bars"]
    assert bar.width <= MAX_BAR_WIDTH
    # Centred in the plot, and its label under it.
    middle = (chart["left"] + chart["right"]) / 2
    assert abs(bar.x + bar.width / 2 - middle) < 1
    assert chart["ticks"] == [{"x": round(bar.x + bar.width / 2, 2), "label": "2026-10-01"}]


@pytest.mark.parametrize("days", [1, 2, 3, 7, 14, 31, 60, 120])
def test_bars_never_overlap_never_leave_the_plot_and_keep_a_sensible_width(days):
    chart = bar_chart(_days(days))
    bars = chart["bars"]
    assert len(bars) == days
    widths = {bar.width for bar in bars}
    assert len(widths) == 1 and 1 <= widths.pop() <= MAX_BAR_WIDTH
    assert bars[0].x >= chart["left"] and bars[-1].x + bars[-1].width <= chart["right"] + 0.01
    for before, after in zip(bars, bars[1:], strict=False):
        assert after.x >= before.x + before.width  # a gap, or at least no overlap
