"""Read-side of the review area: the queue, its counters and the application page.

Every query is scoped to the offerings the user may examine (all of them for admins),
uses the indexes of ``Application`` (offering, status, submission date / mean score)
and loads what a page shows in a fixed number of statements, whatever the amount of
data (no N+1).
"""

from dataclasses import dataclass, field
from functools import cache

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, bindparam, func, null, or_, select, union_all
from sqlalchemy.orm import contains_eager, defer, joinedload, selectinload

from portal import permissions
from portal.applications.models import BEST_CANDIDATE_FIRST, Application, ApplicationCount, StatusChange
from portal.associations.models import Association, Membership
from portal.auth.models import ApplicantProfile, User
from portal.catalog.models import City, Offering, OfferingAssociationSeat, Track, offering_reviewers
from portal.database import plain_rows
from portal.extensions import db
from portal.i18n import current_language
from portal.review.models import Review
from portal.vocabulary import ApplicationStatus

SORTS = ("submitted_asc", "submitted_desc", "score_desc", "score_asc")
# Up to this many offerings, the unfiltered queue merges one index scan per offering (a
# UNION ALL, well below SQLite's 500 terms); beyond, one sorted scan of them all.
PER_OFFERING_MERGE_LIMIT = 50


@dataclass
class QueueFilters:
    """What the reviewer asked the queue for (all optional)."""

    offering_id: int | None = None
    status: str | None = None
    q: str | None = None
    cin: str | None = None
    association_id: int | None = None
    sort: str = "submitted_asc"
    page: int = 1


@dataclass
class Queue:
    """A page of the queue plus the counters shown above it."""

    page: object
    offerings: list = field(default_factory=list)
    status_counts: dict = field(default_factory=dict)
    waitlist_counts: dict = field(default_factory=dict)


def scoped_offering_ids(user):
    """A subquery of the offering ids ``user`` examines, or None for "every offering"."""
    if permissions.is_admin(user):
        return None
    return select(offering_reviewers.c.offering_id).where(offering_reviewers.c.user_id == user.id)


def _scope(stmt, user, column):
    """Restrict ``stmt`` to the offerings of ``user`` through ``column``."""
    ids = scoped_offering_ids(user)
    return stmt if ids is None else stmt.where(column.in_(ids))


def _examined(stmt, user, offering_ids=None):
    """Restrict applications to those ``user`` examines: their offerings', never their own.

    Nor any of a member of an association ``user`` is tied to (``permissions.association_ties``):
    one NOT IN clause, whatever the number of rows, and none for the many staff tied to no
    association. ``offering_ids``, the user's offerings when already loaded, are bound as
    parameters instead of a subquery (a smaller statement to build and to look up in
    SQLAlchemy's cache on every request).
    """
    if offering_ids is not None and not permissions.is_admin(user):
        stmt = stmt.where(Application.offering_id.in_(offering_ids))
    else:
        stmt = _scope(stmt, user, Application.offering_id)
    stmt = stmt.where(Application.applicant_id != user.id)
    tied = permissions.tied_association_ids_of(user)
    if tied:
        conflicted = select(ApplicantProfile.user_id).where(ApplicantProfile.association_id.in_(sorted(tied)))
        stmt = stmt.where(Application.applicant_id.not_in(conflicted))
    return stmt


@dataclass(frozen=True, slots=True)
class OfferingLine:
    """What the queue shows of one of the user's offerings (its seats, filters and rows)."""

    id: int
    code: str
    title: str
    city: str
    academic_year: str
    seats: int
    seats_held: int

    @property
    def seats_left(self):
        """Seats not yet held by an accepted or confirmed applicant."""
        return max(self.seats - self.seats_held, 0)


def offerings_and_counter_rows(user, tied):
    """The offerings ``user`` examines and the counter rows of their queue, in one statement.

    Returns the offerings, newest year first, as ``OfferingLine`` rows (plain columns, the
    track's title and the city's name in the language being rendered: no ORM objects for
    a list read on every page of the queue), and the (offering, status, n) rows that
    ``counters`` adds up. ``tied`` are the associations whose members' applications
    ``user`` may not examine. One round trip instead of two: on PostgreSQL the second
    cost 0.27 ms of CPU per page (bench/README.md).
    """
    language = current_language()
    if language not in current_app.config["LANGUAGES"]:
        language = "fr"
    scoped = not permissions.is_admin(user)
    offerings, counter_rows = [], []
    for id_, code, title_fr, title, city_fr, city, year, seats, held, status, n in _read(
        _lines_and_counters_statement(language, scoped, bool(tied)), {"me": user.id, "tied": tied}
    ).all():
        if status is None:
            offerings.append(OfferingLine(id_, code, title or title_fr, city or city_fr, year, seats, held))
        else:
            counter_rows.append((id_, status, n))
    # Sorted here: a compound statement sorts its whole result, and these are a few rows.
    offerings.sort(key=lambda o: o.id)
    offerings.sort(key=lambda o: o.academic_year, reverse=True)
    return offerings, counter_rows


