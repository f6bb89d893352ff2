"""What the public page may show of a figure without singling anyone out.

A count from 1 to 4 is shown as "fewer than 5" (primary suppression); zero is shown, as
it describes nobody. Within a breakdown whose cells add up to a figure shown elsewhere
(the regions, the tracks: both add up to the programme's total), one small cell could be
recovered by subtraction; so the smallest other cells are hidden too until the hidden
ones together hold at least 5 (secondary suppression). A rate is shown only when its
base, its numerator and the rest of its base are each zero or at least 5: otherwise the
rate and a count shown beside it would give a small number away.
"""

from dataclasses import dataclass

THRESHOLD = 5


@dataclass(frozen=True)
class Shown:
    """A figure as the public sees it: its value, or why it is withheld."""

    value: int | float | None
    # "small": between 1 and 4; "hidden": withheld so that a small one cannot be deduced.
    withheld: str | None = None


def is_small(n):
    """Would ``n`` people or associations single someone out (1 to 4)?"""
    return 0 < n < THRESHOLD


def count(n):
    """A count as shown alone (primary suppression only)."""
    return Shown(None, "small") if is_small(n) else Shown(n)


def rate(numerator, base):
    """A rate (0 to 1) as shown, or withheld when it would reveal a small count."""
    if base < THRESHOLD or is_small(numerator) or is_small(base - numerator):
        return Shown(None, "small")
    return Shown(numerator / base)


def breakdown(values):
    """The counts of a breakdown as shown, small cells and just enough others withheld."""
    shown = [count(n) for n in values]
    hidden = sum(n for n in values if is_small(n))
    if 0 < hidden < THRESHOLD:
        # Hide the smallest others (never zeros: they say nothing) until the hidden sum is safe.
        others = sorted((n, i) for i, n in enumerate(values) if n >= THRESHOLD)
        for n, i in others:
            shown[i] = Shown(None, "hidden")
            hidden += n
            if hidden >= THRESHOLD:
                break
    return shown
