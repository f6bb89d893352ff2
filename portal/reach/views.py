"""The public page of the programme's reach, ``/programme``: aggregates only, small counts withheld."""

from functools import lru_cache

from babel.numbers import format_decimal, format_percent
from flask import render_template, request

from portal.catalog.visitor_cache import visitor_page
from portal.i18n import current_language
from portal.i18n import gettext as _
from portal.reach import bp, disclosure, queries

# The counts of the page, in the order of its columns.
COUNTS = ("associations", "actors", "applications", "demand")


def selected_year(args, known):
    """The academic year asked for in ``?year=`` when it is one of ``known``, else the current one."""
    year = args.get("year") or ""
    return year if year in known else queries.current_year()


@lru_cache(maxsize=4096)
def _number(value, percent, language):
    # Babel reads its locale data on every call: a page formats about a hundred figures.
    return (
        format_percent(value, "#,##0 %", locale=language)
        if percent
        else format_decimal(value, locale=language)
    )


def display(shown, percent=False):
    """The text of a figure as the public sees it (see portal.reach.disclosure)."""
    if shown.withheld == "small":
        return _("moins de 5")
    if shown.withheld == "hidden":
        return _("masqué")
    if shown.value is None:
        return "—"
    return _number(shown.value, percent, current_language())


def _rates(figures):
    return {
        "acceptance": display(disclosure.rate(figures.accepted, figures.decided), percent=True),
        "completion": display(disclosure.rate(figures.completed, figures.outcomes), percent=True),
    }


def public_rows(labelled):
    """Rows of a breakdown ``[(label, Figures)]``, each count and rate as the public sees it."""
    columns = {
        name: disclosure.breakdown([getattr(figures, name) for _label, figures in labelled])
        for name in COUNTS
    }
    return [
        {
            "label": label,
            **{name: display(columns[name][i]) for name in COUNTS},
            **_rates(figures),
        }
        for i, (label, figures) in enumerate(labelled)
    ]


def public_total(figures):
    """The programme's figures as the public sees them."""
    return {
        **{name: display(disclosure.count(getattr(figures, name))) for name in COUNTS},
        **_rates(figures),
    }


@bp.get("/programme")
@visitor_page
def programme():
    """The programme's reach this year (or another), per region and per track, for everyone."""
    years = queries.years()
    year = selected_year(request.args, years)
    reach = queries.reach(year, levels=("total", "region", "track"))
    regions = [(region.name, reach.get("region", region.id)) for region in queries.regions()]
    tracks = [(track.title, reach.get("track", track.id)) for track in queries.tracks()]
    return render_template(
        "reach/programme.html",
        year=year,
        years=years,
        total=public_total(reach.total),
        regions=public_rows(regions),
        tracks=public_rows(tracks),
        threshold=disclosure.THRESHOLD,
    )
