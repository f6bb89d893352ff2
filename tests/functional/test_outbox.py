"""Outbox delivery on a real SMTP server: commands, concurrency, retries, files, headers."""

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.applications import workflow
from portal.applications.models import Application
from portal.auth.operations import send_confirmation
from portal.auth.passwords import hash_password
from portal.extensions import db, mail
from portal.notifications.delivery import claim, send_due
from portal.notifications.models import OutboxEmail
from portal.notifications.outbox import enqueue, enqueue_to_user
from portal.vocabulary import ApplicationStatus
from tests import factories
from tests.helpers import find_link, free_port, message_html, message_text
from tests.security import formdata

T0 = datetime(2026, 10, 1, 9, 0, 0)
DOMAIN = "formation-associations.ma"


def _row(n=0, **kw):
    """An outbox row written directly, as enqueue would, ready to send now."""
    data = {
        "to_address": f"person{n}@example.org",
        "template": "test",
        "locale": "fr",
        "subject": f"Message {n}",
        "body_text": f"Bonjour {n}",
        "body_html": f"<p>Bonjour {n}</p>",
    }
    data.update(kw)
    email = OutboxEmail(**data)
    db.session.add(email)
    db.session.flush()
    return email


def _rows():
    db.session.expire_all()
    return db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def _get(email_id):
    db.session.expire_all()
    return db.session.get(OutboxEmail, email_id)


@pytest.fixture
def mail_settings(app):
    """Change Flask-Mail settings for one test (``mail_settings(MAIL_PORT=...)``); restored after."""
    saved = {key: app.config[key] for key in ("MAIL_PORT", "MAIL_USE_SSL", "MAIL_USE_TLS")}

    def change(**settings):
        app.config.update(settings)
        mail.init_app(app)

    yield change
    change(**saved)


@pytest.fixture
def smtp_unreachable(mail_settings):
    """Point Flask-Mail at a closed port (the test may point it back)."""
    mail_settings(MAIL_PORT=free_port())


def test_send_command_delivers_due_rows_with_a_stable_message_id(app, runner, smtp_server, clock):
    clock.set(T0)
    due = [_row(1), _row(2)]
    later = _row(3, next_attempt_at=T0 + timedelta(hours=1))
    db.session.commit()
    ids = [e.id for e in due]

    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "2 sent" in result.output

    messages = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["person1@example.org", "person2@example.org"]
    assert sorted(m["Message-ID"] for m in messages) == sorted(f"<outbox-{i}@{DOMAIN}>" for i in ids)
    rows = {e.id: e for e in _rows()}
    for i in ids:
        assert rows[i].status == "sent" and rows[i].sent_at == T0 and rows[i].attempts == 1
    assert rows[later.id].status == "pending" and rows[later.id].sent_at is None

    # Nothing is sent twice.
    result = runner.invoke(args=["outbox", "send"])
    assert "0 sent" in result.output
    assert len(smtp_server.wait_for(3, timeout=0.3)) == 2


@pytest.mark.parametrize("batch_size", [7, 50])
def test_two_workers_send_100_emails_exactly_once(app, smtp_server, batch_size):
    for n in range(100):
        _row(n)
    db.session.commit()
    start = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                start.wait()
                results.append(send_due(batch_size))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert sum(sent for sent, _ in results) == 100
    assert sum(failed for _, failed in results) == 0
    messages = smtp_server.wait_for(100)
    assert len(smtp_server.wait_for(101, timeout=0.3)) == 100
    assert len({m["Message-ID"] for m in messages}) == 100
    assert len({m["To"] for m in messages}) == 100
    rows = _rows()
    assert {e.status for e in rows} == {"sent"}
    assert {e.attempts for e in rows} == {1}


def test_claim_hands_a_row_to_one_worker_only(app):
    for n in range(5):
        _row(n)
    db.session.commit()
    first = [e.id for e in claim(3)]
    db.session.commit()
    second = [e.id for e in claim(3)]
    db.session.commit()
    assert len(first) == 3 and len(second) == 2
    assert not set(first) & set(second)
    assert claim(3) == []


