"""The audit trail: who did what to which object, appended by every feature.

It sits below the features (it imports none of them), so catalog, auth, review, privacy
and applications all write to it without importing one another. Staff looking at
personal data is recorded at most once per staff member, object and hour
(``personal_data_viewed``): enough to answer "who saw this person's data, and when",
without one row per page refresh flooding the audit log.
"""

from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import database
from portal.extensions import db
from portal.timeutil import utcnow


class AuditEvent(db.Model):
    """Append-only record: who did what to which object, with before and after values."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    # By name: the audit trail does not import the features it records.
    actor: Mapped["User | None"] = relationship("User")  # noqa: F821


def record(actor, action, obj_type, obj_id=None, before=None, after=None):
    """Add an audit event to the session (flushed with the operation that caused it)."""
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=obj_type,
        object_id=None if obj_id is None else str(obj_id),
        before=before,
        after=after,
    )
    db.session.add(event)
    return event


VIEW_ACTION = "view_personal_data"
THROTTLE = timedelta(hours=1)


def _recently_recorded(actor, obj_type, obj_id, now):
    return (
        db.session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.actor_id == actor.id,
                AuditEvent.action == VIEW_ACTION,
                AuditEvent.object_type == obj_type,
                AuditEvent.object_id == str(obj_id),
                AuditEvent.created_at > now - THROTTLE,
            )
            .limit(1)
        )
        is not None
    )


def personal_data_viewed(actor, obj_type, obj_id, details=None):
    """Record (and commit) that staff ``actor`` saw the personal data of an object.

    Called by views of GET requests before the data is shown: if the record cannot be
    written, the page is not shown either. Commits, so call it before loading what the
    page displays; its own commit, not the request's (``portal.transaction``), so that
    the record stays even when the page then fails.
    """
    now = utcnow()
    if _recently_recorded(actor, obj_type, obj_id, now):
        return None
    # End the read transaction, so that the write starts as one (BEGIN IMMEDIATE on SQLite):
    # upgrading a read transaction fails at once when another request is writing.
    db.session.commit()
    database.write_intent(True)
    try:
        if _recently_recorded(actor, obj_type, obj_id, now):
            db.session.commit()
            return None
        event = record(actor, VIEW_ACTION, obj_type, obj_id, after=details)
        event.created_at = now
        db.session.commit()
        return event
    finally:
        database.write_intent(None)
