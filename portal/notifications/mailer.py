"""Flask-Mail, as the portal uses it: the one module that talks to it.

Flask-Mail (0.10, the product's chosen mail library) builds and sends the messages; two
of its gaps are filled here and nowhere else:

1. **Subject encoding.** Flask-Mail leaves a non-ASCII subject to the ``email`` package,
   whose refolding of long headers cuts a word next to an encoded accent
   (``accept =?utf-8?q?=C3=A9e?=``), which mail clients show as "accept ée" or glue to the
   next word. ``message()`` encodes such a subject itself as RFC 2047 encoded words, folded
   on whole characters; ASCII subjects are left as they are.
2. **Connection timeout.** Flask-Mail opens ``smtplib.SMTP`` without a timeout, so a
   server that accepts the connection and then stalls would hang a worker for ever.
   ``SMTPSender`` opens it with ``MAIL_TIMEOUT`` seconds (every read and write of the
   session is bounded by it), and closes it cleanly.

Should a Flask-Mail release fix either, the matching part of this module is the only
code to remove. The outbox (``delivery.py``) uses ``message()`` and ``SMTPSender`` and
never imports Flask-Mail itself.
"""

import smtplib
import socket
from email.header import Header

from flask import current_app
from flask_mail import BadHeaderError, Connection, Message

__all__ = ["BadHeaderError", "Message", "SMTPSender", "encoded_subject", "message"]


def encoded_subject(subject):
    """``subject`` ready for the header: ASCII as is, anything else as RFC 2047 encoded words."""
    if subject.isascii():
        return subject
    return Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")


def message(subject, recipient, text, html, sender, message_id):
    """A Flask-Mail message to one ``recipient``, its subject encoded (see the module's doc).

    ``sender`` is an address or a ``(display name, address)`` pair; ``message_id`` the
    Message-ID header, kept identical across retries. Raises ``BadHeaderError`` when a
    header would carry a line break.
    """
    msg = Message(
        subject=encoded_subject(subject),
        recipients=[recipient],
        body=text,
        html=html,
        sender=sender,
    )
    msg.msgId = message_id
    if msg.has_bad_headers():
        raise BadHeaderError("line break in a header")
    return msg


class _TimedConnection(Connection):
    """Flask-Mail's connection, opened with ``MAIL_TIMEOUT`` (Flask-Mail sets none)."""

    def configure_host(self):
        """Open (and log in to) the SMTP server, every socket operation bounded in time."""
        state = self.mail
        timeout = current_app.config.get("MAIL_TIMEOUT") or socket.getdefaulttimeout()
        smtp_class = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp_class(state.server, state.port, timeout=timeout)
        try:
            host.set_debuglevel(int(state.debug))
            if state.use_tls:
                host.starttls()
            if state.username and state.password:
                host.login(state.username, state.password)
        except BaseException:
            host.close()
            raise
        return host


class SMTPSender:
    """Sends messages over one SMTP connection, opened on first use, reopened after an error.

    Use ``send()`` for each message and ``close()`` at the end (or ``with SMTPSender() as
    sender``). The server is the configured one (``MAIL_SERVER``, ``MAIL_PORT``...).
    """

    def __init__(self):
        self.connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, msg):
        """Send one message; raises on failure (and drops the connection)."""
        try:
            if self.connection is None:
                self.connection = _TimedConnection(current_app.extensions["mail"]).__enter__()
            self.connection.send(msg)
        except BaseException:
            # The session may be half-way through a command: start afresh next time.
            self.close()
            raise

    def close(self):
        """Say goodbye to the SMTP server, ignoring a connection that is already gone."""
        connection, self.connection = self.connection, None
        if connection is None or connection.host is None:
            return
        try:
            connection.host.quit()
        except (smtplib.SMTPException, OSError):
            connection.host.close()