def test_smtp_refusing_keeps_rows_pending_with_backoff_then_failed(app, smtp_server, clock):
    app.config.update(OUTBOX_MAX_ATTEMPTS=3, OUTBOX_BACKOFF_SECONDS=60, OUTBOX_BACKOFF_CAP_SECONDS=100)
    clock.set(T0)
    email_id = _row(1).id
    db.session.commit()
    smtp_server.refuse = True

    assert send_due() == (0, 1)
    email = _get(email_id)
    assert email.status == "pending" and email.attempts == 1
    assert "451" in email.last_error
    assert email.next_attempt_at == T0 + timedelta(seconds=60)

    # Not due yet: nothing is tried.
    clock.set(T0 + timedelta(seconds=59))
    assert send_due() == (0, 0)

    clock.set(T0 + timedelta(seconds=61))
    assert send_due() == (0, 1)
    email = _get(email_id)
    assert email.attempts == 2
    # 60 * 2 = 120 seconds, capped at 100.
    assert email.next_attempt_at == T0 + timedelta(seconds=61 + 100)

    clock.set(T0 + timedelta(seconds=200))
    assert send_due() == (0, 1)
    email = _get(email_id)
    assert email.status == "failed" and email.attempts == 3

    smtp_server.refuse = False
    clock.set(T0 + timedelta(days=1))
    assert send_due() == (0, 0)
    assert smtp_server.wait_for(1, timeout=0.3) == []


def test_server_down_then_back_sends_once_with_the_same_message_id(app, smtp_server, smtp_unreachable, clock):
    clock.set(T0)
    email_id = _row(1).id
    db.session.commit()

    assert send_due() == (0, 1)
    email = _get(email_id)
    assert email.status == "pending" and email.attempts == 1
    assert "Connection" in email.last_error or "refused" in email.last_error.lower()
    assert email.next_attempt_at > T0

    # The server is back; the row waits for its next attempt time, then goes out once.
    app.config["MAIL_PORT"] = smtp_server.port
    mail.init_app(app)
    assert send_due() == (0, 0)
    clock.set(email.next_attempt_at)
    assert send_due() == (1, 0)
    assert send_due() == (0, 0)
    messages = smtp_server.wait_for(2, timeout=0.5)
    assert len(messages) == 1
    assert messages[0]["Message-ID"] == f"<outbox-{email_id}@{DOMAIN}>"
    email = _get(email_id)
    assert email.status == "sent" and email.attempts == 2 and email.sent_at == T0 + timedelta(seconds=1)


def test_a_decision_succeeds_while_smtp_is_down_and_the_email_goes_out_later(app, smtp_server, clock):
    clock.set(T0)
    offering = factories.offering(seats=2)
    reviewer = factories.reviewer(offering)
    application = factories.application(offering_=offering, status="under_review")
    reference, address = application.reference, application.applicant.email
    smtp_server.refuse = True

    workflow.transition(application, ApplicationStatus.ACCEPTED, reviewer, note="Bienvenue")
    db.session.commit()
    assert send_due() == (0, 1)
    db.session.expire_all()
    assert (
        db.session.scalar(select(Application.status).where(Application.reference == reference)) == "accepted"
    )
    [email] = _rows()
    assert email.status == "pending" and email.template == "status_accepted"

    smtp_server.refuse = False
    clock.set(T0 + timedelta(minutes=5))
    assert send_due() == (1, 0)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == address and reference in message["Subject"]
    assert "Bienvenue" in message_text(message)


def _assert_no_injected_header(message):
    assert message["Bcc"] is None
    assert message.get_all("Subject") and len(message.get_all("Subject")) == 1
    assert len(message.get_all("To")) == 1
    for name, value in message.items():
        if name != "Subject":
            assert "evil" not in str(value), (name, value)


