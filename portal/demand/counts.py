"""The demand the dashboard ranks, kept in ``interest_count`` and ``resident_count``.

``interest_count`` holds, per (track, city), the interests of active accounts;
``resident_count``, per city, the active applicant accounts whose profile lives there:
exactly what the dashboard counted from ``interest``, ``applicant_profile`` and ``user``.
Every write that changes either changes these rows in the same transaction, with one
atomic statement per row (an upsert adding +1, or ``n = n - 1`` while ``n`` is positive),
as ``portal/applications/counts.py`` does for the applications: concurrent writes wait
for each other on the row and never lose an update, on SQLite and PostgreSQL alike.

The writers call:
- ``interest_added`` (once the interest is flushed) / ``interest_removed`` for an interest;
- ``account_created`` for a new account with its profile, flushed (registration, seed);
- ``account_changed(user, before)`` with ``before = standing(user)`` taken before the
  change, for anything that changes whether or where an account counts (profile city,
  role, deactivation, reactivation, erasure) — before the account's interests are deleted.
What an account counts for is read from the database with the account's row locked on
PostgreSQL, so that two writes about one account take turns.

``differences()`` recounts and lists what does not match; ``fix()`` rewrites the rows
(``flask counts check [--fix]``).
"""

import logging
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text

from portal.extensions import db
from portal.vocabulary import Role

log = logging.getLogger(__name__)

# Written as text, as the application counts are: the same SQL on both databases, and no
# dialect construct compiled anew at each write.
_ADD_TO_RESIDENTS = text(
    "INSERT INTO resident_count (city_id, n) VALUES (:city_id, :n)"
    " ON CONFLICT (city_id) DO UPDATE SET n = resident_count.n + excluded.n"
)
_TAKE_FROM_RESIDENTS = text("UPDATE resident_count SET n = n - 1 WHERE city_id = :city_id AND n >= 1")
_ADD_TO_INTERESTS = text(
    "INSERT INTO interest_count (track_id, city_id, n) VALUES (:track_id, :city_id, :n)"
    " ON CONFLICT (track_id, city_id) DO UPDATE SET n = interest_count.n + excluded.n"
)
_TAKE_FROM_INTERESTS = text(
    "UPDATE interest_count SET n = n - 1 WHERE track_id = :track_id AND city_id = :city_id AND n >= 1"
)
# Every interest of one account at once (an account deactivated, reactivated or erased).
# The account holds one interest per (track, city) at most (a unique constraint): +1 or -1
# per row. The WHERE clause also keeps SQLite from reading ON CONFLICT as a join's ON.
_ADD_ACCOUNT_INTERESTS = text(
    "INSERT INTO interest_count (track_id, city_id, n)"
    " SELECT track_id, city_id, 1 FROM interest WHERE applicant_id = :user_id ORDER BY track_id, city_id"
    " ON CONFLICT (track_id, city_id) DO UPDATE SET n = interest_count.n + excluded.n"
)
_TAKE_ACCOUNT_INTERESTS = text(
    "UPDATE interest_count SET n = n - 1 WHERE n >= 1 AND (track_id, city_id) IN"
    " (SELECT track_id, city_id FROM interest WHERE applicant_id = :user_id)"
)
# PostgreSQL: the rows locked in the order of their key first, as every other write takes them.
_LOCK_ACCOUNT_INTERESTS = text(
    "SELECT 1 FROM interest_count WHERE (track_id, city_id) IN"
    " (SELECT track_id, city_id FROM interest WHERE applicant_id = :user_id)"
    " ORDER BY track_id, city_id FOR UPDATE"
)


# An account's standing as stored. PostgreSQL: read with the account's row locked, so that
# two writes about one account (an interest withdrawn while an administrator deactivates
# it, a profile edited meanwhile) take turns and each counts from what the other left.
# SQLite's transaction already holds the one writer lock.
_STANDING_SQL = (
    'SELECT "user".active, "user".role, applicant_profile.city_id FROM "user"'
    ' LEFT JOIN applicant_profile ON applicant_profile.user_id = "user".id WHERE "user".id = :user_id'
)
_STANDING = text(_STANDING_SQL)
_STANDING_LOCKED = text(_STANDING_SQL + ' FOR NO KEY UPDATE OF "user"')
_ACTIVE = text('SELECT active FROM "user" WHERE id = :user_id')
_ACTIVE_LOCKED = text('SELECT active FROM "user" WHERE id = :user_id FOR SHARE')


def _postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True)
class Standing:
    """What one account adds to the demand: the city it counts as a resident of, and
    whether its interests count."""

    residence: int | None
    interests: bool


def standing(user):
    """The account's standing as stored (its row locked on PostgreSQL): take it before a write."""
    statement = _STANDING_LOCKED if _postgresql() else _STANDING
    row = db.session.execute(statement, {"user_id": user.id}).one()
    active, role, city_id = bool(row[0]), row[1], row[2]
    return Standing(city_id if active and role == Role.APPLICANT else None, active)


def _add_resident(city_id, delta):
    if delta > 0:
        db.session.execute(_ADD_TO_RESIDENTS, {"city_id": city_id, "n": delta})
    elif db.session.execute(_TAKE_FROM_RESIDENTS, {"city_id": city_id}).rowcount != 1:
        # A count that drifted (``differences()`` reports it) never blocks the write it counts.
        log.warning("resident count of city %s was already 0", city_id)


