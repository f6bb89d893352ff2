"""Interests: registering and withdrawing a wish, and telling applicants when a track opens."""

from functools import cache

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import permissions
from portal.applications.models import Interest
from portal.auth.models import User
from portal.catalog.models import City, Offering, Track, open_not_over
from portal.database import plain_rows
from portal.demand import counts
from portal.extensions import db
from portal.i18n import current_language, localized_column
from portal.i18n import lazy_gettext as _l
from portal.timeutil import utcnow
from portal.usererror import UserError
from portal.vocabulary import OfferingStatus


class InterestError(UserError):
    """An interest that cannot be registered; ``message`` is translated for the user."""


def open_offering_clause(track_id, city_id, now=None):
    """SQL condition: the track has an offering in the city that is open and not yet over."""
    now = now or utcnow()
    return exists().where(Offering.track_id == track_id, Offering.city_id == city_id, open_not_over(now))


def has_open_offering(track_id, city_id):
    """Whether applicants can already apply (or soon will) to the track in the city."""
    return bool(db.session.scalar(select(open_offering_clause(track_id, city_id))))


def find_interest(user, track_id, city_id):
    """The applicant's interest for the track in the city, or None."""
    return db.session.scalar(
        select(Interest).where(
            Interest.applicant_id == user.id, Interest.track_id == track_id, Interest.city_id == city_id
        )
    )


def register_interest(user, track, city):
    """Record that ``user`` wants ``track`` in ``city``; flush. Returns (interest, created).

    A wish already answered by an opening (``notified_at`` set) is re-armed: the track
    was opened there once and has closed since, so the wish counts again.
    """
    if has_open_offering(track.id, city.id):
        raise InterestError(
            _l(
                "Une session de cette formation est déjà ouverte dans cette ville : vous pouvez y déposer votre candidature."
            )
        )
    interest = find_interest(user, track.id, city.id)
    if interest is not None:
        if interest.notified_at is None:
            return interest, False
        interest.notified_at = None
        interest.created_at = utcnow()
        db.session.flush()
        return interest, True
    interest = Interest(applicant_id=user.id, track_id=track.id, city_id=city.id, created_at=utcnow())
    try:
        # A double click sends two requests: the unique constraint keeps one row.
        with db.session.begin_nested():
            db.session.add(interest)
            db.session.flush()
    except IntegrityError:
        return find_interest(user, track.id, city.id), False
    counts.interest_added(user, track.id, city.id)
    return interest, True


def withdraw_interest(interest):
    """Delete the applicant's interest; flush."""
    counts.interest_removed(interest.applicant, interest.track_id, interest.city_id)
    db.session.delete(interest)
    db.session.flush()


def notify_interested(offering):
    """Email every applicant who asked for the offering's track in its city, once; flush.

    Called when an offering becomes open. Interests already notified are skipped, so
    later edits or a close-and-reopen do not send the email again. Returns the count.
    """
    from portal.notifications.outbox import enqueue_to_user

    if offering.status != OfferingStatus.OPEN or offering.closes_at < utcnow():
        return 0
    interests = db.session.scalars(
        select(Interest)
        .join(User, User.id == Interest.applicant_id)
        .options(joinedload(Interest.applicant))
        .where(
            Interest.track_id == offering.track_id,
            Interest.city_id == offering.city_id,
            Interest.notified_at.is_(None),
            User.active.is_(True),
        )
        .order_by(Interest.id)
    ).all()
    now = utcnow()
    for interest in interests:
        enqueue_to_user(interest.applicant, "interest_opened", offering=offering, interest=interest)
        interest.notified_at = now
    db.session.flush()
    return len(interests)


def interest_state(user, track):
    """For the track page: what the interest button shows to ``user``, or None.

    None unless the user is an applicant living in a city where the track has no open
    offering; otherwise ``{"city": City, "interest": Interest or None}``.
    """
    if not permissions.is_applicant(user):
        return None
    profile = user.profile
    if profile is None or profile.city_id is None:
        return None
    if has_open_offering(track.id, profile.city_id):
        return None
    interest = find_interest(user, track.id, profile.city_id)
    if interest is not None and interest.notified_at is not None:
        interest = None
    return {"city": profile.city, "interest": interest}


@cache
def _interests_statement(language):
    """The query of an applicant's interests in ``language``, with their open offering: built once.

    One statement (run on every dashboard, it keeps its cache key): each interest comes
    with the id of the first open offering (lowest id) of its track in its city, or None.
    """
    opened_id = (
        select(func.min(Offering.id))
        .where(
            Offering.track_id == Interest.track_id,
            Offering.city_id == Interest.city_id,
            open_not_over(bindparam("now")),
        )
        .correlate(Interest)
        .scalar_subquery()
    )
    return (
        select(
            Interest.id,
            Interest.created_at,
            Track.code,
            localized_column(Track, "title", language).label("title"),
            localized_column(City, "name", language).label("city"),
            opened_id.label("opened_id"),
        )
        .join(Track, Track.id == Interest.track_id)
        .join(City, City.id == Interest.city_id)
        .where(Interest.applicant_id == bindparam("applicant_id"))
        .order_by(Interest.created_at.desc(), Interest.id.desc())
    )


def my_interests(user):
    """The applicant's interests, newest first, as plain rows of what their list shows.

    Each row: the interest's ``id`` and ``created_at``, the track's ``code`` and ``title``
    and ``city`` (in the language being rendered), and ``opened_id``: the open offering of
    that track in that city, if any.
    """
    if not permissions.is_applicant(user):
        return []
    values = {"applicant_id": user.id, "now": utcnow()}
    # Plain columns: run on the session's connection, the ORM's execution layer has nothing to do.
    return plain_rows(db.session.connection().execute(_interests_statement(current_language()), values))
