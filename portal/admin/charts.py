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
