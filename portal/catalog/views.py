"""Public pages: home, catalogue, a track, the privacy notice, health, language switch."""

from functools import cache

from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import bindparam, case, select, text
from sqlalchemy.orm import joinedload

from portal import permissions
from portal.catalog import bp
from portal.catalog.models import City, Offering, Track, taking_applications
from portal.catalog.visitor_cache import visitor_page
from portal.database import plain_rows
from portal.demand.operations import interest_state
from portal.extensions import csrf, db
from portal.i18n import current_language, localized_column, remember_language
from portal.safety import query_int, safe_next
from portal.timeutil import utcnow
from portal.vocabulary import Domain


def _taking_applications_in_order(query, now):
    """``query`` kept to the offerings taking applications at ``now``, in the catalogue's order.

    ``query`` reads offerings joined to their track and city (the order reads both); ``now``
    is a value or a parameter.
    """
    return query.where(taking_applications(now)).order_by(Offering.closes_at, Track.code, City.name_fr)


def _open_offerings_query(now):
    """Offerings taking applications at ``now`` (a value or a parameter), track and city loaded."""
    return _taking_applications_in_order(
        select(Offering)
        .join(Offering.track)
        .join(Offering.city)
        .options(joinedload(Offering.track), joinedload(Offering.city)),
        now,
    )


@cache
def _open_offerings_statement():
    """``_open_offerings_query`` with ``now`` a parameter, built once (it keeps its cache key)."""
    return _open_offerings_query(bindparam("now"))


def open_offerings(city_id=None, domain=None, track_id=None):
    """Offerings taking applications now, with their track and city loaded.

    The dashboard reads its own few as rows: ``open_offering_rows``.
    """
    now = utcnow()
    if not (city_id or domain or track_id):
        # The home page's and the whole catalogue's case: the statement built once.
        return db.session.scalars(_open_offerings_statement(), {"now": now}).all()
    query = _open_offerings_query(now)
    if city_id:
        query = query.where(Offering.city_id == city_id)
    if domain:
        query = query.where(Track.domain == domain)
    if track_id:
        query = query.where(Offering.track_id == track_id)
    return db.session.scalars(query).all()


@cache
def _open_offering_rows_statement(language):
    """The query of ``open_offering_rows`` in ``language``, built once (it keeps its cache key)."""
    seats_left = case((Offering.seats > Offering.seats_held, Offering.seats - Offering.seats_held), else_=0)
    return _taking_applications_in_order(
        select(
            Offering.id,
            Offering.academic_year,
            Offering.status,
            Offering.opens_at,
            Offering.closes_at,
            seats_left.label("seats_left"),
            Track.code,
            Track.min_education,
            localized_column(Track, "title", language).label("title"),
            localized_column(City, "name", language).label("city"),
        )
        .join(Track, Track.id == Offering.track_id)
        .join(City, City.id == Offering.city_id),
        bindparam("now"),
    ).limit(bindparam("limit"))


def open_offering_rows(exclude, limit):
    """The first ``limit`` offerings taking applications, but those of ``exclude``, as plain rows.

    For the applicant's dashboard: the columns its list and the apply rules read (``id``,
    ``academic_year``, ``status``, ``opens_at``, ``closes_at``, ``seats_left``, the track's
    ``code``, ``min_education`` and ``title``, and ``city``), in the language being rendered.
    """
    # The excluded ones left out here, from as many more rows: a list of values in the
    # statement would be rendered into its SQL again on every execution.
    values = {"now": utcnow(), "limit": limit + len(exclude)}
    # Plain columns: run on the session's connection, the ORM's execution layer has nothing to do.
    rows = plain_rows(
        db.session.connection().execute(_open_offering_rows_statement(current_language()), values)
    )
    return [row for row in rows if row.id not in exclude][:limit]


def apply_outlooks_for(offerings):
    """What the logged-in applicant is told beside each offering (empty for anyone else)."""
    if not permissions.can_apply(current_user) or current_user.profile is None:
        return {}
    # Imported here: applications builds on the catalogue, which is loaded first.
    from portal.applications.operations import apply_outlooks

    return apply_outlooks(current_user, offerings)


def by_track(offerings):
    """``[(track, [offerings])]``: the offerings grouped by track, in the order they come."""
    groups = {}
    for offering in offerings:
        groups.setdefault(offering.track_id, (offering.track, []))[1].append(offering)
    return list(groups.values())


@bp.get("/")
@visitor_page
def home():
    """Programme presentation and the offerings open now, grouped by track."""
    offerings = open_offerings()
    return render_template(
        "catalog/home.html",
        groups=by_track(offerings),
        outlooks=apply_outlooks_for(offerings),
    )


@bp.get("/tracks")
@visitor_page
def tracks():
    """The catalogue of tracks, with the open offerings filtered by city and domain."""
    city_id = query_int("city")
    domain = request.args.get("domain")
    if domain not in Domain.values():
        domain = None
    all_tracks = db.session.scalars(select(Track).order_by(Track.domain, Track.code)).all()
    if domain:
        all_tracks = [t for t in all_tracks if t.domain == domain]
    offerings = open_offerings(city_id=city_id, domain=domain)
    cities = db.session.scalars(select(City).order_by(City.name_fr)).all()
    return render_template(
        "catalog/tracks.html",
        tracks=all_tracks,
        by_track={track.id: track_offerings for track, track_offerings in by_track(offerings)},
        cities=cities,
        city_id=city_id,
        domain=domain,
        outlooks=apply_outlooks_for(offerings),
    )


@bp.get("/tracks/<code>")
@visitor_page
def track(code):
    """One track and where it is offered."""
    track = db.session.scalar(select(Track).where(Track.code == code.upper()))
    if track is None:
        abort(404)
    offerings = open_offerings(track_id=track.id)
    return render_template(
        "catalog/track.html",
        track=track,
        offerings=offerings,
        outlooks=apply_outlooks_for(offerings),
        interest=interest_state(current_user, track),
    )


@bp.get("/privacy")
def privacy():
    """The privacy notice (law 09-08)."""
    return render_template(
        "catalog/privacy.html",
        version=current_app.config["PRIVACY_NOTICE_VERSION"],
        cndp=current_app.config["CNDP_DECLARATION"],
    )


@bp.get("/healthz")
def healthz():
    """JSON health status: is the database reachable."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.post("/lang/<code>")
@csrf.exempt
def set_language(code):
    """Switch language: remembered in the session, and on the account when logged in."""
    if current_user.is_authenticated:
        # The account is written: the form's token is required, as on every other POST.
        if current_app.config["WTF_CSRF_ENABLED"]:
            csrf.protect()
    elif request.headers.get("Sec-Fetch-Site") == "cross-site":
        # Visitors' pages are cached and carry no token (nor a session to hold one); the
        # browser's word that another site sent the form is enough to refuse it.
        raise CSRFError()
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    remember_language(code, current_user if current_user.is_authenticated else None)
    return redirect(safe_next(request.form.get("next")) or url_for("catalog.home"))
