"""Read-only queries of the administration pages: filters, aggregates, lists.

Every aggregate is one GROUP BY query, so the number of queries of a page does not
grow with the number of applications, offerings or cities.
"""

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from flask_babel import to_utc
from sqlalchemy import ColumnElement, bindparam, exists, func, or_, select, true
from sqlalchemy.orm import contains_eager, joinedload, with_expression

from portal import permissions
from portal.applications.models import Application, ApplicationCount, ApplicationDayCount
from portal.associations import queries as association_queries
from portal.associations.models import Association
from portal.audit import AuditEvent
from portal.auth.models import ApplicantProfile, User
from portal.catalog.models import City, Offering, OfferingAssociationSeat, Region, Track, open_not_over
from portal.catalog.operations import academic_year
from portal.demand.models import InterestCount, ResidentCount
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.safety import MAX_ID
from portal.timeutil import utcnow
from portal.vocabulary import ApplicationStatus, OfferingStatus, OutboxStatus, Role

YEAR_RE = re.compile(r"\d{4}-\d{4}")


def clean_text(value, max_length):
    """A search text without control characters (PostgreSQL refuses NUL), trimmed."""
    return re.sub(r"[\x00-\x1f\x7f]", "", value or "").strip()[:max_length]


def _positive_int(args, name):
    value = args.get(name, type=int)
    return value if value and 0 < value <= MAX_ID else None