def counters(counter_rows, offering_id=None):
    """Applications per status (of ``offering_id``, or all) and wait-listed ones per offering."""
    per_status, waitlisted = {}, {}
    for offering, status, n in counter_rows:
        if not offering_id or offering == offering_id:
            per_status[status] = per_status.get(status, 0) + n
        if status == ApplicationStatus.WAITLISTED:
            waitlisted[offering] = waitlisted.get(offering, 0) + n
    return {s: n for s, n in per_status.items() if n}, {o: n for o, n in waitlisted.items() if n}


# The queue's statements are built once per process and shape, with bind parameters for
# what changes between requests: SQLAlchemy then neither builds them nor computes their
# cache key again (they are memoized on the statement), which cost more than running them.
# They read plain columns, so they run on the session's connection: the ORM's execution
# layer (autoflush, ORM result processing) has nothing to do for them.


def _read(stmt, params):
    """Run the read-only statement ``stmt`` on the session's connection (its transaction)."""
    return db.session.connection().execute(stmt, params)


def _mine():
    """SQL: the ids of the offerings the reviewer ``:me`` is assigned to."""
    return select(offering_reviewers.c.offering_id).where(offering_reviewers.c.user_id == bindparam("me"))


@cache
def _lines_and_counters_statement(language, scoped, tied):
    """The offerings' lines in ``language`` (the reviewer ``:me``'s when ``scoped``), then the counters.

    A line has a NULL status; a counter row is (offering, eight NULLs, status, n), and the
    sum of ``n`` per offering and status is what the user examines: the counts kept by the
    workflow (a few rows per offering, whatever the number of applications), minus the
    applications the user may not examine, their own and, when ``tied``, those of the
    members of the associations ``:tied`` (an index lookup by applicant).
    """
    lines = (
        select(
            Offering.id,
            Track.code,
            Track.title_fr,
            getattr(Track, f"title_{language}"),
            City.name_fr,
            getattr(City, f"name_{language}"),
            Offering.academic_year,
            Offering.seats,
            Offering.seats_held,
            null(),
            null(),
        )
        .join(Track, Track.id == Offering.track_id)
        .join(City, City.id == Offering.city_id)
    )
    blanks = [null()] * 8
    kept = select(ApplicationCount.offering_id, *blanks, ApplicationCount.status, ApplicationCount.n)
    excluded = Application.applicant_id == bindparam("me")
    if tied:
        excluded = or_(excluded, Application.applicant_id.in_(_conflicted_by_params()))
    withheld = (
        select(Application.offering_id, *blanks, Application.status, -func.count())
        .where(excluded)
        .group_by(Application.offering_id, Application.status)
    )
    if scoped:
        lines = lines.where(Offering.id.in_(_mine()))
        kept = kept.where(ApplicationCount.offering_id.in_(_mine()))
        withheld = withheld.where(Application.offering_id.in_(_mine()))
    return union_all(lines, kept, withheld)


def _examined_by_params(stmt, scoped, tied):
    """``_examined`` with bind parameters: ``:offerings`` when ``scoped``, ``:me``, ``:tied`` when ``tied``."""
    if scoped:
        stmt = stmt.where(Application.offering_id.in_(bindparam("offerings", expanding=True)))
    stmt = stmt.where(Application.applicant_id != bindparam("me"))
    if tied:
        stmt = stmt.where(Application.applicant_id.not_in(_conflicted_by_params()))
    return stmt


def _conflicted_by_params():
    """SQL: the applicants of the associations ``:tied``."""
    return select(ApplicantProfile.user_id).where(
        ApplicantProfile.association_id.in_(bindparam("tied", expanding=True))
    )


