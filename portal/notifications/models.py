"""The outbox: every email the portal must send, written in the transaction of its cause."""

from datetime import datetime

from sqlalchemy import Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow
from portal.vocabulary import OutboxStatus, check_in


class OutboxEmail(db.Model):
    """One email, rendered at enqueue time in the recipient's language, or at send time.

    A message whose link carries a secret (address confirmation, password reset, staff
    invitation) is written without subject or body and ``render_at_send`` set: the worker
    finds the account its address belongs to when it sends it, renders it then, and never
    stores the body (see ``outbox.enqueue_at_send``).
    """

    __tablename__ = "outbox_email"
    __table_args__ = (
        Index("ix_outbox_email_status_due", "status", "next_attempt_at"),
        check_in("status", OutboxStatus, "status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(32), index=True)
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(index=True)
    render_at_send: Mapped[bool] = mapped_column(default=False, server_default=false())
