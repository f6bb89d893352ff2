"""Delivering the outbox: claim due rows atomically, send them, record the outcome.

Several workers may run at once, on several machines. A worker claims a batch with one
conditional UPDATE (on PostgreSQL its subquery uses ``FOR UPDATE SKIP LOCKED``; on
SQLite the worker's transactions start with ``BEGIN IMMEDIATE``), so a row is handed to
one worker only. No transaction stays open while talking to the SMTP server: the batch
is read and its messages built, the transaction ends, then each message is sent and its
outcome written in a short transaction of its own, conditioned on the claim.

A failed attempt is retried with exponential backoff, capped, and the row is marked
failed after OUTBOX_MAX_ATTEMPTS; a row that no retry can fix (bad address, a header
that would break the message) is marked failed at once. A claim whose worker died is
taken over after OUTBOX_CLAIM_TIMEOUT_SECONDS; every attempt of a row carries the same
Message-ID, so a message sent twice in that rare case is recognisable as one.

A row queued with ``enqueue_at_send`` is rendered here, when claimed, for the account its
address belongs to then (with a fresh link); its body is sent but never stored. When no
account should receive it, the row is deleted without sending anything, so the address
typed by a visitor does not stay behind.
"""

import logging
import os
import re
import secrets
import smtplib
import time
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select, update

from portal.audit import record
from portal.extensions import db
from portal.i18n import force_locale
from portal.i18n import lazy_gettext as _l
from portal.notifications import mailer
from portal.notifications.mailer import BadHeaderError
from portal.notifications.models import OutboxEmail
from portal.notifications.outbox import preparer, render_email, single_line
from portal.refusals import AdminError
from portal.timeutil import utcnow
from portal.vocabulary import OutboxStatus

log = logging.getLogger(__name__)

# One bare address: no display name, no spaces, no second address, no header syntax.
_ADDRESS = re.compile(r"[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+")


# The display name of the portal's emails, in the reader's language (``sender_for``).
SENDER_NAME = _l("Portail Formation Associations")


class UndeliverableError(Exception):
    """A row that no retry can send (its recipient is not one valid address)."""


def message_id(email):
    """A stable Message-ID for an outbox row, so a retried message is recognisable."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<outbox-{email.id}@{domain}>"


def sender_for(locale):
    """``(display name, address)`` of the portal's emails in ``locale``: the name translated.

    The address is the configured sender's (``MAIL_DEFAULT_SENDER``); its configured
    display name is French, and an Arabic reader's mail client shows the name first.
    """
    configured = current_app.config["MAIL_DEFAULT_SENDER"]
    if "\r" in configured or "\n" in configured:
        # A configuration fault: the row is retried rather than given up (see build_message).
        raise BadHeaderError("line break in the sender header")
    address = parseaddr(configured)[1]
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        name = str(SENDER_NAME)
    return name, address


def build_message(email, content=None):
    """The Flask-Mail message for an outbox row; raises rather than build an unsafe one.

    ``content`` is (subject, text, html) when the message was rendered just now, else the
    row's own are sent.
    """
    # Rows are sanitised when enqueued; checked again here because a row may come from
    # elsewhere (admin edit, older code) and a header must never be split by user data.
    address = (email.to_address or "").strip()
    if not _ADDRESS.fullmatch(address) or parseaddr(address)[1] != address:
        raise UndeliverableError("invalid recipient address")
    subject, text, html = content or (email.subject, email.body_text, email.body_html)
    # Subject and recipient are clean by now: a BadHeaderError raised here means the
    # sender (configuration) is at fault, so the row is retried rather than given up.
    return mailer.message(
        single_line(subject), address, text, html, sender_for(email.locale), message_id(email)
    )


def _due_ids(batch_size, now):
    """The SELECT of due row ids; rows another worker holds locked are skipped (PostgreSQL)."""
    stale = now - timedelta(seconds=current_app.config["OUTBOX_CLAIM_TIMEOUT_SECONDS"])
    return (
        select(OutboxEmail.id)
        .where(
            or_(
                (OutboxEmail.status == OutboxStatus.PENDING) & (OutboxEmail.next_attempt_at <= now),
                (OutboxEmail.status == OutboxStatus.SENDING) & (OutboxEmail.claimed_at < stale),
            )
        )
        .order_by(OutboxEmail.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )


def claim(batch_size=None, now=None):
    """Mark up to ``batch_size`` due rows as ours and load them, without committing."""
    now = now or utcnow()
    batch_size = batch_size or current_app.config["OUTBOX_BATCH_SIZE"]
    token = secrets.token_hex(16)
    db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(_due_ids(batch_size, now).scalar_subquery()))
        .where(OutboxEmail.status.in_(OutboxStatus.QUEUED))
        .values(status=OutboxStatus.SENDING.value, claim_token=token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    # populate_existing: rows already in this session must show the claim just written.
    return db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.claim_token == token)
        .order_by(OutboxEmail.id)
        .execution_options(populate_existing=True)
    ).all()


@dataclass
class _Job:
    """What sending one claimed row needs, read before the transaction ends."""

    id: int
    token: str | None
    attempts: int
    template: str
    message: mailer.Message | None = None
    error: Exception | None = None
    dropped: bool = False


def render_at_send(email):
    """Render a row queued by ``enqueue_at_send`` for the account its address belongs to now.

    Returns (subject, text, html), or None when no account should receive the message.
    The row takes the subject, language and owner of the message; its body stays empty.
    """
    prepare = preparer(email.template)
    if prepare is None:
        raise UndeliverableError("no preparer for this kind of message")
    found = prepare(email.to_address)
    if found is None:
        return None
    user, context = found
    if email.user_id is not None and email.user_id != user.id:
        # Queued for an account that has given this address up since.
        return None
    locale = user.locale or email.locale
    subject, text, html = render_email(email.template, locale, user=user, **context)
    email.subject, email.locale, email.user_id = subject, locale, user.id
    return subject, text, html


def _prepare(email):
    """Read a row into a job and build its message (a failure is kept, not raised).

    A row rendered at send time that no account should receive is deleted (flushed with
    the claim) and its job marked as dropped.
    """
    job = _Job(id=email.id, token=email.claim_token, attempts=email.attempts or 0, template=email.template)
    try:
        content = None
        if email.render_at_send:
            content = render_at_send(email)
            if content is None:
                db.session.delete(email)
                job.dropped = True
                log.info("email %s (%s) dropped: no account to receive it", job.id, job.template)
                return job
        job.message = build_message(email, content)
    except Exception as error:  # noqa: BLE001 - one bad row must not stop the others
        job.error = error
    return job


class _Transport:
    """Sends jobs through the configured SMTP server (``mailer.SMTPSender``), or writes files."""

    def __init__(self):
        self.smtp = mailer.SMTPSender()

    def send(self, job):
        """Send one job's message; raises on failure."""
        if not current_app.config.get("MAIL_SERVER"):
            _write_file(job)
            return
        self.smtp.send(job.message)

    def close(self):
        """End the SMTP session, if one is open."""
        self.smtp.close()


