"""The application statuses and their transition table, as data.

Read by the workflow (which applies the table) and by the permissions (which ask whether
a move is in it); it imports neither, so neither imports the other to read it.
"""

import enum


class Status(enum.StrEnum):
    """Application statuses (values are stored as strings)."""

    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.ACCEPTED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN}),
    S.UNDER_REVIEW: frozenset({S.ACCEPTED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN}),
    S.WAITLISTED: frozenset({S.ACCEPTED, S.REJECTED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.CONFIRMED, S.EXPIRED, S.WITHDRAWN}),
    S.CONFIRMED: frozenset({S.WITHDRAWN}),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.EXPIRED: frozenset(),
}
FINAL = frozenset(s for s, nexts in TRANSITIONS.items() if not nexts)
SEAT_HOLDING = frozenset({S.ACCEPTED, S.CONFIRMED})
# Counted against MAX_ACTIVE_APPLICATIONS.
ACTIVE = frozenset(Status) - FINAL


def allowed(from_status, to_status):
    """Whether the table allows ``from_status`` → ``to_status``."""
    return Status(to_status) in TRANSITIONS[Status(from_status)]
