"""The administrators' dashboard: counts by city, track and status, seats, demand, outbox."""

from flask import current_app, render_template, request

from portal.admin import bp, charts, queries
from portal.catalog.models import Offering
from portal.extensions import cache, db
from portal.templating import format_day
from portal.vocabulary import ApplicationStatus, OutboxStatus


@bp.get("")
def dashboard():
    """Counts by city, track and status, seats, applications per day, demand, outbox.

    Rendered on every request: the counts per status come from the rows the workflow keeps
    (``application_count``), so they are never stale. Only the demand ranking (interests
    and residents per city, not applications) is kept for DEMAND_CACHE_SECONDS.
    """
    filters = queries.ApplicationFilters.from_args(request.args)
    return render_template("admin/dashboard.html", **_dashboard_content(filters))


def _dashboard_content(filters):
    """The dashboard's figures for ``filters``: the context of its template."""
    selected = db.session.get(Offering, filters.offering) if filters.offering else None
    cities = {c.id: c for c in queries.all_cities()}
    tracks = {t.id: t for t in queries.all_tracks()}
    counts = queries.status_counts(filters)
    statuses = list(ApplicationStatus.values())
    status_rows = sorted(
        (
            {
                "city": cities.get(city_id),
                "track": tracks.get(track_id),
                "counts": by_status,
                "total": sum(by_status.values()),
            }
            for (city_id, track_id), by_status in counts.items()
        ),
        key=lambda r: (r["city"].name if r["city"] else "", r["track"].code if r["track"] else ""),
    )
    status_totals = {s: sum(r["counts"].get(s, 0) for r in status_rows) for s in statuses}
    per_day = queries.applications_per_day(filters, offering=selected)
    # Days in the reader's format, as everywhere else (the data table gives them too).
    chart = charts.bar_chart([(format_day(day), n) for day, n in per_day]) if per_day else None
    offerings, applications_by_offering = queries.offerings_with_seats(filters)
    return dict(
        filters=filters,
        filter_args=filters.as_args(),
        selected=selected,
        cities=cities,
        tracks=tracks,
        statuses=statuses,
        status_rows=status_rows,
        status_totals=status_totals,
        total=sum(status_totals.values()),
        per_day=per_day,
        per_day_total=sum(n for _day, n in per_day),
        per_day_peak=max((n for _day, n in per_day), default=0),
        chart=chart,
        offerings=offerings,
        applications_by_offering=applications_by_offering,
        demand=_demand(filters, cities, tracks),
        outbox=queries.outbox_counts((OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)),
        offering_choices=queries.offering_choices(),
        years=queries.academic_years(),
    )


def _demand(filters, cities, tracks):
    """The demand ranking, ``(track, city, region, interests, residents, planned)`` rows.

    It counts every registered applicant per city of residence (as many rows as accounts),
    so its figures — ids and numbers, the same in every language — are kept for
    DEMAND_CACHE_SECONDS per track filter (0: computed on every request).
    """
    seconds = current_app.config["DEMAND_CACHE_SECONDS"]
    key = f"admin-demand:{filters.track or 0}"
    rows = cache.get(key) if seconds else None
    if rows is None:
        rows = queries.demand_ranking_ids(track_id=filters.track)
        if seconds:
            cache.set(key, rows, timeout=seconds)
    return [
        (tracks[track_id], cities[city_id], cities[city_id].region, interests, residents, planned)
        for track_id, city_id, interests, residents, planned in rows
        if track_id in tracks and city_id in cities
    ]
