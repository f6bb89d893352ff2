"""The administrators' dashboard: counts by city, track and status, seats, demand, outbox."""

from flask import render_template, request, url_for

from portal.admin import bp, charts, dashboard_rows, queries
from portal.i18n import current_language, isolate_text, ngettext
from portal.templating import format_day, url_prefix
from portal.vocabulary import ApplicationStatus, OfferingStatus, OutboxStatus

# The seats table lists the first offerings matching the filters.
SEATS_ROWS = 100


@bp.get("")
def dashboard():
    """Counts by city, track and status, seats, applications per day, demand, outbox.

    Rendered on every request, nothing cached: the counts per status come from the rows the
    workflow keeps (``application_count``), the demand ranking's from those the writes of
    interests and accounts keep (``interest_count``, ``resident_count``), so none is stale.
    """
    filters = queries.ApplicationFilters.from_args(request.args)
    return render_template("admin/dashboard.html", **_dashboard_content(filters))


def _matches(filters, row):
    """Whether an offering row of ``queries.dashboard_offerings`` passes the offering filters."""
    return (
        (not filters.offering or row.id == filters.offering)
        and (not filters.city or row.city_id == filters.city)
        and (not filters.track or row.track_id == filters.track)
        and (not filters.year or row.academic_year == filters.year)
    )


def _bar_titles(chart):
    """The title of each bar, each distinct count translated once (plural forms differ)."""
    patterns = {}
    titles = []
    for bar in chart["bars"]:
        if bar.value not in patterns:
            patterns[bar.value] = ngettext(
                "%(day)s : %(num)d candidature", "%(day)s : %(num)d candidatures", bar.value, day="\0"
            )
        titles.append(patterns[bar.value].replace("\0", bar.label))
    return titles


def _dashboard_content(filters):
    """The dashboard's figures for ``filters``: the context of its template.

    Plain values read once per request (names already in the reader's language), so that
    rendering makes no lookup per row.
    """
    language = current_language()
    cities = {i: (name, region) for i, name, region in queries.dashboard_cities(language)}
    tracks = {i: (code, title) for i, code, title in queries.dashboard_tracks(language)}
    unknown = ("?", "?")

    counts = queries.status_counts(filters)
    statuses = ApplicationStatus.values()
    # A count whose city or track is unknown sorts first and shows "?".
    status_rows = [
        (city or "?", code or "?", cells, total)
        for city, code, cells, total in sorted(
            (
                cities[city_id][0] if city_id in cities else "",
                tracks[track_id][0] if track_id in tracks else "",
                [(s, by_status.get(s, 0)) for s in statuses],
                sum(by_status.values()),
            )
            for (city_id, track_id), by_status in counts.items()
        )
    ]
    status_totals = {s: 0 for s in statuses}
    for by_status in counts.values():
        for s, n in by_status.items():
            if s in status_totals:
                status_totals[s] += n

    offering_url = url_prefix("admin.offering", "offering_id")
    offerings = queries.dashboard_offerings()
    selected = next((o for o in offerings if o.id == filters.offering), None) if filters.offering else None
    per_day = queries.applications_per_day(filters, offering=selected)
    # Days in the reader's format, as everywhere else (the data table gives them too).
    days = [(format_day(day), n) for day, n in per_day]
    chart = charts.bar_chart(days) if days else None
    offering_labels = {s: str(OfferingStatus.label_of(s)) for s in {o.status for o in offerings}}
    seats_rows = []
    for o in offerings:
        if len(seats_rows) == SEATS_ROWS:
            break
        if _matches(filters, o):
            seats_rows.append(
                (
                    o.id,
                    tracks.get(o.track_id, unknown)[0],
                    cities.get(o.city_id, unknown)[0],
                    o.academic_year,
                    offering_labels[o.status],
                    o.applications or 0,
                    o.seats,
                    o.seats_held,
                    max(o.seats - o.seats_held, 0),
                )
            )
    return dict(
        filters=filters,
        filter_args=filters.as_args(),
        selected=(tracks.get(selected.track_id, unknown)[0], cities.get(selected.city_id, unknown)[0])
        if selected
        else None,
        cities=cities,
        tracks=tracks,
        statuses=statuses,
        status_rows_html=dashboard_rows.status_rows(status_rows),
        status_totals=status_totals,
        total=sum(status_totals.values()),
        days=days,
        per_day_total=sum(n for _day, n in per_day),
        per_day_peak=max((n for _day, n in per_day), default=0),
        chart=chart,
        bar_titles=_bar_titles(chart) if chart else [],
        seats_rows_html=dashboard_rows.seats_rows(seats_rows, offering_url),
        demand_rows_html=dashboard_rows.demand_rows(
            _demand(filters, cities, tracks), offering_url, url_for("admin.new_offering")
        ),
        outbox=queries.outbox_counts((OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)),
        # The code and the year isolated, so that the year does not read backwards
        # ("2027-2026") after an Arabic city name.
        offering_choices=[
            (
                o.id,
                f"{isolate_text(tracks.get(o.track_id, unknown)[0])} · {cities.get(o.city_id, unknown)[0]}"
                f" · {isolate_text(o.academic_year)}",
            )
            for o in offerings
        ],
        years=list(dict.fromkeys(o.academic_year for o in offerings)),
    )


def _demand(filters, cities, tracks):
    """The demand ranking, rows of ``dashboard_rows.demand_rows`` (names in the reader's language)."""
    rows = queries.demand_ranking_ids(track_id=filters.track)
    return [
        (*tracks[track_id], city_id, *cities[city_id], interests, residents, planned, track_id)
        for track_id, city_id, interests, residents, planned in rows
        if track_id in tracks and city_id in cities
    ]
