"""The offering state machine: its table and the one function that changes a status.

``transition_offering()`` is the only code that assigns ``Offering.status`` once the
offering exists. It checks the table, keeps ``closed_at`` consistent (set on closing,
cleared on leaving ``closed``), emails the applicants who asked for the offering when it
opens, and writes exactly one audit event per change.
"""

from portal.applications.workflow import WorkflowError
from portal.audit import record
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.timeutil import utcnow
from portal.vocabulary import OfferingStatus

OS = OfferingStatus

# What the administrators' screens allow today: the edit page offers every status, the
# buttons close an open offering and open a draft or closed one.
OFFERING_TRANSITIONS: dict[OfferingStatus, frozenset[OfferingStatus]] = {
    OS.DRAFT: frozenset({OS.OPEN, OS.CLOSED}),
    OS.OPEN: frozenset({OS.DRAFT, OS.CLOSED}),
    OS.CLOSED: frozenset({OS.OPEN, OS.DRAFT}),
}


class OfferingTransitionRefused(WorkflowError):
    """An offering status change the table does not allow; ``message`` is translated."""

    def __init__(self, message, field="status"):
        super().__init__(message, field)


def offering_allowed(from_status, to_status):
    """Whether the table allows ``from_status`` → ``to_status`` for an offering."""
    return to_status in OFFERING_TRANSITIONS.get(from_status, frozenset())


def _already(status):
    """The refusal for a change to the status the offering already has."""
    if status == OS.CLOSED:
        return _l("Cette session est déjà fermée.")
    if status == OS.OPEN:
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
    offering.closed_at = utcnow() if to == OS.CLOSED else None
    before = {"status": current}
    if to == OS.OPEN:
        notified = notify_interested(offering)
        event = record(
            actor,
            "offering_opened",
            "offering",
            offering.id,
            before=before,
            after={"status": to, "interested_notified": notified},
        )
    elif to == OS.CLOSED:
        event = record(actor, "offering_closed", "offering", offering.id, before=before, after={"status": to})
    else:
        event = record(
            actor, "offering_drafted", "offering", offering.id, before=before, after={"status": to}
        )
    db.session.flush()
    return event
