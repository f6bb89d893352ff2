"""``flask --app portal worker``: the background loop (workflow tick, then the outbox)."""

from datetime import datetime, timedelta

from sqlalchemy import select

from portal.applications import workflow
from portal.applications.models import Application
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories

T0 = datetime(2026, 10, 1, 9, 0, 0)


def _due_email(address="someone@example.org"):
    email = OutboxEmail(
        to_address=address,
        template="test",
        locale="fr",
        subject="Bonjour",
        body_text="Bonjour",
        body_html="<p>Bonjour</p>",
    )
    db.session.add(email)
    db.session.flush()
    return email


def _status(reference):
    db.session.expire_all()
    return db.session.scalar(select(Application.status).where(Application.reference == reference))


def test_worker_expires_unconfirmed_seats_and_sends_their_emails_in_one_pass(app, runner, smtp_server, clock):
    clock.set(T0)
    _due_email()
    application = factories.application(status="accepted", confirmation_deadline=T0 - timedelta(minutes=1))
    reference, address = application.reference, application.applicant.email
    db.session.commit()

    result = runner.invoke(args=["worker", "--iterations", "1", "--interval", "0"])
    assert result.exit_code == 0, result.output
    assert "expiring unconfirmed seats and sending emails" in result.output

    assert _status(reference) == "expired"
    messages = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in messages) == sorted(["someone@example.org", address])


def test_a_failing_tick_does_not_stop_the_emails(app, runner, smtp_server, clock, monkeypatch):
    clock.set(T0)
    _due_email()
    db.session.commit()

    def broken():
        raise RuntimeError("tick failed")

    monkeypatch.setattr(workflow, "expire_unconfirmed", broken)
    result = runner.invoke(args=["worker", "--iterations", "2", "--interval", "0"])
    assert result.exit_code == 0, result.output
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["someone@example.org"]


def test_one_shot_commands_do_one_step_each(app, runner, smtp_server, clock):
    clock.set(T0)
    _due_email()
    application = factories.application(status="accepted", confirmation_deadline=T0 - timedelta(minutes=1))
    reference = application.reference
    db.session.commit()

    tick = runner.invoke(args=["workflow", "tick"])
    assert tick.exit_code == 0 and "1 seats expired" in tick.output
    assert _status(reference) == "expired"
    assert smtp_server.wait_for(1, timeout=0.3) == []  # the tick sends nothing itself

    sent = runner.invoke(args=["outbox", "send"])
    assert sent.exit_code == 0 and "2 sent" in sent.output
    assert len(smtp_server.wait_for(2)) == 2
