"""The audit trail of staff looking at personal data (an application page, a document).

One event per staff member, object and hour: enough to answer "who saw this person's
data, and when", without one row per page refresh flooding the audit log.
"""

from datetime import timedelta

from sqlalchemy import select

from portal import database
from portal.admin.models import AuditEvent, record
from portal.extensions import db
from portal.timeutil import utcnow

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
