"""Seats after a decision: confirmation deadline, expiry, waitlist promotion (frozen clock)."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.applications.models import Application, StatusChange
from portal.applications.workflow import promote_waitlist, waitlist_rank
from portal.catalog.models import Offering
from portal.extensions import db
from tests import factories
from tests.helpers import message_text

T0 = datetime(2026, 5, 4, 9, 0)


def fresh(application):
    db.session.expire_all()
    return db.session.get(Application, application.id)


def waitlisted(offering, score, minutes):
    """A wait-listed application with ``score`` submitted ``minutes`` after T0 - 30 days."""
    return factories.application(
        offering_=offering,
        status="waitlisted",
        mean_score=score,
        submitted_at=T0 - timedelta(days=30) + timedelta(minutes=minutes),
    )


@pytest.fixture
def full_offering(app, clock):
    """One seat, a reviewer, an application under review and a waitlist of four."""
    clock.set(T0)
    offering = factories.offering(seats=1)
    reviewer = factories.reviewer(offering)
    candidate = factories.application(offering_=offering, status="under_review", mean_score=13.0)
    waitlist = [
        waitlisted(offering, 10.0, 1),
        waitlisted(offering, 12.0, 5),  # best score, earliest among the 12s → first
        waitlisted(offering, 12.0, 9),
        waitlisted(offering, None, 0),  # unscored → last, whatever its date
    ]
    db.session.commit()
    return offering, reviewer, candidate, waitlist


def test_waitlist_rank_is_mean_score_then_submission_time(full_offering):
    _, _, _, waitlist = full_offering
    assert [waitlist_rank(w) for w in waitlist] == [3, 1, 2, 4]


def test_unconfirmed_seat_expires_on_tick_and_the_best_waitlisted_is_promoted_and_emailed(
    full_offering, client, runner, clock, deliver, smtp_server
):
    offering, reviewer, candidate, waitlist = full_offering
    factories.login(client, reviewer)
    client.post(
        f"/review/applications/{candidate.reference}/decide",
        data={"decision": "accepted", "version": str(candidate.version)},
    )
    candidate = fresh(candidate)
    assert candidate.status == "accepted"
    assert candidate.confirmation_deadline == T0 + timedelta(days=7)
    candidate_email = candidate.applicant.email
    promoted_email = waitlist[1].applicant.email

    # The day before the deadline nothing happens.
    clock.set(T0 + timedelta(days=6, hours=23))
    result = runner.invoke(args=["workflow", "tick"])
    assert result.exit_code == 0, result.output
    assert fresh(candidate).status == "accepted"

    # Past the deadline: expired, the seat goes to the best wait-listed candidate.
    clock.set(T0 + timedelta(days=7, minutes=1))
    result = runner.invoke(args=["workflow", "tick"])
    assert result.exit_code == 0, result.output
    assert "1 seats expired" in result.output
    assert fresh(candidate).status == "expired"
    assert [fresh(w).status for w in waitlist] == ["waitlisted", "accepted", "waitlisted", "waitlisted"]
    promoted = fresh(waitlist[1])
    assert promoted.confirmation_deadline == T0 + timedelta(days=14, minutes=1)
    assert db.session.get(Offering, offering.id).seats_held == 1
    last = db.session.scalars(
        select(StatusChange).where(StatusChange.application_id == promoted.id).order_by(StatusChange.id)
    ).all()
    # Submitted and wait-listed by the factory, then promoted by the system.
    assert [(c.from_status, c.to_status, c.actor_id) for c in last] == [
        (None, "submitted", promoted.applicant_id),
        ("submitted", "waitlisted", None),
        ("waitlisted", "accepted", None),
    ]
    # A second tick has nothing left to do.
    assert "0 seats expired" in runner.invoke(args=["workflow", "tick"]).output
    promoted_ref = promoted.reference

    deliver()
    smtp_server.wait_for(3)
    subjects = [m["Subject"] for m in smtp_server.to(candidate_email)]
    assert len(subjects) == 2 and any("Bonne nouvelle" in s for s in subjects)
    assert any("pas été confirmée à temps" in s for s in subjects), subjects
    [promoted_mail] = smtp_server.to(promoted_email)
    assert "Une place s'est libérée" in promoted_mail["Subject"]
    assert f"/me/applications/{promoted_ref}" in message_text(promoted_mail)


def test_confirmation_before_the_deadline_holds_the_seat_after_it_is_refused(full_offering, app, clock):
    offering, _, _, waitlist = full_offering
    early = factories.application(offering_=offering, status="under_review")
    db.session.commit()
    # Free seat: make one accepted (through the workflow) and confirm it in time.
    from portal.applications.workflow import transition

    offering.seats = 3
    transition(early, "accepted", None)
    late = waitlist[0]
    transition(late, "accepted", None)
    db.session.commit()
    early_client, late_client = app.test_client(), app.test_client()
    factories.login(early_client, early.applicant)
    factories.login(late_client, late.applicant)

    clock.set(T0 + timedelta(days=6))
    early_client.post(f"/me/applications/{early.reference}/confirm")
    assert fresh(early).status == "confirmed"

    clock.set(T0 + timedelta(days=8))
    refused = late_client.post(f"/me/applications/{late.reference}/confirm", follow_redirects=True)
    assert refused.status_code == 200
    assert "délai de confirmation" in refused.text
    assert fresh(late).status == "accepted"
    # The tick expires it now, and the confirmed seat stays.
    from portal.applications.workflow import expire_unconfirmed

    assert [a.reference for a in expire_unconfirmed()] == [late.reference]
    db.session.commit()
    assert fresh(early).status == "confirmed"


def test_withdrawing_a_confirmed_seat_promotes_the_next(full_offering, app, deliver, smtp_server):
    offering, _, candidate, waitlist = full_offering
    holder = factories.application(offering_=offering, status="confirmed")
    db.session.commit()
    holder_email, next_email = holder.applicant.email, waitlist[1].applicant.email
    client = app.test_client()
    factories.login(client, holder.applicant)
    response = client.post(f"/me/applications/{holder.reference}/withdraw")
    assert response.status_code == 302
    assert fresh(holder).status == "withdrawn"
    assert [fresh(w).status for w in waitlist] == ["waitlisted", "accepted", "waitlisted", "waitlisted"]
    assert db.session.get(Offering, offering.id).seats_held == 1
    deliver()
    smtp_server.wait_for(2)
    assert "retirée" in smtp_server.to(holder_email)[0]["Subject"]
    assert "Une place s'est libérée" in smtp_server.to(next_email)[0]["Subject"]


def test_raising_the_seats_promotes_the_waitlist_best_first(full_offering, deliver, smtp_server):
    offering, _, _, waitlist = full_offering
    factories.application(offering_=offering, status="confirmed")
    db.session.commit()
    offering.seats = 3
    promoted = promote_waitlist(offering)
    db.session.commit()
    assert [a.id for a in promoted] == [waitlist[1].id, waitlist[2].id]
    assert [fresh(w).status for w in waitlist] == ["waitlisted", "accepted", "accepted", "waitlisted"]
    assert db.session.get(Offering, offering.id).seats_held == 3
    # Nothing more to promote once full.
    assert promote_waitlist(db.session.get(Offering, offering.id)) == []
    deliver()
    assert len(smtp_server.wait_for(2)) == 2
    assert all("Une place s'est libérée" in m["Subject"] for m in smtp_server.messages)


def test_expiry_without_waitlist_frees_the_seat(app, clock, runner):
    clock.set(T0)
    offering = factories.offering(seats=2)
    accepted = factories.application(
        offering_=offering, status="accepted", confirmation_deadline=T0 + timedelta(days=7)
    )
    db.session.commit()
    clock.set(T0 + timedelta(days=8))
    assert runner.invoke(args=["workflow", "tick"]).exit_code == 0
    assert fresh(accepted).status == "expired"
    assert db.session.get(Offering, offering.id).seats_held == 0
