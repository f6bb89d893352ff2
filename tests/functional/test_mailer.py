"""The Flask-Mail adapter (portal/notifications/mailer.py), through real SMTP servers on loopback."""

import asyncio
import time

import pytest
from aiosmtpd.controller import Controller

from portal.extensions import mail
from portal.notifications import mailer
from tests.conftest import free_port

# Long enough for the email package to fold it: without the adapter's encoding it arrived
# as "... Gestion ad ministrative et financière a été acceptée".
SUBJECT = "Rabat : votre candidature APP-2026-000123 au parcours Gestion administrative et financière a été acceptée"
SENDER = ("Portail Formation Associations", "no-reply@formation-associations.ma")


def _message(subject=SUBJECT, message_id="<outbox-1@formation-associations.ma>"):
    return mailer.message(subject, "amina@example.org", "Bonjour", "<p>Bonjour</p>", SENDER, message_id)


class StalledHandler:
    """An SMTP server that accepts the message's data and then stays silent for a while."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.received = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        await asyncio.sleep(self.seconds)
        self.received += 1
        return "250 OK"


@pytest.fixture
def point_mail_at(app):
    """Point Flask-Mail at another port for one test; the test server's is restored after."""
    saved = app.config["MAIL_PORT"]

    def change(port):
        app.config["MAIL_PORT"] = port
        mail.init_app(app)

    yield change
    change(saved)


@pytest.mark.parametrize(
    "subject",
    [
        SUBJECT,
        "Bonne nouvelle : votre candidature APP-2026-000123 au parcours Gestion administrative et financière a été acceptée",
        "لقد تم قبول طلبك APP-2026-000123 " * 3,
        "Plain ASCII subject",
    ],
)
def test_a_long_subject_arrives_word_for_word(app, smtp_server, subject):
    with mailer.SMTPSender() as sender:
        sender.send(_message(subject))
    (received,) = smtp_server.wait_for(1)
    assert received["Subject"] == subject
    assert received["Message-ID"] == "<outbox-1@formation-associations.ma>"
    assert received["From"].addresses[0].display_name == SENDER[0]
    assert received["To"] == "amina@example.org"


def test_an_ascii_subject_is_left_unencoded():
    assert mailer.encoded_subject("Hello") == "Hello"
    assert "=?utf-8?" in mailer.encoded_subject("Acceptée")


def test_a_line_break_in_a_header_is_refused(app):
    with pytest.raises(mailer.BadHeaderError):
        mailer.message(
            "Hi", "a@example.org", "x", None, ("Evil\r\nBcc: x@example.org", "a@example.org"), "<1@x>"
        )


def test_one_connection_serves_several_messages(app, smtp_server):
    with mailer.SMTPSender() as sender:
        sender.send(_message(message_id="<a@x>"))
        first = sender.connection
        sender.send(_message(message_id="<b@x>"))
        assert sender.connection is first
    assert sender.connection is None
    assert len(smtp_server.wait_for(2)) == 2


def test_a_stalled_server_is_given_up_after_mail_timeout(app, point_mail_at):
    handler = StalledHandler(seconds=4)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        point_mail_at(port)
        app.config["MAIL_TIMEOUT"] = 0.5
        started = time.monotonic()
        sender = mailer.SMTPSender()
        with pytest.raises(OSError):  # TimeoutError, or the connection dropped on the way
            sender.send(_message())
        # Without the adapter's timeout, Flask-Mail waits for the server's answer (4 s here).
        assert time.monotonic() - started < 2
        assert sender.connection is None  # the half-done session is dropped, not reused
    finally:
        controller.stop()


def test_after_a_failure_the_next_message_opens_a_new_connection(app, smtp_server, point_mail_at):
    sender = mailer.SMTPSender()
    point_mail_at(free_port())  # nothing listens there
    with pytest.raises(OSError):
        sender.send(_message())
    point_mail_at(smtp_server.port)
    sender.send(_message())
    sender.close()
    assert len(smtp_server.wait_for(1)) == 1
