"""The application workflow called directly: seats released when a person leaves, system
transitions audited, and the first StatusChange written by the workflow."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.applications import workflow
from portal.applications.models import Application, StatusChange
from portal.applications.operations import submit_application
from portal.audit import AuditEvent
from portal.auth import staff
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.timeutil import utcnow
from portal.vocabulary import ApplicationStatus
from tests import factories
from tests.samples import PDF


def _fresh(obj):
    db.session.refresh(obj)
    return obj


def _scene(status):
    """A one-seat offering: the leaving applicant in ``status`` and one wait-listed candidate."""
    offering = factories.offering(seats=1)
    leaving = factories.user(locale="en")
    held = factories.application(leaving, offering, status=status)
    other = factories.application(leaving, factories.offering(), status="submitted")
    waiting = factories.application(offering_=offering, status="waitlisted", mean_score=12.0)
    return offering, leaving, held, other, waiting


def _withdrawal(application):
    return db.session.scalars(
        select(StatusChange).where(
            StatusChange.application_id == application.id, StatusChange.to_status == "withdrawn"
        )
    ).one()


def _audit(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


@pytest.mark.parametrize("status", ["accepted", "confirmed"])
def test_deactivating_an_applicant_frees_their_seat_for_the_waitlist(app, status):
    offering, leaving, held, other, waiting = _scene(status)
    admin = factories.user(role="admin")
    staff.deactivate_user(admin, leaving)
    assert _fresh(held).status == "withdrawn"
    assert _fresh(other).status == "withdrawn"
    assert _fresh(waiting).status == "accepted"
    assert _fresh(offering).seats_held == 1
    change = _withdrawal(held)
    # The system acts, and says why in the applicant's language.
    assert change.actor_id is None
    assert change.note == "Application withdrawn: this account has been deactivated."
    assert len(_audit("application_withdrawn")) == 2
    assert [e.actor_id for e in _audit("application_promoted")] == [None]
    assert leaving.active is False


@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_making_an_applicant_staff_frees_their_seat_for_the_waitlist(app, role):
    offering, leaving, held, other, waiting = _scene("confirmed")
    admin = factories.user(role="admin")
    staff.change_role(admin, leaving, role)
    assert (_fresh(held).status, _fresh(other).status) == ("withdrawn", "withdrawn")
    assert _fresh(waiting).status == "accepted"
    assert _fresh(offering).seats_held == 1
    assert _withdrawal(held).note == "Application withdrawn: this account is no longer an applicant account."


def test_a_staff_member_made_applicant_loses_nothing(app):
    reviewer = factories.user(role="reviewer")
    staff.change_role(factories.user(role="admin"), reviewer, "applicant")
    assert reviewer.role == "applicant"
    assert _audit("application_withdrawn") == []


def test_release_leaves_final_applications_alone(app):
    applicant = factories.user()
    rejected = factories.application(applicant, status="rejected")
    assert workflow.release_applicant(applicant, "x") == []
    assert _fresh(rejected).status == "rejected"


def test_expiry_and_promotion_are_audited_with_the_system_as_actor(app):
    offering = factories.offering(seats=1)
    late = factories.application(offering_=offering, status="accepted")
    late.confirmation_deadline = utcnow() - timedelta(minutes=1)
    waiting = factories.application(offering_=offering, status="waitlisted")
    db.session.flush()
    workflow.expire_unconfirmed()
    assert (_fresh(late).status, _fresh(waiting).status) == ("expired", "accepted")
    (expired,) = _audit("application_expired")
    (promoted,) = _audit("application_promoted")
    assert (expired.actor_id, expired.object_id, expired.before, expired.after) == (
        None,
        late.reference,
        {"status": "accepted"},
        {"status": "expired"},
    )
    assert (promoted.actor_id, promoted.object_id) == (None, waiting.reference)


def test_staff_transitions_write_no_system_event(app):
    offering = factories.offering()
    reviewer = factories.reviewer(offering)
    application = factories.application(offering_=offering)
    workflow.transition(application, "accepted", reviewer)
    assert db.session.scalars(select(AuditEvent)).all() == []


def test_submission_writes_its_first_change_through_the_workflow(app, monkeypatch):
    offering = factories.offering()
    applicant = factories.user()
    calls = []
    real = workflow._record_change
    monkeypatch.setattr(workflow, "_record_change", lambda *a: calls.append(a[1:4]) or real(*a))
    application = submit_application(
        applicant,
        offering,
        {"motivation": "m" * 100, "expected_benefit": "b" * 50},
        {
            "membership": FileStorage(
                io.BytesIO(PDF), filename="attestation.pdf", content_type="application/pdf"
            )
        },
    )
    assert calls == [(None, ApplicationStatus.SUBMITTED, applicant)]
    (change,) = application.history
    assert (change.from_status, change.to_status, change.actor_id) == (None, "submitted", applicant.id)
    assert db.session.scalar(select(OutboxEmail.template).where(OutboxEmail.user_id == applicant.id)) == (
        "application_received"
    )


def test_start_refuses_an_application_already_on_its_way(app):
    application = factories.application(status="accepted")
    history = db.session.scalars(select(StatusChange.id)).all()
    with pytest.raises(workflow.NotAllowed):
        workflow.start(application, application.applicant)
    assert db.session.scalars(select(StatusChange.id)).all() == history
    assert db.session.get(Application, application.id).status == "accepted"


def test_erasing_an_account_frees_a_confirmed_seat_for_the_waitlist(app):
    from portal.privacy.operations import erase_account

    offering, leaving, held, other, waiting = _scene("confirmed")
    erase_account(leaving, factories.PASSWORD)
    assert (_fresh(held).status, _fresh(other).status) == ("withdrawn", "withdrawn")
    assert _fresh(waiting).status == "accepted"
    assert _fresh(offering).seats_held == 1
