"""The whole transition table of DESIGN.md §3, pair by pair, and transition() applying it."""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.applications import states
from portal.applications.models import StatusChange
from portal.applications.states import TRANSITIONS
from portal.applications.workflow import NotAllowed, transition
from portal.extensions import db
from portal.vocabulary import ApplicationStatus
from tests import factories

STATUSES = (
    "submitted",
    "under_review",
    "accepted",
    "waitlisted",
    "rejected",
    "confirmed",
    "withdrawn",
    "expired",
    "completed",
    "not_completed",
)

# DESIGN.md §3, written out literally.
ALLOWED = {
    ("submitted", "under_review"),
    ("submitted", "accepted"),
    ("submitted", "waitlisted"),
    ("submitted", "rejected"),
    ("under_review", "accepted"),
    ("under_review", "waitlisted"),
    ("under_review", "rejected"),
    ("waitlisted", "accepted"),
    ("waitlisted", "rejected"),
    ("accepted", "confirmed"),
    ("accepted", "expired"),
    ("submitted", "withdrawn"),
    ("under_review", "withdrawn"),
    ("waitlisted", "withdrawn"),
    ("accepted", "withdrawn"),
    ("confirmed", "withdrawn"),
    ("confirmed", "completed"),
    ("confirmed", "not_completed"),
}
FINAL = {"rejected", "withdrawn", "expired", "completed", "not_completed"}
SEAT_HOLDING = {"accepted", "confirmed", "completed", "not_completed"}
# Who triggers each target status: the applicant, a reviewer of the offering, the system.
ACTOR_FOR = {
    "under_review": "reviewer",
    "accepted": "reviewer",
    "waitlisted": "reviewer",
    "rejected": "reviewer",
    "confirmed": "applicant",
    "withdrawn": "applicant",
    "expired": "system",
    "submitted": "applicant",
    "completed": "reviewer",
    "not_completed": "reviewer",
}
PAIRS = list(itertools.product(STATUSES, STATUSES))


def test_the_statuses_are_the_ten_of_the_design():
    assert {s.value for s in ApplicationStatus} == set(STATUSES)
    assert set(TRANSITIONS) == set(ApplicationStatus)


def test_table_values_are_frozensets_of_statuses():
    for status, nexts in TRANSITIONS.items():
        assert type(nexts) is frozenset, status
        assert all(isinstance(n, ApplicationStatus) for n in nexts), status


def test_final_states_have_no_exit():
    assert {s.value for s in ApplicationStatus.FINAL} == FINAL
    for status in FINAL:
        assert TRANSITIONS[ApplicationStatus(status)] == frozenset()
    assert {s.value for s in ApplicationStatus.ACTIVE} == set(STATUSES) - FINAL
    # The cohort's outcomes keep the seat they used: recording them promotes no one.
    assert {s.value for s in ApplicationStatus.SEAT_HOLDING} == SEAT_HOLDING


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_table_pair(source, target):
    expected = (source, target) in ALLOWED
    assert states.allowed(source, target) is expected
    assert (ApplicationStatus(target) in TRANSITIONS[ApplicationStatus(source)]) is expected


def _scene(source):
    offering = factories.offering(seats=5)
    applicant = factories.user()
    reviewer = factories.reviewer(offering)
    application = factories.application(applicant, offering, status=source)
    actors = {"applicant": applicant, "reviewer": reviewer, "system": None}
    return application, offering, actors


def _history_count(application):
    return db.session.scalar(
        select(func.count()).select_from(StatusChange).where(StatusChange.application_id == application.id)
    )


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition_applies_exactly_the_table(app, source, target):
    application, offering, actors = _scene(source)
    seats_before = offering.seats_held
    # The factory wrote the history that brought the application to ``source``.
    history_before = _history_count(application)
    if (source, target) not in ALLOWED:
        # Forbidden whoever asks, even the actor who would be entitled to that target.
        for actor in (actors[ACTOR_FOR[target]], actors["reviewer"], None):
            with pytest.raises(NotAllowed):
                transition(application, target, actor)
        db.session.refresh(application)
        assert application.status == source
        assert _history_count(application) == history_before
        return
    actor = actors[ACTOR_FOR[target]]
    extra = {}
    if target in ("completed", "not_completed"):
        # An outcome is recorded once the course has started; not completed says why.
        offering.course_starts_on = offering.course_starts_on - timedelta(days=90)
        extra = {"reason": "never_came"} if target == "not_completed" else {}
    change = transition(application, target, actor, **extra)
    db.session.refresh(application)
    assert application.status == target
    assert (change.from_status, change.to_status) == (source, target)
    assert change.actor_id == (actor.id if actor else None)
    assert _history_count(application) == history_before + 1
    db.session.refresh(offering)
    held_before = source in SEAT_HOLDING
    held_after = target in SEAT_HOLDING
    assert offering.seats_held == seats_before + int(held_after) - int(held_before)


@pytest.mark.parametrize("target", ["confirmed", "withdrawn"])
def test_only_the_applicant_confirms_or_withdraws(app, target):
    application, _, actors = _scene("accepted")
    # The system withdraws too, but only when the person leaves (release_applicant).
    intruders = (actors["reviewer"], factories.user()) + ((None,) if target == "confirmed" else ())
    for intruder in intruders:
        with pytest.raises(NotAllowed):
            transition(application, target, intruder)
    assert application.status == "accepted"


def test_reviewer_of_another_offering_cannot_decide(app):
    application, _, _ = _scene("submitted")
    outsider = factories.reviewer(factories.offering())
    with pytest.raises(NotAllowed):
        transition(application, "accepted", outsider)
    with pytest.raises(NotAllowed):
        transition(application, "accepted", application.applicant)


def test_accepting_takes_a_seat_and_withdrawing_a_confirmed_one_frees_it(app):
    application, offering, actors = _scene("submitted")
    assert offering.seats_held == 0
    transition(application, "accepted", actors["reviewer"])
    db.session.refresh(offering)
    assert offering.seats_held == 1
    transition(application, "confirmed", actors["applicant"])
    db.session.refresh(offering)
    assert offering.seats_held == 1
    transition(application, "withdrawn", actors["applicant"])
    db.session.refresh(offering)
    assert offering.seats_held == 0
    assert [(c.from_status, c.to_status) for c in application.history] == [
        (None, "submitted"),
        ("submitted", "accepted"),
        ("accepted", "confirmed"),
        ("confirmed", "withdrawn"),
    ]