@dataclass(frozen=True)
class ApplicationFilters:
    """The dashboard's filters, shared by the exports: offering, city, track, status, year."""

    offering: int | None = None
    city: int | None = None
    track: int | None = None
    status: str | None = None
    year: str | None = None

    @classmethod
    def from_args(cls, args):
        """Read the filters from query-string arguments; anything malformed is ignored."""
        status = args.get("status")
        year = args.get("year") or ""
        return cls(
            offering=_positive_int(args, "offering"),
            city=_positive_int(args, "city"),
            track=_positive_int(args, "track"),
            status=status if status in ApplicationStatus.values() else None,
            year=year if YEAR_RE.fullmatch(year) else None,
        )

    def as_args(self):
        """The filters that are set, as query-string arguments."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def offering_clauses(self):
        """WHERE clauses on Offering."""
        clauses = []
        if self.offering:
            clauses.append(Offering.id == self.offering)
        if self.city:
            clauses.append(Offering.city_id == self.city)
        if self.track:
            clauses.append(Offering.track_id == self.track)
        if self.year:
            clauses.append(Offering.academic_year == self.year)
        return clauses

    def offering_shape(self):
        """The names of the offering filters that are set: one statement per shape, values bound."""
        return tuple(name for name in _OFFERING_COLUMNS if getattr(self, name))

    def bound_values(self):
        """The values of the filters that are set, for the statements of ``bound_offering_clauses``."""
        values = {f"f_{name}": getattr(self, name) for name in (*_OFFERING_COLUMNS, "status")}
        return {key: value for key, value in values.items() if value is not None}

    def application_clauses(self):
        """WHERE clauses on Application joined with its Offering."""
        clauses = self.offering_clauses()
        if self.status:
            clauses.append(Application.status == self.status)
        return clauses


# The offering filters and the column each one compares.
_OFFERING_COLUMNS = {
    "offering": Offering.id,
    "city": Offering.city_id,
    "track": Offering.track_id,
    "year": Offering.academic_year,
}


def bound_offering_clauses(shape):
    """``ApplicationFilters.offering_clauses`` with bound parameters, for a statement built once.

    ``shape`` is ``ApplicationFilters.offering_shape()``; the values are ``bound_values()``.
    """
    return [_OFFERING_COLUMNS[name] == bindparam(f"f_{name}") for name in shape]


def filtered_applications(filters, *columns, join_offering=True):
    """SELECT ``columns`` FROM application JOIN offering, with the filters applied.

    ``join_offering=False`` leaves the offering out when no filter needs it, so that a
    query on application columns alone can be answered from an index of ``application``.
    """
    stmt = select(*columns).select_from(Application)
    if join_offering or filters.offering_clauses():
        stmt = stmt.join(Offering, Application.offering_id == Offering.id)
    return stmt.where(*filters.application_clauses())


def count_applications(filters):
    """How many applications match the filters."""
    return db.session.scalar(filtered_applications(filters, func.count(Application.id)))


def status_counts(filters):
    """Applications per (city, track, status): ``{(city_id, track_id): {status: n}}``, one query.

    Read from the counts the workflow keeps per offering and status (``application_count``),
    a few rows per offering whatever the number of applications; never stale.
    """
    rows = db.session.execute(
        _status_counts_statement(filters.offering_shape(), bool(filters.status)), filters.bound_values()
    ).all()
    table = {}
    for city_id, track_id, status, n in rows:
        table.setdefault((city_id, track_id), {})[status] = int(n)
    return table


@lru_cache(maxsize=64)
def _status_counts_statement(shape, by_status):
    """The statement of ``status_counts`` for a shape of filters, built once per process."""
    clauses = bound_offering_clauses(shape)
    if by_status:
        clauses.append(ApplicationCount.status == bindparam("f_status"))
    return (
        select(Offering.city_id, Offering.track_id, ApplicationCount.status, func.sum(ApplicationCount.n))
        .join(Offering, Offering.id == ApplicationCount.offering_id)
        .where(ApplicationCount.n > 0, *clauses)
        .group_by(Offering.city_id, Offering.track_id, ApplicationCount.status)
    )


@lru_cache(maxsize=32)
def _latest_days_statement(shape, max_days):
    """Arrivals per day, the latest ``max_days`` days that have any first, for a shape of filters."""
    stmt = select(ApplicationDayCount.day, func.sum(ApplicationDayCount.n))
    if shape:
        stmt = stmt.join(Offering, Offering.id == ApplicationDayCount.offering_id).where(
            *bound_offering_clauses(shape)
        )
    return stmt.group_by(ApplicationDayCount.day).order_by(ApplicationDayCount.day.desc()).limit(max_days)


def _as_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def applications_per_day(filters, offering=None, max_days=92):
    """``[(day, n)]`` for every day of the range, zeros included (days in UTC).

    The range is the offering's application window when one offering is selected, else
    the span of the matching applications; the last ``max_days`` days at most. Read from
    the arrivals per offering and day kept at submission (``application_day_count``: at
    most one row per offering and day); with a status filter, which those rows do not
    know, the applications of the range are grouped instead.
    """
    if offering is None and not filters.status:
        # The dashboard's case, one statement built once: the latest ``max_days`` days that
        # have arrivals hold every day of the range ending on the latest one, newest first.
        rows = db.session.execute(
            _latest_days_statement(filters.offering_shape(), max_days), filters.bound_values()
        ).all()
        if not rows:
            return []
        end = _as_date(rows[0][0])
        start = end - timedelta(days=max_days - 1)
        return _every_day(
            [(d, n) for d, n in rows if d is not None and _as_date(d) >= start], start, end, True
        )
    if filters.status:
        day = func.date(Application.submitted_at)

        def source(*columns, join_offering=False):
            return filtered_applications(filters, *columns, join_offering=join_offering)

        latest_column, day_column, n_column = func.max(Application.submitted_at), day, func.count()

        def in_range(start, end):
            return (
                Application.submitted_at >= datetime.combine(start, time()),
                Application.submitted_at < datetime.combine(end + timedelta(days=1), time()),
            )
    else:

        def source(*columns, join_offering=False):
            stmt = select(*columns).select_from(ApplicationDayCount)
            if filters.offering_clauses():
                stmt = stmt.join(Offering, Offering.id == ApplicationDayCount.offering_id)
            return stmt.where(*filters.offering_clauses())

        latest_column, day_column, n_column = (
            func.max(ApplicationDayCount.day),
            ApplicationDayCount.day,
            func.sum(ApplicationDayCount.n),
        )

        def in_range(start, end):
            return (ApplicationDayCount.day >= start, ApplicationDayCount.day <= end)

    if offering is not None:
        start, end = offering.opens_at.date(), min(offering.closes_at.date(), utcnow().date())
    else:
        latest = db.session.scalar(source(latest_column))
        if latest is None:
            return []
        end = _as_date(latest)
        start = end - timedelta(days=max_days - 1)
    if end < start:
        end = start
    start = max(start, end - timedelta(days=max_days - 1))
    rows = db.session.execute(
        source(day_column, n_column).where(*in_range(start, end)).group_by(day_column).order_by(day_column)
    ).all()
    return _every_day(rows, start, end, offering is None)


def _every_day(rows, start, end, from_first):
    """``[(day, n)]`` for every day from ``start`` (or the first with arrivals) to ``end``."""
    counts = {_as_date(d): int(n) for d, n in rows if d is not None and n}
    if from_first and counts:
        # The span of the matching applications, not the 92 days before the latest one.
        start = min(counts)
    return [
        (start + timedelta(days=i), counts.get(start + timedelta(days=i), 0))
        for i in range((end - start).days + 1)
    ]


def dashboard_offerings():
    """Every offering as plain values, latest year first, with its applications; one statement.

    Rows ``(id, track_id, city_id, academic_year, status, seats, seats_held, opens_at,
    closes_at, applications)``: the dashboard's filter choices, its years and its table
    of seats all come from them. The applications are the counts the workflow keeps
    (``application_count``), summed over the statuses: a few rows per offering.
    """
    return db.session.execute(_dashboard_offerings_statement()).all()


@lru_cache(maxsize=1)
def _dashboard_offerings_statement():
    """The statement of ``dashboard_offerings``, built once per process."""
    applications = (
        select(func.sum(ApplicationCount.n))
        .where(ApplicationCount.offering_id == Offering.id)
        .correlate(Offering)
        .scalar_subquery()
    )
    return (
        select(
            Offering.id,
            Offering.track_id,
            Offering.city_id,
            Offering.academic_year,
            Offering.status,
            Offering.seats,
            Offering.seats_held,
            Offering.opens_at,
            Offering.closes_at,
            applications.label("applications"),
        )
        .join(Track, Track.id == Offering.track_id)
        .join(City, City.id == Offering.city_id)
        .order_by(Offering.academic_year.desc(), Track.code, City.name_fr)
    )


def outbox_counts(statuses=None):
    """Emails per outbox status (only ``statuses`` when given), one query.

    The dashboard asks for the unsent ones only: a range of the status index, where
    counting the sent ones would read every email ever sent.
    """
    statuses = None if statuses is None else tuple(OutboxStatus(s).value for s in statuses)
    return {status: n for status, n in db.session.execute(_outbox_counts_statement(statuses))}


@lru_cache(maxsize=8)
def _outbox_counts_statement(statuses):
    """The statement of ``outbox_counts`` for a tuple of statuses (or None), built once per process."""
    stmt = select(OutboxEmail.status, func.count(OutboxEmail.id)).group_by(OutboxEmail.status)
    if statuses is not None:
        stmt = stmt.where(OutboxEmail.status.in_(statuses))
    return stmt


def demand_ranking_ids(track_id=None):
    """Cities without an open offering of a track, ranked by demand for it; one query.

    Demand is the interests registered for the track in the city, then the applicants
    living there. Returns plain rows ``(track_id, city_id, interests, residents, planned)``,
    ``planned`` being the id of this year's offering there that is not open, if any: what
    the dashboard keeps in its cache (ids and numbers, the same in every language).
    """
    now = utcnow()
    params = {"now": now, "year": academic_year(now)}
    if track_id:
        params["track_id"] = track_id
    return [tuple(row) for row in db.session.execute(_demand_statement(bool(track_id)), params)]


# The demand ranking lists this many (track, city) pairs.
DEMAND_ROWS = 50


@lru_cache(maxsize=2)
def _demand_statement(by_track):
    """The demand ranking's statement, built once per process (its values are bound parameters).

    Building it cost more than running it: a cross join, two subqueries and a dozen clauses.
    """
    # The counts kept by every write that changes them (portal/demand/counts.py): the
    # interests of active accounts per (track, city), the active applicants per city.
    n_interests = func.coalesce(InterestCount.n, 0)
    n_residents = func.coalesce(ResidentCount.n, 0)
    offered = exists().where(
        Offering.track_id == Track.id, Offering.city_id == City.id, open_not_over(bindparam("now"))
    )
    # An offering already planned there this year (draft or closed): edit it, don't create one.
    planned = (
        select(Offering.id)
        .where(
            Offering.track_id == Track.id,
            Offering.city_id == City.id,
            Offering.academic_year == bindparam("year"),
        )
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(
            Track.id,
            City.id,
            n_interests.label("interests"),
            n_residents.label("residents"),
            planned.label("planned"),
        )
        .select_from(Track)
        .join(City, true())
        .outerjoin(InterestCount, (InterestCount.track_id == Track.id) & (InterestCount.city_id == City.id))
        .outerjoin(ResidentCount, ResidentCount.city_id == City.id)
        .where(or_(n_interests > 0, n_residents > 0), ~offered)
        .order_by(n_interests.desc(), n_residents.desc(), Track.code, City.name_fr)
        .limit(DEMAND_ROWS)
    )
    if by_track:
        stmt = stmt.where(Track.id == bindparam("track_id"))
    return stmt


def dashboard_cities(language):
    """Every city as ``(id, name, region name)`` in ``language`` (French as fallback), by French name.

    Plain values, one query: the dashboard names cities in its filters and three tables.
    """
    rows = db.session.execute(_dashboard_cities_statement(language))
    return [(i, name or name_fr, region or region_fr) for i, name_fr, name, region_fr, region in rows]


@lru_cache(maxsize=8)
def _dashboard_cities_statement(language):
    """The statement of ``dashboard_cities`` in ``language``, built once per process."""
    return (
        select(
            City.id,
            City.name_fr,
            getattr(City, f"name_{language}", City.name_fr),
            Region.name_fr,
            getattr(Region, f"name_{language}", Region.name_fr),
        )
        .join(Region, Region.id == City.region_id)
        .order_by(City.name_fr)
    )


def dashboard_tracks(language):
    """Every track as ``(id, code, title)`` in ``language`` (French as fallback), by code; one query."""
    rows = db.session.execute(_dashboard_tracks_statement(language))
    return [(i, code, title or title_fr) for i, code, title_fr, title in rows]


@lru_cache(maxsize=8)
def _dashboard_tracks_statement(language):
    """The statement of ``dashboard_tracks`` in ``language``, built once per process."""
    title = getattr(Track, f"title_{language}", Track.title_fr)
    return select(Track.id, Track.code, Track.title_fr, title).order_by(Track.code)


def all_cities():
    """Every city, region loaded, by French name."""
    return db.session.scalars(select(City).options(joinedload(City.region)).order_by(City.name_fr)).all()


def all_tracks():
    """Every track, by code."""
    return db.session.scalars(select(Track).order_by(Track.code)).all()


def all_regions():
    """Every region, by French name."""
    return db.session.scalars(select(Region).order_by(Region.name_fr)).all()


def academic_years():
    """The academic years that have offerings, latest first."""
    return db.session.scalars(
        select(Offering.academic_year).distinct().order_by(Offering.academic_year.desc())
    ).all()


def reviewer_choices():
    """(id, email) of active reviewers, for the offering form."""
    rows = db.session.execute(
        select(User.id, User.email)
        .where(User.role == Role.REVIEWER, User.active.is_(True))
        .order_by(User.email)
    ).all()
    return [(i, email) for i, email in rows]


def assignment_conflicts(offering_id):
    """Reviewers with a conflict of interest in an offering: {reviewer id: {"own", "association"}}.

    "own": the reviewer has an active application in the offering; "association": a member of
    an association the reviewer is tied to does. Two queries, whatever the number of reviewers.
    """
    active = [s.value for s in ApplicationStatus.ACTIVE]
    reviewers = select(User.id).where(User.role == Role.REVIEWER, User.active.is_(True))
    own = db.session.scalars(
        select(Application.applicant_id).where(
            Application.offering_id == offering_id,
            Application.status.in_(active),
            Application.applicant_id.in_(reviewers),
        )
    ).all()
    ties = permissions.association_ties().subquery()
    tied = db.session.scalars(
        select(ties.c.user_id)
        .distinct()
        .join(ApplicantProfile, ApplicantProfile.association_id == ties.c.association_id)
        .join(Application, Application.applicant_id == ApplicantProfile.user_id)
        .where(
            Application.offering_id == offering_id,
            Application.status.in_(active),
            Application.applicant_id != ties.c.user_id,
            ties.c.user_id.in_(reviewers),
        )
    ).all()
    conflicts = {}
    for reviewer_id in own:
        conflicts.setdefault(reviewer_id, set()).add("own")
    for reviewer_id in tied:
        conflicts.setdefault(reviewer_id, set()).add("association")
    return conflicts


# The associations an offering's page lists by seats held (the others are counted).
TOP_ASSOCIATIONS = 10


def association_seat_holders(offering_id, limit=TOP_ASSOCIATIONS):
    """(the associations holding most seats in an offering as (id, name, held), how many hold any).

    Two queries, whatever the number of associations.
    """
    holding = (OfferingAssociationSeat.offering_id == offering_id, OfferingAssociationSeat.held > 0)
    rows = db.session.execute(
        select(Association.id, Association.name_fr, OfferingAssociationSeat.held)
        .join(Association, Association.id == OfferingAssociationSeat.association_id)
        .where(*holding)
        .order_by(OfferingAssociationSeat.held.desc(), Association.name_fr, Association.id)
        .limit(limit)
    ).all()
    total = db.session.scalar(select(func.count()).select_from(OfferingAssociationSeat).where(*holding))
    return rows, total


def offerings_page(args, page, per_page):
    """Offerings filtered by city, track, year and status, paginated, newest year first."""
    stmt = (
        select(Offering)
        .join(Offering.track)
        .join(Offering.city)
        .options(joinedload(Offering.track), joinedload(Offering.city))
        .order_by(Offering.academic_year.desc(), Track.code, City.name_fr, Offering.id)
    )
    filters = {}
    city = _positive_int(args, "city")
    track = _positive_int(args, "track")
    year = args.get("year") or ""
    status = args.get("status")
    if city:
        stmt, filters["city"] = stmt.where(Offering.city_id == city), city
    if track:
        stmt, filters["track"] = stmt.where(Offering.track_id == track), track
    if YEAR_RE.fullmatch(year):
        stmt, filters["year"] = stmt.where(Offering.academic_year == year), year
    if status in OfferingStatus.values():
        stmt, filters["status"] = stmt.where(Offering.status == status), status
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False), filters


def applications_count_for(offering_ids):
    """``{offering_id: number of applications}`` for the given offerings, one query."""
    if not offering_ids:
        return {}
    return dict(
        db.session.execute(
            select(Application.offering_id, func.count(Application.id))
            .where(Application.offering_id.in_(offering_ids))
            .group_by(Application.offering_id)
        ).all()
    )


def _like(text):
    """A LIKE pattern matching ``text`` anywhere, with the wildcards in it escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def users_page(q, role, page, per_page):
    """Users matching a search on email or name and a role, paginated, newest first."""
    stmt = (
        select(User)
        .outerjoin(ApplicantProfile, ApplicantProfile.user_id == User.id)
        .options(joinedload(User.profile))
        .order_by(User.created_at.desc(), User.id.desc())
    )
    if q:
        pattern = _like(q.lower())
        name = func.lower(ApplicantProfile.first_name + " " + ApplicantProfile.last_name)
        stmt = stmt.where(
            or_(
                User.email.like(pattern, escape="\\"),
                func.lower(ApplicantProfile.first_name).like(pattern, escape="\\"),
                func.lower(ApplicantProfile.last_name).like(pattern, escape="\\"),
                name.like(pattern, escape="\\"),
            )
        )
    if role:
        stmt = stmt.where(User.role == role)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def associations_page(q, state, page, per_page):
    """Register entries matching a search on name, number or city and a state, paginated by name.

    Each entry comes with its city and its count of members (``member_count``), in one query.
    """
    members = (
        select(func.count(ApplicantProfile.id))
        .where(ApplicantProfile.association_id == Association.id)
        .correlate(Association)
        .scalar_subquery()
    )
    stmt = (
        select(Association)
        .outerjoin(City, City.id == Association.city_id)
        .options(contains_eager(Association.city), with_expression(Association.member_count, members))
        .order_by(Association.name_fr, Association.id)
    )
    if q:
        stmt = stmt.where(association_queries.matching(q))
    if state:
        stmt = stmt.where(Association.state == state)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def outbox_page(status, page, per_page):
    """Emails in one outbox state (pending includes those being sent), newest first."""
    statuses = OutboxStatus.QUEUED if status == OutboxStatus.PENDING else (status,)
    stmt = select(OutboxEmail).where(OutboxEmail.status.in_(statuses)).order_by(OutboxEmail.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def _local_day_start(day):
    """The UTC instant at which ``day`` starts in the portal's time zone."""
    return to_utc(datetime.combine(day, time()))


def _parse_day(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class AuditFilters:
    """Filters of the audit log: action, actor (email), object type, date range."""

    action: str | None = None
    actor: str | None = None
    object_type: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_args(cls, args):
        """Read the filters from query-string arguments; malformed dates are ignored."""
        return cls(
            action=clean_text(args.get("action"), 64) or None,
            actor=clean_text(args.get("actor"), 254) or None,
            object_type=clean_text(args.get("object_type"), 32) or None,
            date_from=_parse_day(args.get("date_from")),
            date_to=_parse_day(args.get("date_to")),
        )

    def as_args(self):
        """The filters that are set, as query-string arguments."""
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items() if v}

    def clauses(self):
        """WHERE clauses on AuditEvent (and its actor)."""
        clauses: list[ColumnElement] = []
        if self.action:
            clauses.append(AuditEvent.action == self.action)
        if self.object_type:
            clauses.append(AuditEvent.object_type == self.object_type)
        if self.actor:
            clauses.append(
                AuditEvent.actor_id.in_(
                    select(User.id).where(User.email.like(_like(self.actor.lower()), escape="\\"))
                )
            )
        if self.date_from:
            clauses.append(AuditEvent.created_at >= _local_day_start(self.date_from))
        if self.date_to:
            clauses.append(AuditEvent.created_at < _local_day_start(self.date_to + timedelta(days=1)))
        return clauses


def audit_page(filters, page, per_page):
    """Audit events matching the filters, newest first, actor loaded, paginated."""
    stmt = (
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .where(*filters.clauses())
        .order_by(AuditEvent.id.desc())
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def audit_vocabulary():
    """The actions and object types present in the log, for the filter selects."""
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    types = db.session.scalars(
        select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)
    ).all()
    return actions, types