def test_line_breaks_in_user_data_never_add_a_header(app, smtp_server):
    track = factories.track(title_fr="Gestion\r\nBcc: evil@example.org")
    offering = factories.offering(track=track)
    applicant = factories.user(profile={"first_name": "X\r\nBcc: evil@example.org"})
    email = enqueue_to_user(applicant, "interest_opened", offering=offering)
    assert "\n" not in email.subject and "\r" not in email.subject
    # A row written by some other path, with a raw line break in its subject.
    _row(2, subject="Bonjour\r\nBcc: evil@example.org\r\nX-Evil: 1")
    db.session.commit()

    assert send_due() == (2, 0)
    messages = smtp_server.wait_for(2)
    assert len(messages) == 2
    for message in messages:
        _assert_no_injected_header(message)
        assert message["X-Evil"] is None
        assert "Bcc: evil@example.org" in message["Subject"]
    assert smtp_server.to("evil@example.org") == []


@pytest.mark.parametrize(
    "address",
    [
        "victim@example.org\r\nBcc: evil@example.org",
        "victim@example.org\nevil@example.org",
        "victim@example.org, evil@example.org",
        "Victim <evil@example.org>",
        "",
    ],
)
def test_a_bad_recipient_fails_at_once_without_sending(app, smtp_server, address):
    email = enqueue(address, "status_accepted", "fr", **_accepted_context())
    good = _row(2)
    db.session.commit()
    bad_id, good_id = email.id, good.id

    assert send_due() == (1, 1)
    bad = _get(bad_id)
    assert bad.status == "failed" and bad.attempts == 1 and "recipient" in bad.last_error
    assert _get(good_id).status == "sent"
    messages = smtp_server.wait_for(2, timeout=0.3)
    assert [m["To"] for m in messages] == ["person2@example.org"]


def _accepted_context():
    application = factories.application(status="accepted")
    return {"user": application.applicant, "application": application}


def test_a_broken_smtp_setting_is_recorded_and_the_worker_goes_on(
    app, smtp_server, clock, runner, mail_settings
):
    clock.set(T0)
    mail_settings(MAIL_USE_SSL=True)  # TLS spoken to a plain SMTP server: every attempt fails
    ids = [_row(1).id, _row(2).id]
    db.session.commit()

    result = runner.invoke(args=["outbox", "worker", "--iterations", "1", "--interval", "0"])
    assert result.exit_code == 0, result.output
    for email_id in ids:
        email = _get(email_id)
        assert email.status == "pending" and email.attempts == 1 and email.last_error
        assert email.next_attempt_at > T0
    assert smtp_server.wait_for(1, timeout=0.3) == []

    # Setting fixed: the next pass delivers both once they are due.
    mail_settings(MAIL_USE_SSL=False)
    clock.set(T0 + timedelta(hours=1))
    result = runner.invoke(args=["outbox", "worker", "--iterations", "1", "--interval", "0"])
    assert result.exit_code == 0, result.output
    assert sorted(m["To"] for m in smtp_server.wait_for(2)) == ["person1@example.org", "person2@example.org"]


def test_a_bad_header_error_is_recorded_instead_of_raised(app, smtp_server):
    app.config["MAIL_DEFAULT_SENDER"] = "Portail <no-reply@example.org>\r\nBcc: evil@example.org"
    email = _row(1)
    db.session.commit()
    email_id = email.id

    assert send_due() == (0, 1)
    email = _get(email_id)
    assert email.status == "pending" and email.attempts == 1
    assert "BadHeader" in email.last_error
    assert smtp_server.wait_for(1, timeout=0.3) == []


def test_without_mail_server_messages_are_written_as_eml_files(app, smtp_server, runner):
    app.config["MAIL_SERVER"] = None
    application = factories.application(status="accepted")
    email = enqueue_to_user(application.applicant, "status_accepted", application=application)
    db.session.commit()
    email_id, subject = email.id, email.subject

    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output

    from pathlib import Path

    files = list(Path(app.config["MAIL_FILE_FOLDER"]).glob("*.eml"))
    assert len(files) == 1
    import email as email_lib
    import email.policy

    message = email_lib.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["Subject"] == subject
    assert message["Message-ID"] == f"<outbox-{email_id}@{DOMAIN}>"
    assert "/me/applications/APP-" in message.get_body(preferencelist=("plain",)).get_content()
    assert _get(email_id).status == "sent"
    assert smtp_server.wait_for(1, timeout=0.3) == []


