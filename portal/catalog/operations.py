"""Catalogue operations: seeding, academic years, and the writes of cities, tracks and offerings.

Each write checks its rules, flushes and writes its audit events; the request commits.
"""

import re
import unicodedata
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select, update

from portal.audit import record
from portal.auth.models import User
from portal.catalog.models import City, Offering, Region, Track
from portal.catalog.seed_data import OFFERINGS, REGIONS, TRACKS
from portal.catalog.workflow import transition_offering
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.refusals import AdminError
from portal.timeutil import end_of_local_day, local_day, start_of_local_day, utcnow
from portal.vocabulary import Domain, EducationLevel, OfferingStatus, Role

# Marks a parameter not given (None is a value: no limit).
FROM_SETTINGS = object()


def academic_year(day=None):
    """The academic year containing ``day`` (it starts in September): ``2026-2027``."""
    day = day or utcnow()
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


def seed_catalogue(now=None):
    """Create the regions, cities, tracks and first offerings that are missing; flush.

    Existing rows are left as they are (administrators may have edited them), so running
    it twice changes nothing. Returns the number of rows created.
    """
    now = now or utcnow()
    created = 0
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    cities = {c.slug: c for c in db.session.scalars(select(City))}
    for code, fr, ar, en, region_cities in REGIONS:
        region = regions.get(code)
        if region is None:
            region = regions[code] = Region(code=code, name_fr=fr, name_ar=ar, name_en=en)
            db.session.add(region)
            created += 1
        for slug, cfr, car, cen in region_cities:
            if slug not in cities:
                cities[slug] = City(slug=slug, region=region, name_fr=cfr, name_ar=car, name_en=cen)
                db.session.add(cities[slug])
                created += 1
    tracks = {t.code: t for t in db.session.scalars(select(Track))}
    for data in TRACKS:
        if data["code"] not in tracks:
            tracks[data["code"]] = Track(**data)
            db.session.add(tracks[data["code"]])
            created += 1
    db.session.flush()
    year = academic_year(now)
    existing = {
        (o.track_id, o.city_id)
        for o in db.session.scalars(select(Offering).where(Offering.academic_year == year))
    }
    # Open since yesterday; the last day to apply is in two months (the whole of that
    # day, in Moroccan time, as administrators set it). Through the operation an
    # administrator uses, so the seed obeys the same rules and leaves the same audit trail.
    first_day = local_day(now) - timedelta(days=1)
    for code, slug in OFFERINGS:
        track, city = tracks[code], cities[slug]
        if (track.id, city.id) in existing:
            continue
        create_offering(
            None,
            track_id=track.id,
            city_id=city.id,
            academic_year=year,
            seats=25,
            opens_on=first_day,
            closes_on=first_day + timedelta(days=61),
            course_starts_on=first_day + timedelta(days=91),
            status=OfferingStatus.OPEN,
        )
        created += 1
    db.session.flush()
    return created


