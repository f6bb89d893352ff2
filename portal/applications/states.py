"""The application transition table, as data.

Read by the workflow (which applies the table) and by the permissions (which ask whether
a move is in it); it imports neither, so neither imports the other to read it.
"""

from portal.vocabulary import ApplicationStatus

S = ApplicationStatus
# The table of transitions; the groups of ApplicationStatus (FINAL, ACTIVE...) agree with it.
TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.ACCEPTED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN}),
    S.UNDER_REVIEW: frozenset({S.ACCEPTED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN}),
    S.WAITLISTED: frozenset({S.ACCEPTED, S.REJECTED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.CONFIRMED, S.EXPIRED, S.WITHDRAWN}),
    S.CONFIRMED: frozenset({S.WITHDRAWN, S.COMPLETED, S.NOT_COMPLETED}),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.EXPIRED: frozenset(),
    S.COMPLETED: frozenset(),
    S.NOT_COMPLETED: frozenset(),
}


def allowed(from_status, to_status):
    """Whether the table allows ``from_status`` → ``to_status``."""
    return ApplicationStatus(to_status) in TRANSITIONS[ApplicationStatus(from_status)]