def _search(stmt, filters):
    """Apply the name/reference search and the exact CIN match."""
    if filters.cin:
        # CINs are stored upper-case; an exact match only, never a partial one.
        stmt = stmt.where(ApplicantProfile.cin == filters.cin.strip().upper())
    q = (filters.q or "").strip()
    if q:
        conditions = [Application.reference == q.upper()]
        words = [w for w in q.lower().split() if w][:5]
        if words:
            name_match = [
                or_(
                    func.lower(ApplicantProfile.first_name).contains(w, autoescape=True),
                    func.lower(ApplicantProfile.last_name).contains(w, autoescape=True),
                    func.lower(ApplicantProfile.first_name_ar).contains(w, autoescape=True),
                    func.lower(ApplicantProfile.last_name_ar).contains(w, autoescape=True),
                )
                for w in words
            ]
            conditions.append(and_(*name_match))
        stmt = stmt.where(or_(*conditions))
    return stmt


def _order(stmt, sort):
    """ORDER BY for a sort key; the id makes every order total (stable pages)."""
    if sort == "submitted_desc":
        return stmt.order_by(Application.submitted_at.desc(), Application.id.desc())
    if sort == "score_desc":
        return stmt.order_by(*BEST_CANDIDATE_FIRST)
    if sort == "score_asc":
        return stmt.order_by(
            Application.mean_score.asc().nulls_last(), Application.submitted_at, Application.id
        )
    return stmt.order_by(Application.submitted_at, Application.id)


class _PageOfIds(Pagination):
    """Offset pagination over application ids, reading only that page's rows.

    The ids come off the (offering, status, sort) indexes without touching the rows, so
    skipping to the last page costs about what the first does; only the 50 rows of the
    page are then read, as plain tuples of the columns the table shows (a "deferred
    join", in the same statement). The total comes from the status counters when no
    search narrows the page (``total``), instead of counting every matching application
    a second time.

    ``rows`` reads the page (``:limit`` rows from ``:offset``) of ``ids``; ``params``
    are their other bind parameters.
    """

    def _query_items(self):
        params = dict(self._query_args["params"], limit=self.per_page, offset=self._query_offset)
        return plain_rows(_read(self._query_args["rows"], params))

    def _query_count(self):
        if self._query_args.get("total") is not None:
            return self._query_args["total"]
        ids = self._query_args["ids"].order_by(None).subquery()
        return db.session.scalar(select(func.count()).select_from(ids), self._query_args["params"])


# What a row of the queue shows, and nothing else: no ORM object per row.
QUEUE_COLUMNS = (
    Application.id,
    Application.reference,
    Application.applicant_id,
    Application.offering_id,
    Application.submitted_at,
    Application.mean_score,
    Application.status,
    User.email,
    ApplicantProfile.first_name,
    ApplicantProfile.last_name,
    ApplicantProfile.association_id,
    Association.name_fr.label("association_name"),
    # The seats the applicant's association holds in the offering, and the endorsement of
    # the applicant's claim to it: only a claim for the association the profile names now.
    OfferingAssociationSeat.held.label("association_seats_held"),
    Membership.state.label("endorsement"),
)


def _rows_of(page_ids, sort):
    """SELECT of the queue's columns for the applications of ``page_ids``, in ``sort`` order."""
    page = page_ids.subquery()
    return _order(
        select(*QUEUE_COLUMNS)
        .join(page, page.c.id == Application.id)
        .join(User, User.id == Application.applicant_id)
        .outerjoin(ApplicantProfile, ApplicantProfile.user_id == User.id)
        .outerjoin(Association, Association.id == ApplicantProfile.association_id)
        .outerjoin(
            OfferingAssociationSeat,
            and_(
                OfferingAssociationSeat.offering_id == Application.offering_id,
                OfferingAssociationSeat.association_id == ApplicantProfile.association_id,
            ),
        )
        .outerjoin(
            Membership,
            and_(
                Membership.user_id == Application.applicant_id,
                Membership.association_id == ApplicantProfile.association_id,
            ),
        ),
        sort,
    )


def _paged(stmt):
    """``stmt`` limited to the page ``:limit`` rows from ``:offset``."""
    return stmt.limit(bindparam("limit")).offset(bindparam("offset"))


@cache
def _newest_or_oldest_rows(count, descending, scoped, tied):
    """The rows of a page by submission date over the offerings ``:o0`` … ``:o{count-1}``."""
    sort = "submitted_desc" if descending else "submitted_asc"
    return _rows_of(_newest_or_oldest_per_offering(count, descending, scoped, tied), sort)