def _write_file(job):
    """Development delivery: write the message as an .eml file and log its path."""
    folder = Path(current_app.config["MAIL_FILE_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    job.message.date = time.time()
    label = re.sub(r"[^A-Za-z0-9_-]+", "_", job.template or "email")[:64]
    path = folder / f"{utcnow():%Y%m%d-%H%M%S}-{job.id:06d}-{label}.eml"
    # Written aside then renamed, so a reader never sees half a message.
    partial = path.with_suffix(".eml.part")
    partial.write_bytes(job.message.as_bytes())
    os.replace(partial, path)
    log.info("email %s (%s) written to %s", job.id, job.template, path)


def backoff(attempts):
    """Seconds to wait before attempt ``attempts + 1``: exponential, capped."""
    base = current_app.config["OUTBOX_BACKOFF_SECONDS"]
    cap = current_app.config["OUTBOX_BACKOFF_CAP_SECONDS"]
    return min(base * 2 ** max(attempts - 1, 0), cap)


def _is_permanent(error):
    """Whether retrying cannot help: unsafe row, or every recipient refused for good (5xx)."""
    if isinstance(error, UndeliverableError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _ in error.recipients.values())
    return False


def _record(job, error=None):
    """Write the outcome of one attempt, if the row is still ours; commit."""
    now = utcnow()
    attempts = job.attempts + 1
    if error is None:
        values = {"status": OutboxStatus.SENT.value, "sent_at": now, "attempts": attempts, "last_error": None}
    else:
        final = _is_permanent(error) or attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]
        values = {
            "status": (OutboxStatus.FAILED if final else OutboxStatus.PENDING).value,
            "attempts": attempts,
            "last_error": f"{type(error).__name__}: {error}"[:1000],
            "claim_token": None,
        }
        if not final:
            values["next_attempt_at"] = now + timedelta(seconds=backoff(attempts))
        log.warning(
            "email %s attempt %s failed (%s)%s",
            job.id,
            attempts,
            type(error).__name__,
            "; giving up" if final else "",
        )
    mine = OutboxEmail.claim_token == job.token if job.token else OutboxEmail.claim_token.is_(None)
    db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == job.id, mine)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return error is None


def _attempt(job, transport):
    """Send a prepared job and record the outcome; True when sent, None when dropped."""
    if job.dropped:
        return None
    if job.error is not None:
        return _record(job, job.error)
    try:
        transport.send(job)
    except Exception as error:  # noqa: BLE001 - any failure is recorded; the worker goes on
        return _record(job, error)
    return _record(job)


def send_due(batch_size=None):
    """Deliver every due row once, batch by batch; return (sent, failed attempts)."""
    sent = failed = 0
    transport = _Transport()
    try:
        while True:
            jobs = [_prepare(email) for email in claim(batch_size)]
            db.session.commit()
            if not jobs:
                return sent, failed
            for job in jobs:
                outcome = _attempt(job, transport)
                if outcome:
                    sent += 1
                elif outcome is not None:
                    failed += 1
    finally:
        transport.close()


def retry(email):
    """Put a failed row back in the queue now (admin action); flush."""
    email.status = OutboxStatus.PENDING.value
    email.attempts = 0
    email.next_attempt_at = utcnow()
    email.claim_token = None
    db.session.flush()


def retry_email(actor, email):
    """Queue a failed email again; flush."""
    if email.status != OutboxStatus.FAILED:
        raise AdminError(_l("Seul un courriel en échec peut être renvoyé."))
    retry(email)
    record(
        actor,
        "email_retried",
        "outbox_email",
        email.id,
        before={"status": OutboxStatus.FAILED.value},
        after={"status": OutboxStatus.PENDING.value},
    )
    db.session.flush()
