"""Factories: valid objects in one call, with overrides for what a test cares about."""

import itertools
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

from sqlalchemy import delete, func, select

from portal.applications import counts, workflow
from portal.applications.models import Application, Interest, StatusChange
from portal.auth.models import ApplicantProfile, User
from portal.auth.passwords import hash_password
from portal.catalog.models import City, Offering, Region, Track
from portal.catalog.operations import academic_year
from portal.demand import counts as demand_counts
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.timeutil import local_day, utcnow
from portal.vocabulary import ApplicationStatus, CompletionReason

PASSWORD = "correct horse battery"
_counter = itertools.count(1)
# Hashing with production parameters is slow; tests share one hash of PASSWORD.
_password_hash = None


def _hash():
    global _password_hash
    if _password_hash is None:
        _password_hash = hash_password(PASSWORD)
    return _password_hash


def region(**kw):
    """A region."""
    n = next(_counter)
    obj = Region(
        code=kw.pop("code", f"R{n}"), name_fr=f"Région {n}", name_ar=f"جهة {n}", name_en=f"Region {n}"
    )
    for k, v in kw.items():
        setattr(obj, k, v)
    db.session.add(obj)
    db.session.flush()
    return obj


def city(name=None, **kw):
    """A city (in a new region unless one is given)."""
    n = next(_counter)
    name = name or f"Ville{n}"
    obj = City(
        slug=kw.pop("slug", f"{name.lower()}-{n}"),
        region=kw.pop("region", None) or region(),
        name_fr=name,
        name_ar=kw.pop("name_ar", f"مدينة {n}"),
        name_en=kw.pop("name_en", name),
    )
    for k, v in kw.items():
        setattr(obj, k, v)
    db.session.add(obj)
    db.session.flush()
    return obj


def track(**kw):
    """A track."""
    n = next(_counter)
    data = {
        "code": f"TRK-{n}",
        "domain": "digital",
        "min_education": "secondary",
        "title_fr": f"Formation {n}",
        "title_ar": f"تكوين {n}",
        "title_en": f"Track {n}",
        "description_fr": "Description",
        "description_ar": "وصف",
        "description_en": "Description",
    }
    data.update(kw)
    obj = Track(**data)
    db.session.add(obj)
    db.session.flush()
    return obj


def offering(**kw):
    """An open offering with its window open now."""
    now = utcnow()
    data = {
        "track": kw.pop("track", None) or track(),
        "city": kw.pop("city", None) or city(),
        "academic_year": academic_year(now),
        "seats": 25,
        "opens_at": now - timedelta(days=1),
        "closes_at": now + timedelta(days=30),
        "course_starts_on": now + timedelta(days=60),
        "status": "open",
    }
    data.update(kw)
    obj = Offering(**data)
    db.session.add(obj)
    db.session.flush()
    return obj


def user(role="applicant", **kw):
    """A confirmed user; applicants get a complete profile."""
    n = next(_counter)
    profile_kw = kw.pop("profile", {})
    obj = User(
        email=kw.pop("email", f"user{n}@example.org"),
        role=role,
        password_hash=kw.pop("password_hash", None) or _hash(),
        email_confirmed_at=kw.pop("email_confirmed_at", utcnow()),
        consent_at=utcnow(),
        consent_version="test",
        locale=kw.pop("locale", "fr"),
    )
    for k, v in kw.items():
        setattr(obj, k, v)
    db.session.add(obj)
    if role == "applicant":
        residence = profile_kw.pop("city", None) or db.session.scalar(select(City).limit(1)) or city()
        data = {
            "first_name": "Amina",
            "last_name": f"Test{n}",
            "cin": f"T{n:06d}"[-7:],
            "birth_date": date(1990, 1, 1),
            "phone": "+212600000000",
            "city": residence,
            "education_level": "licence",
            "association_name": f"Association {n}",
            "association_registration": f"REG-{n}",
            "association_city": residence,
            "association_field": "social",
            "association_role": "Membre",
            "association_years": 3,
        }
        data.update(profile_kw)
        obj.profile = ApplicantProfile(**data)
    db.session.flush()
    # Among the residents the dashboard's demand counts, as a registration counts it.
    demand_counts.account_created(obj)
    return obj


def interest(applicant, track_, city_, **kw):
    """An interest of ``applicant`` for ``track_`` in ``city_``, counted as the demand pages count it."""
    obj = Interest(applicant_id=applicant.id, track_id=track_.id, city_id=city_.id, **kw)
    db.session.add(obj)
    db.session.flush()
    demand_counts.interest_added(applicant, track_.id, city_.id)
    return obj


def reviewer(*offerings, **kw):
    """A reviewer assigned to ``offerings``."""
    obj = user(role="reviewer", **kw)
    obj.reviewed_offerings.extend(offerings)
    db.session.flush()
    return obj