def _newest_or_oldest_per_offering(count, descending, scoped, tied):
    """The ids of a page by submission date over the offerings ``:o0`` … ``:o{count-1}``.

    The unfiltered page of a reviewer spans all their offerings: rather than sorting every
    application of every offering, each offering gives its first ``:enough`` ids off the
    (offering, submitted_at, id) index, and only those are merged and sorted — a page
    costs the same at 1,000 and at 100,000 applications.
    """
    order = (
        (Application.submitted_at.desc(), Application.id.desc())
        if descending
        else (Application.submitted_at, Application.id)
    )
    parts = [
        _examined_by_params(
            select(Application.id, Application.submitted_at).where(
                Application.offering_id == bindparam(f"o{i}")
            ),
            # Each part is one offering of the user's: no need to repeat their list.
            False,
            tied,
        )
        .order_by(*order)
        .limit(bindparam("enough"))
        .subquery()
        .select()
        for i in range(count)
    ]
    merged = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    return _paged(
        select(merged.c.id).order_by(
            *(
                (merged.c.submitted_at.desc(), merged.c.id.desc())
                if descending
                else (merged.c.submitted_at, merged.c.id)
            )
        )
    )


@cache
def _filtered_ids(scoped, tied, offering, status, association, sort):
    """The ids of the queue's applications matching the filters given (bind parameters), sorted.

    With one offering (``queue`` has checked that it is one of the user's), the list of the
    user's offerings is left out: it would only repeat it, and on SQLite, which has no
    statistics, the two conditions on the offering led the planner to sort every matching
    row off another index (3.6 to 5.8 ms for the page's ids at 100,000 instead of 0.1).
    """
    ids = _examined_by_params(select(Application.id), scoped and not offering, tied)
    if offering:
        ids = ids.where(Application.offering_id == bindparam("offering"))
    if status:
        ids = ids.where(Application.status == bindparam("status"))
    if association:
        members = select(ApplicantProfile.user_id).where(
            ApplicantProfile.association_id == bindparam("association")
        )
        ids = ids.where(Application.applicant_id.in_(members))
    return _order(ids, sort)


@cache
def _filtered_rows(*shape):
    """The rows of a page of ``_filtered_ids(*shape)``."""
    return _rows_of(_paged(_filtered_ids(*shape)), shape[-1])


def queue(user, filters):
    """The queue page for ``user`` with its counters; a constant number of queries.

    An offering filter outside the user's offerings is ignored (it would match nothing).
    """
    tied = sorted(permissions.tied_association_ids_of(user))
    offerings, counter_rows = offerings_and_counter_rows(user, tied)
    if filters.offering_id not in {o.id for o in offerings}:
        filters.offering_id = None
    counts, waitlisted = counters(counter_rows, filters.offering_id)
    sort = filters.sort if filters.sort in SORTS else SORTS[0]
    searching = bool(filters.cin or (filters.q or "").strip())
    per_page = current_app.config["PAGE_SIZE"]
    page_number = max(filters.page, 1)
    offering_ids = [o.id for o in offerings]
    scoped = not permissions.is_admin(user)
    params = {"me": user.id, "offerings": offering_ids, "tied": tied}
    total = None
    if not searching and not filters.association_id:
        # The counters above the list already counted what the list holds.
        total = counts.get(filters.status, 0) if filters.status else sum(counts.values())
    if (
        not searching
        and not filters.association_id
        and not filters.status
        and not filters.offering_id
        and sort in ("submitted_asc", "submitted_desc")
        and 0 < len(offerings) <= PER_OFFERING_MERGE_LIMIT
    ):
        ids = None
        rows = _newest_or_oldest_rows(len(offering_ids), sort == "submitted_desc", scoped, bool(tied))
        params.update({f"o{i}": offering_id for i, offering_id in enumerate(offering_ids)})
        params["enough"] = page_number * per_page
    else:
        shape = (
            scoped,
            bool(tied),
            bool(filters.offering_id),
            bool(filters.status),
            bool(filters.association_id),
        )
        params.update(offering=filters.offering_id, status=filters.status, association=filters.association_id)
        ids = _filtered_ids(*shape, sort)
        if searching:
            # Only a search needs the applicant's names and CIN.
            ids = _search(ids.join(Application.applicant).outerjoin(User.profile), filters)
            rows = _rows_of(_paged(ids), sort)
        else:
            rows = _filtered_rows(*shape, sort)
    page = _PageOfIds(
        page=page_number,
        per_page=per_page,
        max_per_page=per_page,
        error_out=False,
        ids=ids,
        rows=rows,
        params=params,
        total=total,
    )
    return Queue(
        page=page,
        offerings=offerings,
        status_counts=counts,
        waitlist_counts=waitlisted,
    )