def test_a_stale_claim_is_taken_over_but_a_fresh_one_is_not(app, smtp_server, clock):
    clock.set(T0)
    timeout = app.config["OUTBOX_CLAIM_TIMEOUT_SECONDS"]
    stale = _row(
        1, status="sending", claim_token="dead-worker", claimed_at=T0 - timedelta(seconds=timeout + 1)
    )
    fresh = _row(2, status="sending", claim_token="busy-worker", claimed_at=T0 - timedelta(seconds=10))
    db.session.commit()
    stale_id, fresh_id = stale.id, fresh.id

    assert send_due() == (1, 0)
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["person1@example.org"]
    assert _get(stale_id).status == "sent"
    fresh = _get(fresh_id)
    assert fresh.status == "sending" and fresh.claim_token == "busy-worker"


def test_worker_command_runs_one_pass_sending_and_expiring(app, runner, smtp_server, clock):
    clock.set(T0)
    _row(1)
    application = factories.application(status="accepted", confirmation_deadline=T0 - timedelta(minutes=1))
    reference, address = application.reference, application.applicant.email
    db.session.commit()

    result = runner.invoke(args=["outbox", "worker", "--iterations", "1", "--interval", "0"])
    assert result.exit_code == 0, result.output

    db.session.expire_all()
    assert (
        db.session.scalar(select(Application.status).where(Application.reference == reference)) == "expired"
    )
    messages = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in messages) == sorted(["person1@example.org", address])
    [expired] = smtp_server.to(address)
    assert reference in expired["Subject"]
    assert (
        db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status != "sent"))
        == 0
    )


# Messages with a secret link: rendered when sent, never stored -----------------------------


def _stored_text():
    """Everything the outbox table holds, row by row, as one string per row."""
    return [
        " ".join(str(getattr(e, column.key)) for column in OutboxEmail.__table__.columns) for e in _rows()
    ]


def _secret(link):
    """The token part of a link (its last path segment)."""
    return link.rstrip("/").rsplit("/", 1)[1]


def test_links_with_a_token_reach_the_recipient_but_are_never_stored(app, smtp_server):
    """Confirmation, reset and invitation: the database never holds a usable link."""
    client = app.test_client()
    city = factories.city()
    admin = factories.user(role="admin", email="admin@ofppt.ma")
    factories.user(email="known@example.org")
    db.session.commit()
    assert client.post("/auth/register", data=formdata.registration(city)).status_code == 302
    assert client.post("/auth/forgot", data={"email": "known@example.org"}).status_code == 302
    staff = app.test_client()
    assert factories.login(staff, admin).status_code == 302
    response = staff.post("/admin/users/invite", data={"email": "new.reviewer@ofppt.ma", "role": "reviewer"})
    assert response.status_code == 302
    # Before delivery, nothing to use either.
    assert all(
        "/auth/confirm/" not in row and "/auth/reset/" not in row and "/admin/invite/" not in row
        for row in _stored_text()
    )

    assert send_due() == (3, 0)
    messages = {m["To"]: m for m in smtp_server.wait_for(3)}
    expected = [
        ("amina.new@example.org", "/auth/confirm/"),
        ("known@example.org", "/auth/reset/"),
        ("new.reviewer@ofppt.ma", "/admin/invite/"),
    ]
    links = [find_link(messages[to], path) for to, path in expected]
    for (to, _), link in zip(expected, links, strict=True):
        assert _secret(link) in message_html(messages[to])
    stored = " ".join(_stored_text())
    for link in links:
        assert _secret(link) not in stored
    rows = _rows()
    assert {e.status for e in rows} == {"sent"}
    assert {e.body_text for e in rows} == {""} and {e.body_html for e in rows} == {""}
    # The rows say what was sent, to whom, in which language: the admin page lists them.
    assert sorted(e.subject for e in rows) == [
        "Choisissez un nouveau mot de passe",
        "Confirmez votre adresse email",
        "Invitation au portail de formation des acteurs associatifs",
    ]
    assert all(e.user_id is not None for e in rows)
    page = staff.get("/admin/outbox?status=sent").get_data(as_text=True)
    assert "Confirmez votre adresse email" in page and "new.reviewer@ofppt.ma" in page
    # The links work.
    assert app.test_client().get(links[0]).status_code == 200
    assert app.test_client().get(links[1]).status_code == 200
    assert app.test_client().get(links[2]).status_code == 200