# How a factory application reaches each status through the workflow from "submitted":
# (target status, who moves it) steps. "system", "staff" and "applicant" are the three
# kinds of actor the workflow's permissions know.
_PATHS = {
    ApplicationStatus.SUBMITTED: (),
    ApplicationStatus.UNDER_REVIEW: ((ApplicationStatus.UNDER_REVIEW, "system"),),
    ApplicationStatus.ACCEPTED: ((ApplicationStatus.ACCEPTED, "staff"),),
    ApplicationStatus.WAITLISTED: ((ApplicationStatus.WAITLISTED, "staff"),),
    ApplicationStatus.REJECTED: ((ApplicationStatus.REJECTED, "staff"),),
    ApplicationStatus.CONFIRMED: (
        (ApplicationStatus.ACCEPTED, "staff"),
        (ApplicationStatus.CONFIRMED, "applicant"),
    ),
    ApplicationStatus.WITHDRAWN: ((ApplicationStatus.WITHDRAWN, "applicant"),),
    ApplicationStatus.EXPIRED: ((ApplicationStatus.ACCEPTED, "staff"), (ApplicationStatus.EXPIRED, "system")),
    ApplicationStatus.COMPLETED: (
        (ApplicationStatus.ACCEPTED, "staff"),
        (ApplicationStatus.CONFIRMED, "applicant"),
        (ApplicationStatus.COMPLETED, "staff"),
    ),
    ApplicationStatus.NOT_COMPLETED: (
        (ApplicationStatus.ACCEPTED, "staff"),
        (ApplicationStatus.CONFIRMED, "applicant"),
        (ApplicationStatus.NOT_COMPLETED, "staff"),
    ),
}
# Columns the workflow writes on the way; a value given to the factory replaces its own.
_WORKFLOW_COLUMNS = ("confirmation_deadline", "decided_at", "updated_at")


def _factory_staff():
    """The staff member behind a factory application's decisions: an administrator who is
    not in the database, so that no account appears in the test's lists and counts."""
    return SimpleNamespace(id=None, role="admin", is_authenticated=True, is_active=True)


def application(applicant=None, offering_=None, status="submitted", **kw):
    """An application inserted directly (bypassing the form), then moved to ``status``.

    It goes through the workflow as a real one does: ``transition()`` checks the table,
    takes the seat of an accepted or confirmed application (SeatsFull when the offering
    has none left: no factory makes an impossible state), sets the decision columns and
    writes the history. The emails of that history are dropped: a test sees only those
    its own actions queue. ``confirmation_deadline``, ``decided_at`` and ``updated_at``,
    when given, replace what the workflow wrote; ``decided_by`` names the staff member
    who decided (default: an administrator who is not in the database).

    An outcome (completed, not completed) is recorded after the course start: when the
    offering's course has not started, the factory starts it today. ``reason`` is the
    ``CompletionReason`` of a not completed one (default: never came).
    """
    applicant = applicant or user()
    offering_ = offering_ or offering()
    decided_by = kw.pop("decided_by", None) or _factory_staff()
    given = {column: kw.pop(column) for column in _WORKFLOW_COLUMNS if column in kw}
    reason = kw.pop("reason", CompletionReason.NEVER_CAME)
    if status in ApplicationStatus.OUTCOMES and not workflow.course_started(offering_):
        offering_.course_starts_on = datetime.combine(local_day(utcnow()), time())
    n = next(_counter)
    obj = Application(
        reference=kw.pop("reference", f"APP-{utcnow().year}-{900000 + n:06d}"),
        applicant=applicant,
        offering=offering_,
        academic_year=offering_.academic_year,
        status=ApplicationStatus.SUBMITTED.value,
        motivation=kw.pop("motivation", "Je souhaite me former. " * 10),
        expected_benefit=kw.pop("expected_benefit", "Mieux servir nos bénéficiaires."),
        **kw,
    )
    db.session.add(obj)
    db.session.flush()
    db.session.add(
        StatusChange(
            application_id=obj.id,
            from_status=None,
            to_status=ApplicationStatus.SUBMITTED.value,
            actor_id=applicant.id,
            created_at=obj.submitted_at,
        )
    )
    counts.count_arrival(obj.offering_id, ApplicationStatus.SUBMITTED, obj.submitted_at)
    last_email = db.session.scalar(select(func.max(OutboxEmail.id))) or 0
    actors = {"system": None, "staff": decided_by, "applicant": applicant}
    for to, actor in _PATHS[ApplicationStatus(status)]:
        workflow.transition(
            obj, to, actors[actor], reason=reason if to == ApplicationStatus.NOT_COMPLETED else None
        )
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.id > last_email))
    for column, value in given.items():
        setattr(obj, column, value)
    db.session.flush()
    return obj


def login(client, user_, password=PASSWORD):
    """Log ``user_`` in through the real login form; returns the response."""
    return client.post("/auth/login", data={"email": user_.email, "password": password})