def _jsonable(value):
    """A value as it is written into an audit event."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _apply(obj, values):
    """Set ``values`` on ``obj``; return (before, after) of the fields that changed."""
    before, after = {}, {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            before[name], after[name] = _jsonable(old), _jsonable(value)
            setattr(obj, name, value)
    return before, after


def slugify(text):
    """ASCII lower-case slug of a name (``Fès`` → ``fes``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "ville"


def _unique_slug(name):
    base = slugify(name)[:56]
    taken = set(db.session.scalars(select(City.slug).where(City.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


# Cities and tracks ---------------------------------------------------------------------


def create_city(actor, *, name_fr, name_ar, name_en, region_id):
    """Add a city where tracks may be offered and applicants may live; flush."""
    duplicate = db.session.scalar(select(City).where(City.name_fr == name_fr, City.region_id == region_id))
    if duplicate is not None:
        raise AdminError(_l("Cette ville existe déjà dans cette région."), field="name_fr")
    city = City(
        slug=_unique_slug(name_fr), name_fr=name_fr, name_ar=name_ar, name_en=name_en, region_id=region_id
    )
    db.session.add(city)
    db.session.flush()
    record(
        actor,
        "city_created",
        "city",
        city.id,
        after={"name_fr": name_fr, "name_ar": name_ar, "name_en": name_en, "region_id": region_id},
    )
    db.session.flush()
    return city


def update_city(actor, city, **values):
    """Change a city's names or region; flush."""
    before, after = _apply(city, values)
    if after:
        record(actor, "city_changed", "city", city.id, before=before, after=after)
    db.session.flush()
    return city


TRACK_FIELDS = (
    "domain",
    "min_education",
    "title_fr",
    "title_ar",
    "title_en",
    "description_fr",
    "description_ar",
    "description_en",
)


# A track's code appears in addresses (``/tracks/NUM-TRANS``).
TRACK_CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}")


def _check_track_values(values):
    """Refuse an unknown domain or minimum education level (never read as "no minimum")."""
    if "domain" in values and values["domain"] not in Domain.values():
        raise AdminError(_l("Choisissez une valeur dans la liste."), field="domain")
    if "min_education" in values and values["min_education"] not in EducationLevel.values():
        raise AdminError(_l("Choisissez une valeur dans la liste."), field="min_education")


def create_track(actor, *, code, **values):
    """Add a track to the catalogue; flush."""
    if not TRACK_CODE_RE.fullmatch(code or ""):
        raise AdminError(
            _l("Le code ne contient que des lettres majuscules, des chiffres et des tirets (ex. NUM-TRANS)."),
            field="code",
        )
    _check_track_values(values)
    if db.session.scalar(select(Track.id).where(Track.code == code)) is not None:
        raise AdminError(_l("Une formation porte déjà ce code."), field="code")
    track = Track(code=code, **{k: values[k] or "" for k in TRACK_FIELDS})
    db.session.add(track)
    db.session.flush()
    record(actor, "track_created", "track", track.id, after={"code": code, **values})
    db.session.flush()
    return track


def update_track(actor, track, **values):
    """Change a track's titles, descriptions, domain or minimum education; flush."""
    _check_track_values(values)
    before, after = _apply(track, {k: values[k] or "" for k in TRACK_FIELDS if k in values})
    if after:
        record(actor, "track_changed", "track", track.id, before=before, after=after)
    db.session.flush()
    return track


# Offerings -----------------------------------------------------------------------------


NOT_A_REVIEWER = _l("Seul un évaluateur dont le compte est actif peut être affecté à une session.")


def _active_reviewers(user_ids):
    """The users of ``user_ids`` who are active reviewers; AdminError if any is not."""
    user_ids = set(user_ids)
    if not user_ids:
        return []
    chosen = db.session.scalars(
        select(User).where(User.id.in_(user_ids), User.role == Role.REVIEWER, User.active.is_(True))
    ).all()
    if len(chosen) != len(user_ids):
        raise AdminError(NOT_A_REVIEWER, field="reviewers")
    return chosen


def _set_reviewers(actor, offering, reviewer_ids):
    """Make the offering's reviewers exactly ``reviewer_ids`` (active reviewers only); audit it."""
    reviewer_ids = set(reviewer_ids or ())
    current = {u.id for u in offering.reviewers}
    if reviewer_ids == current:
        return
    chosen = _active_reviewers(reviewer_ids)
    offering.reviewers = list(chosen)
    record(
        actor,
        "reviewers_changed",
        "offering",
        offering.id,
        before={"reviewers": sorted(current)},
        after={"reviewers": sorted(u.id for u in chosen)},
    )


def assign_reviewer(actor, offering, user):
    """Add ``user`` (an active reviewer) to the reviewers of ``offering``; audit it; flush.

    Returns False when they already were. ``actor`` is None from the command line.
    """
    if user is None:
        raise AdminError(NOT_A_REVIEWER, field="reviewers")
    _active_reviewers([user.id])
    if user in offering.reviewers:
        return False
    _set_reviewers(actor, offering, {u.id for u in offering.reviewers} | {user.id})
    db.session.flush()
    return True


def create_offering(
    actor,
    *,
    track_id,
    city_id,
    academic_year,
    seats,
    opens_on,
    closes_on,
    course_starts_on,
    status,
    reviewer_ids=(),
    max_seats_per_association=FROM_SETTINGS,
    endorsement_required=False,
):
    """Offer a track in a city for an academic year; flush.

    Applications are accepted from the start of ``opens_on`` to the end of ``closes_on``
    (days in Moroccan time). Every offering starts as a draft; one created open is then
    opened through the workflow, which emails the applicants who asked for this track in
    this city. ``max_seats_per_association`` defaults to the MAX_SEATS_PER_ASSOCIATION
    setting; None means no limit.
    """
    if max_seats_per_association is FROM_SETTINGS:
        max_seats_per_association = current_app.config["MAX_SEATS_PER_ASSOCIATION"]
    if status not in OfferingStatus.INITIAL:
        raise AdminError(_l("Choisissez une valeur dans la liste."), field="action")
    check_academic_year(academic_year)
    check_seats(seats)
    check_association_cap(max_seats_per_association)
    check_days(opens_on, closes_on, course_starts_on)
    opens_at, closes_at = _window(opens_on, closes_on)
    exists = db.session.scalar(
        select(Offering.id).where(
            Offering.track_id == track_id,
            Offering.city_id == city_id,
            Offering.academic_year == academic_year,
        )
    )
    if exists is not None:
        raise AdminError(
            _l("Une session de cette formation existe déjà dans cette ville pour cette année."),
            field="city_id",
        )
    offering = Offering(
        track_id=track_id,
        city_id=city_id,
        academic_year=academic_year,
        seats=seats,
        seats_held=0,
        max_seats_per_association=max_seats_per_association,
        endorsement_required=bool(endorsement_required),
        opens_at=opens_at,
        closes_at=closes_at,
        course_starts_on=_course_start(course_starts_on),
        status=OfferingStatus.DRAFT,
    )
    db.session.add(offering)
    db.session.flush()
    record(
        actor,
        "offering_created",
        "offering",
        offering.id,
        after={
            k: _jsonable(getattr(offering, k))
            for k in (
                "track_id",
                "city_id",
                "academic_year",
                "seats",
                "max_seats_per_association",
                "endorsement_required",
                "opens_at",
                "closes_at",
                "course_starts_on",
                "status",
            )
        },
    )
    _set_reviewers(actor, offering, reviewer_ids)
    if status == OfferingStatus.OPEN:
        transition_offering(offering, OfferingStatus.OPEN, actor)
    db.session.flush()
    return offering


def change_seats(actor, offering, seats):
    """Set the number of seats; never below the seats already held; flush.

    The check and the change are one conditional UPDATE, so a seat taken by a reviewer
    at the same moment cannot slip under the new number. Raising the seats accepts
    wait-listed candidates, best first.
    """
    from portal.applications.workflow import promote_waitlist

    check_seats(seats)
    old = offering.seats
    if seats == old:
        return []
    changed = db.session.execute(
        update(Offering)
        .where(Offering.id == offering.id, Offering.seats_held <= seats)
        .values(seats=seats)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(offering)
    if changed != 1:
        raise AdminError(
            _l(
                "Impossible : %(held)s places sont déjà attribuées. Le nombre de places ne peut pas être inférieur.",
                held=offering.seats_held,
            ),
            field="seats",
        )
    record(actor, "seats_changed", "offering", offering.id, before={"seats": old}, after={"seats": seats})
    promoted = promote_waitlist(offering) if seats > old else []
    db.session.flush()
    return promoted


def _course_start(day, old=None):
    """The course start (a date from the form) as stored: a datetime at midnight."""
    if day is None:
        return None
    if isinstance(day, datetime):
        day = day.date()
    if old is not None and old.date() == day:
        return old
    return datetime.combine(day, time())


MIN_SEATS, MAX_SEATS = 1, 10000
# The window is stored as moments, which days of far-off years cannot be.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
ACADEMIC_YEAR_RE = re.compile(r"(\d{4})-(\d{4})")


def check_academic_year(value):
    """Refuse an academic year that is not two consecutive years (``2026-2027``)."""
    match = ACADEMIC_YEAR_RE.fullmatch(value or "")
    if not match or int(match[2]) != int(match[1]) + 1:
        raise AdminError(
            _l("Indiquez deux années consécutives, par exemple 2026-2027."), field="academic_year"
        )


def check_association_cap(cap):
    """Refuse a number of seats per association below 1 (None: no limit)."""
    if cap is None:
        return
    if not isinstance(cap, int) or isinstance(cap, bool) or not 1 <= cap <= MAX_SEATS:
        raise AdminError(
            _l("Entre %(min)s et %(max)s places, ou vide pour ne pas limiter.", min=1, max=MAX_SEATS),
            field="max_seats_per_association",
        )


def check_seats(seats):
    """Refuse a number of seats outside MIN_SEATS..MAX_SEATS."""
    if not isinstance(seats, int) or isinstance(seats, bool) or not MIN_SEATS <= seats <= MAX_SEATS:
        raise AdminError(_l("Entre %(min)s et %(max)s places.", min=MIN_SEATS, max=MAX_SEATS), field="seats")


def check_days(opens_on, closes_on, course_starts_on):
    """Refuse a window that closes before it opens, or a course starting before it closes.

    The days are in Moroccan time; applications are taken until the end of ``closes_on``,
    so the course starts the day after at the earliest.
    """
    for field, day in (
        ("opens_on", opens_on),
        ("closes_on", closes_on),
        ("course_starts_on", course_starts_on),
    ):
        if field != "course_starts_on" and day is None:
            raise AdminError(_l("Ce champ est obligatoire."), field=field)
        if isinstance(day, datetime):
            day = day.date()
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise AdminError(_l("Choisissez une date entre 2000 et 2099."), field=field)
    if closes_on < opens_on:
        raise AdminError(
            _l("Le dernier jour ne peut pas précéder le premier jour des candidatures."), field="closes_on"
        )
    if course_starts_on is not None:
        start = course_starts_on.date() if isinstance(course_starts_on, datetime) else course_starts_on
        if start <= closes_on:
            raise AdminError(
                _l("La session commence après le dernier jour des candidatures, pas avant ni le même jour."),
                field="course_starts_on",
            )


def _window(opens_on, closes_on):
    """The stored window of two days in Moroccan time: the start of the first, the end of the last."""
    return start_of_local_day(opens_on), end_of_local_day(closes_on)


def _keep_if_same_day(old, new, day):
    # A moment set before days were picked (or by the seed) stays as it is while its day
    # is not changed: saving the page unchanged changes nothing.
    return old if old is not None and local_day(old) == day else new


def update_offering(
    actor,
    offering,
    *,
    seats,
    opens_on,
    closes_on,
    course_starts_on,
    status,
    reviewer_ids=None,
    max_seats_per_association=FROM_SETTINGS,
    endorsement_required=None,
):
    """Change an offering: seats, seats per association, endorsement, window, course start, status, reviewers; flush.

    ``endorsement_required`` None keeps it as it is.
    """
    check_seats(seats)
    if max_seats_per_association is FROM_SETTINGS:
        # Not given: kept as it is.
        max_seats_per_association = offering.max_seats_per_association
    check_association_cap(max_seats_per_association)
    check_days(opens_on, closes_on, course_starts_on)
    opens_at, closes_at = _window(opens_on, closes_on)
    # Seats first: it refreshes the row, which would drop changes made before it.
    promoted = change_seats(actor, offering, seats)
    opens_at = _keep_if_same_day(offering.opens_at, opens_at, opens_on)
    closes_at = _keep_if_same_day(offering.closes_at, closes_at, closes_on)
    course_starts_on = _course_start(course_starts_on, offering.course_starts_on)
    before, after = _apply(
        offering,
        {
            "opens_at": opens_at,
            "closes_at": closes_at,
            "course_starts_on": course_starts_on,
            "max_seats_per_association": max_seats_per_association,
            "endorsement_required": offering.endorsement_required
            if endorsement_required is None
            else bool(endorsement_required),
        },
    )
    if after:
        record(actor, "offering_changed", "offering", offering.id, before=before, after=after)
    if reviewer_ids is not None:
        _set_reviewers(actor, offering, reviewer_ids)
    # After the window: opening emails the interested applicants only while it is open.
    if status != offering.status:
        transition_offering(offering, status, actor)
    db.session.flush()
    return promoted


def close_offering(actor, offering):
    """Stop taking applications for an offering; flush."""
    transition_offering(offering, OfferingStatus.CLOSED, actor)


def reopen_offering(actor, offering):
    """Open an offering again (or for the first time); flush."""
    transition_offering(offering, OfferingStatus.OPEN, actor)
