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


def test_region_bars_scale_to_the_largest_value_and_mirror_in_right_to_left():
    from portal.admin.charts import region_bars

    rows = [("Souss-Massa", (10, 4)), ("Oriental", (0, 0)), ("Rabat-Salé-Kénitra", (5, 20))]
    left = region_bars(rows, width=400, margin=4)
    right = region_bars(rows, rtl=True, width=400, margin=4)
    longest = left["regions"][2].bars[1]
    assert longest.x == 4 and longest.width == 400 - 2 * 4 - 44  # room left for its value
    assert left["regions"][0].bars[0].width == longest.width / 2
    assert left["regions"][1].bars[0].width == 0
    # Right to left: the same lengths, growing from the right edge; names start on the right.
    mirrored = right["regions"][0].bars[0]
    assert mirrored.width == left["regions"][0].bars[0].width
    assert mirrored.x + mirrored.width == 400 - 4
    assert right["regions"][0].label_x == 396 and left["regions"][0].label_x == 4
    # One line per region, its bars below its name, never overlapping the next region.
    first, second = left["regions"][0], left["regions"][1]
    assert first.label_y < first.bars[0].y < first.bars[1].y
    assert first.bars[1].y + first.bars[1].height < second.label_y - 10
    assert left["height"] >= second.bars[1].y + 15


def test_region_bars_with_nothing_counted():
    from portal.admin.charts import region_bars

    chart = region_bars([("Oriental", (0, 0))])
    assert [bar.width for bar in chart["regions"][0].bars] == [0, 0]