def _add_interest(track_id, city_id, delta):
    params = {"track_id": track_id, "city_id": city_id}
    if delta > 0:
        db.session.execute(_ADD_TO_INTERESTS, {**params, "n": delta})
    elif db.session.execute(_TAKE_FROM_INTERESTS, params).rowcount != 1:
        log.warning("interest count of track %s in city %s was already 0", track_id, city_id)


def account_changed(user, before):
    """Move the account's weight in the counts from ``before`` to its standing after the write; flush."""
    # Read back as stored: attributes the write did not set may be stale in the session.
    db.session.flush()
    after = standing(user)
    if before.residence != after.residence:
        # Rows in the order of their key, so that two writes cannot wait on each other in a circle.
        moves = [(before.residence, -1), (after.residence, 1)]
        for city_id, delta in sorted((m for m in moves if m[0] is not None), key=lambda m: m[0]):
            _add_resident(city_id, delta)
    if before.interests != after.interests:
        params = {"user_id": user.id}
        if after.interests:
            db.session.execute(_ADD_ACCOUNT_INTERESTS, params)
            return
        if _postgresql():
            db.session.execute(_LOCK_ACCOUNT_INTERESTS, params)
        db.session.execute(_TAKE_ACCOUNT_INTERESTS, params)


def account_created(user):
    """Count a new account (flushed, with its profile) among the residents of its city."""
    account_changed(user, Standing(None, bool(user.active)))


def _active(user):
    """Whether the account is active as stored (its row shared-locked on PostgreSQL, see above)."""
    statement = _ACTIVE_LOCKED if _postgresql() else _ACTIVE
    return bool(db.session.execute(statement, {"user_id": user.id}).scalar())


def interest_added(user, track_id, city_id):
    """Count ``user``'s new interest for the track in the city (when the account is active)."""
    if _active(user):
        _add_interest(track_id, city_id, 1)


def interest_removed(user, track_id, city_id):
    """Uncount ``user``'s interest for the track in the city (when the account is active)."""
    if _active(user):
        _add_interest(track_id, city_id, -1)


def stored():
    """The counts as kept: ``{("interests", track_id, city_id): n, ("residents", None, city_id): n}``."""
    from portal.demand.models import InterestCount, ResidentCount

    kept = {
        ("interests", t, c): n
        for t, c, n in db.session.execute(
            select(InterestCount.track_id, InterestCount.city_id, InterestCount.n)
        )
        if n
    }
    kept.update(
        (("residents", None, c), n)
        for c, n in db.session.execute(select(ResidentCount.city_id, ResidentCount.n))
        if n
    )
    return kept


def recounted():
    """The counts recomputed from the interests, profiles and accounts, as ``stored()``; two queries."""
    from portal.applications.models import Interest
    from portal.auth.models import ApplicantProfile, User

    interests = db.session.execute(
        select(Interest.track_id, Interest.city_id, func.count())
        .join(User, User.id == Interest.applicant_id)
        .where(User.active.is_(True))
        .group_by(Interest.track_id, Interest.city_id)
    )
    residents = db.session.execute(
        select(ApplicantProfile.city_id, func.count())
        .join(User, User.id == ApplicantProfile.user_id)
        .where(User.active.is_(True), User.role == Role.APPLICANT, ApplicantProfile.city_id.is_not(None))
        .group_by(ApplicantProfile.city_id)
    )
    found = {("interests", t, c): n for t, c, n in interests}
    found.update((("residents", None, c), n) for c, n in residents)
    return found


@dataclass(frozen=True)
class Difference:
    """One kept count that differs: ``kind`` is "interests" (per track and city) or "residents"."""

    kind: str
    track_id: int | None
    city_id: int
    stored: int
    actual: int


def differences():
    """Every kept count of the demand that is wrong, sorted (interests, then residents)."""
    kept, actual = stored(), recounted()
    return [
        Difference(*key, kept.get(key, 0), actual.get(key, 0))
        for key in sorted(set(kept) | set(actual), key=lambda k: (k[0], k[1] or 0, k[2]))
        if kept.get(key, 0) != actual.get(key, 0)
    ]


def fix():
    """Rewrite the counts from the interests and accounts; flush. Returns the differences found before.

    Safe while the portal runs, as the application counts' ``fix`` is: PostgreSQL locks the
    two tables first (EXCLUSIVE: reads go on); SQLite's transaction holds the writer lock.
    """
    from portal.demand.models import InterestCount, ResidentCount

    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE interest_count, resident_count IN EXCLUSIVE MODE"))
    found = differences()
    if found:
        db.session.execute(delete(InterestCount))
        db.session.execute(delete(ResidentCount))
        fresh = sorted(recounted().items(), key=lambda item: (item[0][0], item[0][1] or 0, item[0][2]))
        interests = [
            {"track_id": t, "city_id": c, "n": n} for (kind, t, c), n in fresh if kind == "interests"
        ]
        residents = [{"city_id": c, "n": n} for (kind, _t, c), n in fresh if kind == "residents"]
        if interests:
            db.session.execute(InterestCount.__table__.insert(), interests)
        if residents:
            db.session.execute(ResidentCount.__table__.insert(), residents)
        db.session.flush()
    return found