def association_seats(pairs):
    """Seats held per (offering id, association id) for these pairs; one query."""
    pairs = {(o, a) for o, a in pairs if a is not None}
    if not pairs:
        return {}
    found = _read(
        _association_seats_statement(),
        {"offerings": sorted({o for o, _ in pairs}), "associations": sorted({a for _, a in pairs})},
    ).all()
    return {(o, a): held for o, a, held in found if (o, a) in pairs}


@cache
def _association_seats_statement():
    """SELECT of the seats held by the associations ``:associations`` in the offerings ``:offerings``."""
    return select(
        OfferingAssociationSeat.offering_id,
        OfferingAssociationSeat.association_id,
        OfferingAssociationSeat.held,
    ).where(
        OfferingAssociationSeat.offering_id.in_(bindparam("offerings", expanding=True)),
        OfferingAssociationSeat.association_id.in_(bindparam("associations", expanding=True)),
    )


def application_by_reference(reference):
    """The application with what its review page shows, or None."""
    return db.session.scalar(
        select(Application)
        .where(Application.reference == reference)
        .options(
            joinedload(Application.applicant)
            .joinedload(User.profile)
            .options(joinedload(ApplicantProfile.city), joinedload(ApplicantProfile.association_city)),
            joinedload(Application.offering).options(
                joinedload(Offering.track), joinedload(Offering.city), selectinload(Offering.reviewers)
            ),
            selectinload(Application.documents),
            selectinload(Application.history).joinedload(StatusChange.actor),
        )
    )


def reviews_of(application):
    """Every review of ``application`` with its reviewer, oldest first."""
    return db.session.scalars(
        select(Review)
        .where(Review.application_id == application.id)
        .options(joinedload(Review.reviewer))
        .order_by(Review.created_at, Review.id)
    ).all()


def applications_in_scope(user, references):
    """The applications among ``references`` that ``user`` may examine (others are absent)."""
    if not references:
        return []
    stmt = (
        select(Application)
        .where(Application.reference.in_(references))
        .options(joinedload(Application.offering).selectinload(Offering.reviewers))
    )
    return db.session.scalars(_examined(stmt, user)).unique().all()


# The cohort of an offering: its confirmed participants and those whose outcome is recorded.
COHORT_STATUSES = (ApplicationStatus.CONFIRMED, *ApplicationStatus.OUTCOMES)


@dataclass
class Cohort:
    """A page of an offering's cohort and the count of participants per status."""

    page: object
    status_counts: dict = field(default_factory=dict)


def offering_for_cohort(offering_id):
    """The offering with its track, city and reviewers (for the permission), or None."""
    return db.session.scalar(
        select(Offering)
        .where(Offering.id == offering_id)
        .options(
            joinedload(Offering.track),
            joinedload(Offering.city),
            selectinload(Offering.reviewers).load_only(User.id),
        )
    )


def cohort(user, offering, page):
    """A page of ``offering``'s cohort, by name, with its counts; a constant number of queries.

    The participants come with their profile and association in the page's query; their
    offering is the one given (already in the session), never loaded again per row.
    """
    in_cohort = _examined(
        select(Application).where(
            Application.offering_id == offering.id,
            Application.status.in_([s.value for s in COHORT_STATUSES]),
        ),
        user,
    )
    rows = (
        in_cohort.join(Application.applicant)
        .outerjoin(User.profile)
        .options(
            contains_eager(Application.applicant)
            .contains_eager(User.profile)
            .joinedload(ApplicantProfile.association),
            defer(Application.motivation),
            defer(Application.expected_benefit),
        )
        .order_by(ApplicantProfile.last_name, ApplicantProfile.first_name, Application.id)
    )
    per_page = current_app.config["PAGE_SIZE"]
    result = db.paginate(rows, page=max(page, 1), per_page=per_page, max_per_page=per_page, error_out=False)
    counts = db.session.execute(
        _examined(
            select(Application.status, func.count())
            .where(
                Application.offering_id == offering.id,
                Application.status.in_([s.value for s in COHORT_STATUSES]),
            )
            .group_by(Application.status),
            user,
        )
    ).all()
    return Cohort(page=result, status_counts=dict(counts))


def cohort_applications(user, offering, references):
    """The applications of ``offering`` among ``references`` that ``user`` examines (others absent)."""
    if not references:
        return []
    stmt = select(Application).where(
        Application.offering_id == offering.id, Application.reference.in_(references)
    )
    return db.session.scalars(_examined(stmt, user)).all()
