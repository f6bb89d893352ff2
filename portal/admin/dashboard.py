"""The administrators' dashboard: counts by city, track and status, seats, demand, outbox."""

import json

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.admin import bp, charts, queries
from portal.caching import cached_html
from portal.catalog.models import Offering
from portal.extensions import db
from portal.i18n import current_language
from portal.templating import format_day
from portal.timeutil import utcnow
from portal.vocabulary import ApplicationStatus


@bp.get("")
def dashboard():
    """Counts by city, track and status, seats, applications per day, demand, outbox.

    ``?refresh=1`` (the page's "recompute now" button) computes the figures now, then
    comes back to the plain address, so that reloading the page does not compute again.
    """
    filters = queries.ApplicationFilters.from_args(request.args)
    refresh = request.args.get("refresh") == "1"
    # The figures read every application (0.2 s at 100,000 on SQLite): the content is
    # rendered at most once per DASHBOARD_CACHE_SECONDS for each language and filter.
    key = f"admin-dashboard:{current_language()}:{json.dumps(filters.as_args(), sort_keys=True)}"
    content = cached_html(
        key,
        current_app.config["DASHBOARD_CACHE_SECONDS"],
        lambda: _dashboard_content(filters),
        refresh=refresh,
    )
    if refresh:
        flash(_("Les chiffres viennent d'être recalculés."), "success")
        return redirect(url_for("admin.dashboard", **filters.as_args()))
    return render_template("admin/dashboard.html", content=content)


def _dashboard_content(filters):
    """Compute the dashboard's figures for ``filters`` and render them."""
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
    return render_template(
        "admin/_dashboard.html",
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
        demand=queries.demand_ranking(track_id=filters.track),
        outbox=queries.outbox_counts(),
        computed_at=utcnow(),
        offering_choices=queries.offering_choices(),
        years=queries.academic_years(),
    )
