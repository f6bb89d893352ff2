"""Server-rendered charts: the geometry of an SVG bar chart (no JavaScript library)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    """One bar: its position and size in the SVG's coordinates, its label and value."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


def _nice_step(value, lines=4):
    """A round grid step (1, 2 or 5 × 10^n) giving at most about ``lines`` lines up to ``value``."""
    raw = max(value, 1) / lines
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= raw:
            return step * magnitude
    return 10 * magnitude


# The widest a bar gets, in the SVG's units (the plot is 548 wide): with a few days of
# data the bars keep the look of bars, centred in their day, instead of filling the plot.
MAX_BAR_WIDTH = 32
MAX_TICKS = 5


def bar_chart(series, width=600, height=260, left=44, bottom=30, top=12, right=8):
    """Geometry of a bar chart of ``[(label, value)]`` for ``templates/admin/_bar_chart.html``.

    Returns a dict with the bars, the horizontal grid lines with their values, the
    labels shown under the axis (a few, so they never overlap) and the plot frame.
    """
    plot_w = width - left - right
    plot_h = height - top - bottom
    highest = max((v for _, v in series), default=0)
    step = _nice_step(highest)
    top_value = step * max(-(-highest // step), 1)
    slot = plot_w / max(len(series), 1)
    gap = min(slot * 0.2, 4)
    bar_width = max(min(slot - gap, MAX_BAR_WIDTH), 1)
    bars = [
        Bar(
            x=round(left + i * slot + (slot - bar_width) / 2, 2),
            y=round(top + plot_h - plot_h * value / top_value, 2),
            width=round(bar_width, 2),
            height=round(plot_h * value / top_value, 2),
            label=label,
            value=value,
        )
        for i, (label, value) in enumerate(series)
    ]
    grid = [
        {"y": round(top + plot_h - plot_h * v / top_value, 2), "value": v}
        for v in range(0, top_value + 1, step)
    ]
    # Labels are whole days in the reader's format ("15 déc. 2026"): five fit under the plot.
    every = max(1, -(-len(series) // MAX_TICKS))
    ticks = [
        {"x": round(b.x + b.width / 2, 2), "label": b.label} for i, b in enumerate(bars) if i % every == 0
    ]
    return {
        "bars": bars,
        "grid": grid,
        "ticks": ticks,
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "baseline": top + plot_h,
        "label_y": height - 8,
        "max": top_value,
    }


@dataclass(frozen=True)
class RegionBars:
    """One region of the reach chart: its label's position and its two bars."""

    label: str
    label_x: float
    label_y: float
    bars: tuple  # of Bar, in the order of the chart's series


def region_bars(rows, rtl=False, width=400, row_height=60, top=8, margin=4, bar_height=15):
    """Geometry of the reach chart: per region, its name on a line, then one bar per series.

    ``rows`` is ``[(label, (value, value...))]``. Names get the whole width on their own
    line (the twelve regions' names are long; a phone keeps them readable: the chart is
    drawn about as wide as a phone's screen, so its text keeps its size there) and bars grow
    from the start of the line: from the right in a right-to-left page. Each bar has room
    after it for its value.
    """
    value_room = 44
    plot_w = width - 2 * margin - value_room
    highest = max((v for _label, values in rows for v in values), default=0) or 1
    regions = []
    for i, (label, values) in enumerate(rows):
        y = top + i * row_height
        bars = []
        for j, value in enumerate(values):
            length = round(plot_w * value / highest, 2)
            x = width - margin - length if rtl else margin
            bars.append(
                Bar(
                    x=round(x, 2),
                    y=y + 22 + j * (bar_height + 4),
                    width=length,
                    height=bar_height,
                    label=label,
                    value=value,
                )
            )
        regions.append(
            RegionBars(
                label=label, label_x=width - margin if rtl else margin, label_y=y + 16, bars=tuple(bars)
            )
        )
    return {
        "regions": regions,
        "width": width,
        "height": top + len(rows) * row_height,
        "rtl": rtl,
        "value_gap": 6,
    }
