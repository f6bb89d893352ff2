"""The factories reach a status through the workflow, never by writing it themselves."""

from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal.applications.workflow import SeatsFull
from portal.auth.operations import notify_account_change
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories

PATHS = {
    "submitted": [None, "submitted"],
    "under_review": [None, "submitted", "under_review"],
    "accepted": [None, "submitted", "accepted"],
    "waitlisted": [None, "submitted", "waitlisted"],
    "rejected": [None, "submitted", "rejected"],
    "confirmed": [None, "submitted", "accepted", "confirmed"],
    "withdrawn": [None, "submitted", "withdrawn"],
    "expired": [None, "submitted", "accepted", "expired"],
}


@pytest.mark.parametrize("status", PATHS)
def test_an_application_has_the_history_of_the_workflow_to_its_status(app, status):
    application = factories.application(status=status)
    assert application.status == status
    history = [application.history[0].from_status] + [c.to_status for c in application.history]
    assert history == PATHS[status]
    assert application.offering.seats_held == (1 if status in ("accepted", "confirmed") else 0)
    if status in ("accepted", "waitlisted", "rejected", "confirmed", "expired"):
        assert application.decided_at is not None
    # The emails of that history are not the test's: none is left to deliver.
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_an_accepted_application_takes_a_seat_and_a_full_offering_refuses_one(app):
    offering = factories.offering(seats=2)
    factories.application(offering_=offering, status="accepted")
    factories.application(offering_=offering, status="confirmed")
    assert offering.seats_held == 2
    with pytest.raises(SeatsFull):
        factories.application(offering_=offering, status="accepted")
    db.session.refresh(offering)
    assert offering.seats_held == 2
    # A wait-listed one needs no seat.
    assert factories.application(offering_=offering, status="waitlisted").status == "waitlisted"


def test_columns_given_to_the_factory_replace_what_the_workflow_wrote(app):
    deadline = datetime(2030, 1, 2, 3, 4, 5)
    application = factories.application(status="accepted", confirmation_deadline=deadline)
    db.session.expire_all()
    assert application.confirmation_deadline == deadline


def test_queued_emails_of_the_test_survive_the_factory(app):
    applicant = factories.user()
    notify_account_change(applicant, "password")
    factories.application(applicant, status="accepted")
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 1
