"""Applications per offering and status, kept in ``application_count`` by the workflow.

(And the arrivals per offering and day, in ``application_day_count``, kept at submission.)

Every change of an application's status changes these rows in the same transaction, with
one atomic statement per row (an upsert adding +1 or -1 to ``n``): two transactions that
move applications of the same offering wait for each other on the row, never lose an
update, on SQLite and PostgreSQL alike. Within one change the rows are written in the
order of their status, and ``transition`` locks the offering first, so that transactions
making several changes cannot wait on each other in a circle.

``differences()`` recounts the applications and lists what does not match;
``fix()`` rewrites the rows from the applications (``flask counts check [--fix]``).
"""

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, bindparam, delete, func, select, text, update

from portal.extensions import db
from portal.vocabulary import ApplicationStatus

log = logging.getLogger(__name__)


# The upserts, the same SQL on SQLite and PostgreSQL. Written as text: SQLAlchemy keeps no
# compiled form of a dialect's ``on_conflict_do_update`` and compiled it anew on every
# submission and transition, which cost more than running it.
_ADD_TO_STATUS = text(
    "INSERT INTO application_count (offering_id, status, n) VALUES (:offering_id, :key, :n)"
    " ON CONFLICT (offering_id, status) DO UPDATE SET n = application_count.n + excluded.n"
)
_ADD_TO_DAY = text(
    "INSERT INTO application_day_count (offering_id, day, n) VALUES (:offering_id, :key, :n)"
    " ON CONFLICT (offering_id, day) DO UPDATE SET n = application_day_count.n + excluded.n"
).bindparams(bindparam("key", type_=Date()))


def _add(offering_id, status, delta):
    """``n += delta`` for (offering, status); one statement.

    +1 is an upsert (the row inserted when missing). -1 is an UPDATE of the row while
    ``n`` is positive: a count that drifted (which ``differences()`` reports) is logged,
    and never blocks the status change it counts.
    """
    from portal.applications.models import ApplicationCount

    if delta < 0:
        changed = db.session.execute(
            update(ApplicationCount)
            .where(
                ApplicationCount.offering_id == offering_id,
                ApplicationCount.status == ApplicationStatus(status).value,
                ApplicationCount.n >= -delta,
            )
            .values(n=ApplicationCount.n + delta)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            log.warning("application count of offering %s in %s was already 0", offering_id, status)
        return
    db.session.execute(
        _ADD_TO_STATUS, {"offering_id": offering_id, "key": ApplicationStatus(status).value, "n": delta}
    )


def count_arrival(offering_id, status, submitted_at):
    """Count a new application of ``offering_id`` in ``status``, and on its day of submission."""
    _add(offering_id, status, 1)
    db.session.execute(_ADD_TO_DAY, {"offering_id": offering_id, "key": submitted_at.date(), "n": 1})


def count_move(offering_id, from_status, to_status):
    """Move one application of ``offering_id`` from ``from_status`` to ``to_status`` in the counts."""
    changes = sorted([(ApplicationStatus(from_status).value, -1), (ApplicationStatus(to_status).value, 1)])
    for status, delta in changes:
        _add(offering_id, status, delta)


def _as_day(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def stored_days():
    """The arrivals per day as kept: ``{(offering_id, day): n}``, zeros left out."""
    from portal.applications.models import ApplicationDayCount

    rows = db.session.execute(
        select(ApplicationDayCount.offering_id, ApplicationDayCount.day, ApplicationDayCount.n)
    )
    return {(o, _as_day(d)): n for o, d, n in rows if n}


def recounted_days():
    """The arrivals per day recomputed from the applications: ``{(offering_id, day): n}``."""
    from portal.applications.models import Application

    day = func.date(Application.submitted_at)
    rows = db.session.execute(
        select(Application.offering_id, day, func.count()).group_by(Application.offering_id, day)
    )
    return {(o, _as_day(d)): n for o, d, n in rows}


def stored():
    """The counts as kept: ``{(offering_id, status): n}``, zeros left out."""
    from portal.applications.models import ApplicationCount

    rows = db.session.execute(
        select(ApplicationCount.offering_id, ApplicationCount.status, ApplicationCount.n)
    )
    return {(o, s): n for o, s, n in rows if n}


def recounted():
    """The counts recomputed from the applications: ``{(offering_id, status): n}``; one query."""
    from portal.applications.models import Application

    rows = db.session.execute(
        select(Application.offering_id, Application.status, func.count()).group_by(
            Application.offering_id, Application.status
        )
    )
    return {(o, s): n for o, s, n in rows}


@dataclass(frozen=True)
class Difference:
    """One (offering, status) whose kept count differs from the applications."""

    offering_id: int
    status: str
    stored: int
    actual: int


def differences():
    """Every (offering, status) — then (offering, day) — whose kept count is wrong, sorted.

    A difference of the arrivals per day has the day, as text, in ``status``.
    """
    found = []
    for kept, actual in ((stored(), recounted()), (stored_days(), recounted_days())):
        found += [
            Difference(
                offering_id, str(key), kept.get((offering_id, key), 0), actual.get((offering_id, key), 0)
            )
            for offering_id, key in sorted(set(kept) | set(actual))
            if kept.get((offering_id, key), 0) != actual.get((offering_id, key), 0)
        ]
    return found


def fix():
    """Rewrite the counts from the applications; flush. Returns the differences found before.

    Safe while the portal runs. PostgreSQL: the table is locked first (EXCLUSIVE: reads go
    on), so a transition that already counted commits before the recount reads, and one that
    has not yet waits for the rewrite and adds its change to it. SQLite: the transaction
    holds the one writer lock (``BEGIN IMMEDIATE``) from its first statement.
    """
    from portal.applications.models import ApplicationCount, ApplicationDayCount

    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE application_count, application_day_count IN EXCLUSIVE MODE"))
    found = differences()
    if found:
        db.session.execute(delete(ApplicationCount))
        db.session.execute(delete(ApplicationDayCount))
        rows = [{"offering_id": o, "status": s, "n": n} for (o, s), n in sorted(recounted().items())]
        if rows:
            db.session.execute(ApplicationCount.__table__.insert(), rows)
        rows = [{"offering_id": o, "day": d, "n": n} for (o, d), n in sorted(recounted_days().items())]
        if rows:
            db.session.execute(ApplicationDayCount.__table__.insert(), rows)
        db.session.flush()
    return found
