"""Delivering the outbox: claim due rows atomically, send them, record the outcome.

Several workers may run at once, on several machines. A worker claims a batch with one
conditional UPDATE (on PostgreSQL its subquery uses ``FOR UPDATE SKIP LOCKED``), so a
row is handed to one worker only. A failed attempt is retried with exponential backoff,
capped, and the row is marked failed after OUTBOX_MAX_ATTEMPTS.
"""

import logging
import secrets
import smtplib
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_mail import Message
from sqlalchemy import or_, select, update

from portal.extensions import db, mail
from portal.notifications.models import OutboxEmail
from portal.timeutil import utcnow

log = logging.getLogger(__name__)


def message_id(email):
    """A stable Message-ID for an outbox row, so a retried message is recognisable."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    domain = sender.rsplit("@", 1)[-1].rstrip(">").strip() or "localhost"
    return f"<outbox-{email.id}@{domain}>"


def build_message(email):
    """The Flask-Mail message for an outbox row."""
    msg = Message(
        subject=email.subject,
        recipients=[email.to_address],
        body=email.body_text,
        html=email.body_html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )
    msg.msgId = message_id(email)
    return msg


def claim_due(batch_size=None, now=None):
    """Atomically claim up to ``batch_size`` due rows for this worker; return them."""
    now = now or utcnow()
    batch_size = batch_size or current_app.config["OUTBOX_BATCH_SIZE"]
    stale = now - timedelta(seconds=current_app.config["OUTBOX_CLAIM_TIMEOUT_SECONDS"])
    token = secrets.token_hex(16)
    due = (
        select(OutboxEmail.id)
        .where(
            or_(
                (OutboxEmail.status == "pending") & (OutboxEmail.next_attempt_at <= now),
                (OutboxEmail.status == "sending") & (OutboxEmail.claimed_at < stale),
            )
        )
        .order_by(OutboxEmail.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(due.scalar_subquery()))
        .where(OutboxEmail.status.in_(("pending", "sending")))
        .values(status="sending", claim_token=token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.claim_token == token).order_by(OutboxEmail.id)
    ).all()


def _write_file(email, msg):
    """Development delivery: write the message as an .eml file and log its path."""
    folder = Path(current_app.config["MAIL_FILE_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{utcnow():%Y%m%d-%H%M%S}-{email.id:06d}-{email.template}.eml"
    path.write_bytes(msg.as_bytes())
    log.info("email %s (%s) written to %s", email.id, email.template, path)


def _send(email):
    msg = build_message(email)
    if current_app.config.get("MAIL_SERVER"):
        mail.send(msg)
    else:
        _write_file(email, msg)


def backoff(attempts):
    """Seconds to wait before attempt ``attempts + 1``: exponential, capped."""
    base = current_app.config["OUTBOX_BACKOFF_SECONDS"]
    cap = current_app.config["OUTBOX_BACKOFF_CAP_SECONDS"]
    return min(base * 2 ** max(attempts - 1, 0), cap)


def deliver(email):
    """Try to send one claimed row and record the result (commits)."""
    try:
        _send(email)
    except (smtplib.SMTPException, OSError, ValueError) as error:
        email.attempts += 1
        email.last_error = f"{type(error).__name__}: {error}"[:1000]
        email.claim_token = None
        if email.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            email.status = "failed"
        else:
            email.status = "pending"
            email.next_attempt_at = utcnow() + timedelta(seconds=backoff(email.attempts))
        log.warning("email %s attempt %s failed: %s", email.id, email.attempts, type(error).__name__)
        db.session.commit()
        return False
    email.attempts += 1
    email.status = "sent"
    email.sent_at = utcnow()
    email.last_error = None
    db.session.commit()
    return True


def send_due(batch_size=None):
    """Deliver every due row once, batch by batch; return (sent, failed)."""
    sent = failed = 0
    while True:
        batch = claim_due(batch_size)
        if not batch:
            return sent, failed
        for email in batch:
            if deliver(email):
                sent += 1
            else:
                failed += 1


def retry(email):
    """Put a failed row back in the queue now (admin action); flush."""
    email.status = "pending"
    email.attempts = 0
    email.next_attempt_at = utcnow()
    email.claim_token = None
    db.session.flush()