def test_the_data_export_lists_a_confirmation_email_without_its_link(app, smtp_server):
    client = app.test_client()
    city = factories.city()
    db.session.commit()
    client.post("/auth/register", data=formdata.registration(city))
    assert send_due() == (1, 0)
    link = find_link(smtp_server.wait_for(1)[0], "/auth/confirm/")
    assert client.post(link).status_code == 302  # confirmed and logged in
    export = client.get("/me/data.json")
    assert export.status_code == 200
    [email] = export.get_json()["emails"]
    assert email["subject"] == "Confirmez votre adresse email" and email["status"] == "sent"
    assert _secret(link) not in export.get_data(as_text=True)


def test_a_row_for_an_address_without_account_is_dropped_without_a_trace(app, smtp_server, caplog):
    app.test_client().post("/auth/forgot", data={"email": "nobody@example.org"})
    app.test_client().post("/auth/confirm/resend", data={"email": "nobody@example.org"})
    assert len(_rows()) == 2
    with caplog.at_level("INFO"):
        assert send_due() == (0, 0)
    assert _rows() == []
    assert smtp_server.wait_for(1, timeout=0.3) == []
    assert "nobody" not in caplog.text


def test_rendered_at_send_time_for_the_account_as_it_is_then(app, smtp_server):
    """A link asked for before a change is made after it: a reset link still works, a
    confirmation for an address confirmed since is not sent, and one queued for an account
    that gave its address up is not sent to whoever has the address now."""
    reset = factories.user(email="reset@example.org", locale="ar")
    confirmed = factories.user(email="confirmed@example.org", email_confirmed_at=None)
    moved = factories.user(email="moved@example.org", email_confirmed_at=None)
    db.session.commit()
    client = app.test_client()
    client.post("/auth/forgot", data={"email": "reset@example.org"})
    client.post("/auth/confirm/resend", data={"email": "confirmed@example.org"})
    send_confirmation(moved)
    reset.password_hash = hash_password("un autre mot de passe ici")
    confirmed.email_confirmed_at = T0
    moved.email = "elsewhere@example.org"
    factories.user(email="moved@example.org", email_confirmed_at=None)
    db.session.commit()

    assert send_due() == (1, 0)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "reset@example.org"
    # In the account's language, with a link made after the password change.
    assert "كلمة" in message["Subject"]
    assert app.test_client().get(find_link(message, "/auth/reset/")).status_code == 200
    assert [e.to_address for e in _rows()] == ["reset@example.org"]


def test_a_failed_attempt_renders_a_fresh_message_next_time(app, smtp_server, clock):
    clock.set(T0)
    factories.user(email="known@example.org")
    db.session.commit()
    app.test_client().post("/auth/forgot", data={"email": "known@example.org"})
    smtp_server.refuse = True
    assert send_due() == (0, 1)
    [email] = _rows()
    assert email.status == "pending" and email.body_text == "" and email.subject
    smtp_server.refuse = False
    clock.set(T0 + timedelta(minutes=5))
    assert send_due() == (1, 0)
    [message] = smtp_server.wait_for(1)
    assert app.test_client().get(find_link(message, "/auth/reset/")).status_code == 200


def test_a_message_with_a_secret_link_cannot_be_rendered_when_queued(app):
    user = factories.user()
    with pytest.raises(ValueError, match="enqueue_at_send"):
        enqueue_to_user(user, "reset_password", link="http://portal.test/auth/reset/x")
