"""The offering state machine: its table and the one function that changes a status.

``transition_offering()`` is the only code that assigns ``Offering.status`` once the
offering exists. It checks the table, keeps ``closed_at`` consistent (set on closing,
cleared on leaving ``closed``), emails the applicants who asked for the offering when it
opens, and writes exactly one audit event per change.
"""

from flask_babel import lazy_gettext as _l

from portal.applications.workflow import WorkflowError
from portal.audit import record
from portal.extensions import db
from portal.timeutil import utcnow

DRAFT, OPEN, CLOSED = "draft", "open", "closed"

# What the administrators' screens allow today: the edit page offers every status, the
# buttons close an open offering and open a draft or closed one.
OFFERING_TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({OPEN, CLOSED}),
    OPEN: frozenset({DRAFT, CLOSED}),
    CLOSED: frozenset({OPEN, DRAFT}),
}
# The statuses a new offering may be created in (it starts as a draft, then opens).
INITIAL_STATUSES = frozenset({DRAFT, OPEN})


class OfferingTransitionRefused(WorkflowError):
    """An offering status change the table does not allow; ``message`` is translated."""

    def __init__(self, message, field="status"):
        super().__init__(message)
        self.field = field


def offering_allowed(from_status, to_status):
    """Whether the table allows ``from_status`` → ``to_status`` for an offering."""
    return to_status in OFFERING_TRANSITIONS.get(from_status, frozenset())


def _already(status):
    """The refusal for a change to the status the offering already has."""
    if status == CLOSED:
        return _l("Cette session est déjà fermée.")
    if status == OPEN:
        return _l("Cette session est déjà ouverte.")
    return _l("Cette session est déjà un brouillon.")


def transition_offering(offering, to, actor):
    """Move ``offering`` to status ``to`` on behalf of ``actor`` (None: the system); flush.

    Raises OfferingTransitionRefused when the offering already has that status or the
    table forbids the change; nothing is written then. Returns the audit event.
    """
    from portal.demand.operations import notify_interested

    current = offering.status
    if to not in OFFERING_TRANSITIONS:
        raise OfferingTransitionRefused(_l("Choisissez une valeur dans la liste."))
    if to == current:
        raise OfferingTransitionRefused(_already(to))
    if not offering_allowed(current, to):
        raise OfferingTransitionRefused(_l("Ce changement de statut n'est pas possible pour cette session."))
    offering.status = to
    # closed_at says since when the offering is closed: the retention period counts from it.
    offering.closed_at = utcnow() if to == CLOSED else None
    before = {"status": current}
    if to == OPEN:
        notified = notify_interested(offering)
        event = record(
            actor,
            "offering_opened",
            "offering",
            offering.id,
            before=before,
            after={"status": to, "interested_notified": notified},
        )
    elif to == CLOSED:
        event = record(actor, "offering_closed", "offering", offering.id, before=before, after={"status": to})
    else:
        event = record(
            actor, "offering_drafted", "offering", offering.id, before=before, after={"status": to}
        )
    db.session.flush()
    return event
