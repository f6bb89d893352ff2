"""The offering state table and transition_offering(), called directly."""

import itertools

import pytest
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.catalog import operations
from portal.catalog.workflow import (
    OFFERING_TRANSITIONS,
    OfferingTransitionRefused,
    offering_allowed,
    transition_offering,
)
from portal.extensions import db
from portal.refusals import AdminError
from portal.timeutil import utcnow
from tests import factories

STATUSES = ("draft", "open", "closed")
# What the administrators' screens allowed before the table existed: every change.
ALLOWED = {(a, b) for a, b in itertools.product(STATUSES, STATUSES) if a != b}
PAIRS = list(itertools.product(STATUSES, STATUSES))
ACTION_FOR = {"open": "offering_opened", "closed": "offering_closed", "draft": "offering_drafted"}


def _events(offering):
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "offering", AuditEvent.object_id == str(offering.id))
        .order_by(AuditEvent.id)
    ).all()


def test_the_table_covers_the_three_statuses():
    assert set(OFFERING_TRANSITIONS) == set(STATUSES)
    for status, nexts in OFFERING_TRANSITIONS.items():
        assert type(nexts) is frozenset and status not in nexts


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition_applies_exactly_the_table(app, source, target):
    admin = factories.user(role="admin")
    offering = factories.offering(status=source)
    assert offering_allowed(source, target) is ((source, target) in ALLOWED)
    if (source, target) not in ALLOWED:
        with pytest.raises(OfferingTransitionRefused) as refused:
            transition_offering(offering, target, admin)
        assert str(refused.value.message)
        assert offering.status == source
        assert _events(offering) == []
        return
    transition_offering(offering, target, admin)
    db.session.refresh(offering)
    assert offering.status == target
    assert (offering.closed_at is not None) is (target == "closed")
    events = _events(offering)
    assert len(events) == 1
    assert events[0].action == ACTION_FOR[target]
    assert events[0].actor_id == admin.id
    assert (events[0].before["status"], events[0].after["status"]) == (source, target)


def test_an_unknown_status_is_refused(app):
    offering = factories.offering(status="open")
    with pytest.raises(OfferingTransitionRefused):
        transition_offering(offering, "archived", None)
    assert offering.status == "open" and _events(offering) == []


def test_a_closed_offering_put_back_to_draft_forgets_when_it_closed(app):
    """The bug: reopening a closed offering back to draft left closed_at set."""
    admin = factories.user(role="admin")
    offering = factories.offering(status="open")
    operations.close_offering(admin, offering)
    assert offering.closed_at is not None
    values = {
        "seats": offering.seats,
        "opens_on": offering.opens_at.date(),
        "closes_on": offering.closes_at.date(),
        "course_starts_on": offering.course_starts_on.date(),
    }
    operations.update_offering(admin, offering, status="draft", **values)
    db.session.refresh(offering)
    assert offering.status == "draft"
    assert offering.closed_at is None
    assert [e.action for e in _events(offering)] == ["offering_closed", "offering_drafted"]


def test_each_edit_that_changes_the_status_writes_one_status_event(app):
    admin = factories.user(role="admin")
    offering = factories.offering(status="draft")
    values = {
        "seats": offering.seats,
        "opens_on": offering.opens_at.date(),
        "closes_on": offering.closes_at.date(),
        "course_starts_on": offering.course_starts_on.date(),
    }
    operations.update_offering(admin, offering, status="open", **values)
    operations.update_offering(admin, offering, status="closed", **values)
    operations.update_offering(admin, offering, status="closed", **values)
    assert [e.action for e in _events(offering)] == ["offering_opened", "offering_closed"]


def test_closing_twice_is_refused_with_a_message(app):
    admin = factories.user(role="admin")
    offering = factories.offering(status="open")
    operations.close_offering(admin, offering)
    with pytest.raises(OfferingTransitionRefused) as refused:
        operations.close_offering(admin, offering)
    assert "déjà fermée" in str(refused.value.message)
    assert len(_events(offering)) == 1


def test_a_new_offering_starts_as_a_draft_and_opens_through_the_workflow(app):
    admin = factories.user(role="admin")
    track, city = factories.track(), factories.city("Fès")
    values = {
        "academic_year": "2026-2027",
        "seats": 10,
        "opens_on": utcnow().date(),
        "closes_on": utcnow().date(),
        "course_starts_on": None,
    }
    offering = operations.create_offering(admin, track_id=track.id, city_id=city.id, status="open", **values)
    assert offering.status == "open" and offering.closed_at is None
    assert [e.action for e in _events(offering)] == ["offering_created", "offering_opened"]
    with pytest.raises(AdminError):
        operations.create_offering(admin, track_id=track.id, city_id=city.id, status="closed", **values)
