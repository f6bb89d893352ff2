"""Who may do what: the one place that combines role, assignment and state.

Views and templates only ask these functions. Anything a user may not even see answers
404 through ``get_*_or_404`` helpers of the features, never 403, so that references and
ids of other people's objects cannot be probed.
"""

from functools import lru_cache

from flask import g, has_request_context
from sqlalchemy import bindparam, select

from portal.applications.states import TRANSITIONS
from portal.vocabulary import ApplicationStatus, Role


def _is_staff_of(user, offering):
    """An admin, or a reviewer assigned to ``offering``."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.REVIEWER and any(r.id == user.id for r in offering.reviewers)


def association_ties():
    """SQL: the (user_id, association_id) pairs tying people to associations (conflicts of interest).

    The one definition of "tied to an association": a staff member never examines an
    application of a member of an association they are tied to. A person is tied to the
    association of their applicant profile (reviewers promoted from applicants keep it) and
    to the associations they refer for.
    """
    from portal.associations.models import association_referent
    from portal.auth.models import ApplicantProfile

    profiles = select(
        ApplicantProfile.user_id.label("user_id"), ApplicantProfile.association_id.label("association_id")
    ).where(ApplicantProfile.association_id.is_not(None))
    referents = select(association_referent.c.user_id, association_referent.c.association_id)
    return profiles.union(referents)


def tied_association_ids(user_id):
    """SQL: the ids of the associations the user ``user_id`` is tied to (see ``association_ties``).

    The same two sources as ``association_ties``, each filtered on ``user_id`` before the
    union: filtering the whole union afterwards made databases build it for every profile
    (tens of milliseconds per queue query at 100,000 applications).
    """
    from portal.associations.models import association_referent
    from portal.auth.models import ApplicantProfile

    profile = select(ApplicantProfile.association_id.label("association_id")).where(
        ApplicantProfile.user_id == user_id, ApplicantProfile.association_id.is_not(None)
    )
    referent = select(association_referent.c.association_id).where(association_referent.c.user_id == user_id)
    return profile.union(referent)


def conflicted_applicant_ids(user_id):
    """SQL: applicants whose association the user ``user_id`` is tied to (never examined by them)."""
    from portal.auth.models import ApplicantProfile

    return select(ApplicantProfile.user_id).where(
        ApplicantProfile.association_id.in_(tied_association_ids(user_id))
    )


def _tied_ids(user):
    """The association ids ``user`` is tied to, as a set; read once per request."""
    from portal.extensions import db

    if getattr(user, "id", None) is None:
        return frozenset()
    # The review queue asks for each of its rows: one query per request, not per row.
    cache = g.setdefault("_tied_association_ids", {}) if has_request_context() else {}
    if user.id not in cache:
        known = _ties_read_with_the_session(user)
        if known is None:
            known = frozenset(db.session.scalars(_tied_ids_statement(), {"tied_user_id": user.id}))
        cache[user.id] = known
    return cache[user.id]


def _ties_read_with_the_session(user):
    """``user``'s ties when the request's session row already tells them, else None.

    It does when the user refers for no association (``User.refers_for_any``, read with
    the session row): the ties are then the association of their profile, loaded with it.
    Only what the instance holds is read: an attribute not loaded is not fetched here.
    """
    state = user.__dict__
    if state.get("refers_for_any") is not False or "profile" not in state:
        return None
    profile = state["profile"]
    if profile is None:
        return frozenset()
    if "association_id" not in profile.__dict__:
        return None
    association_id = profile.__dict__["association_id"]
    return frozenset() if association_id is None else frozenset({association_id})


@lru_cache(maxsize=1)
def _tied_ids_statement():
    """``tied_association_ids`` with its user as a parameter, built once (a statement keeps its cache key)."""
    return tied_association_ids(bindparam("tied_user_id"))


def tied_association_ids_of(user):
    """The association ids ``user`` is tied to (a frozenset, read once per request)."""
    return _tied_ids(user)


def has_conflict(user, application):
    """Whether ``user`` is the applicant or tied to the applicant's association."""
    if application.applicant_id == user.id:
        return True
    profile = application.applicant.profile
    return (
        profile is not None
        and profile.association_id is not None
        and profile.association_id in _tied_ids(user)
    )


def _examines(user, application):
    """Staff of the application's offering without a conflict of interest: nobody judges their own."""
    return _is_staff_of(user, application.offering) and not has_conflict(user, application)


def is_admin(user):
    """Whether ``user`` is an active administrator."""
    return bool(user and user.is_authenticated and user.is_active and user.role == Role.ADMIN)


def is_reviewer(user):
    """Whether ``user`` is an active reviewer (assigned or not)."""
    return bool(user and user.is_authenticated and user.is_active and user.role == Role.REVIEWER)


def is_staff(user):
    """Reviewers and administrators."""
    return bool(user and user.is_authenticated and user.is_active and user.role in Role.STAFF)


def is_applicant(user):
    """Whether ``user`` is an active applicant account."""
    return bool(user and user.is_authenticated and user.is_active and user.role == Role.APPLICANT)


def can_view_application(user, application):
    """The applicant themself, the reviewers of its offering, and administrators."""
    if not user or not user.is_authenticated:
        return False
    if application.applicant_id == user.id:
        return True
    return _is_staff_of(user, application.offering)


def can_view_document(user, document):
    """Same audience as the application the document belongs to."""
    return can_view_application(user, document.application)


def can_review(user, application):
    """Reviewers of the offering (and admins) review applications not yet decided."""
    return application.status in ApplicationStatus.UNDECIDED and _examines(user, application)


# Who may trigger each target status; None (the system) may trigger any allowed pair.
_APPLICANT_TARGETS = frozenset({ApplicationStatus.CONFIRMED, ApplicationStatus.WITHDRAWN})
STAFF_TARGETS = frozenset(
    {ApplicationStatus.UNDER_REVIEW, *ApplicationStatus.DECISIONS, *ApplicationStatus.OUTCOMES}
)


def can_transition(user, application, to):
    """Whether ``user`` (None for the system) may move ``application`` to ``to`` now."""
    to = ApplicationStatus(to)
    if to not in TRANSITIONS[ApplicationStatus(application.status)]:
        return False
    if user is None:
        # Withdrawn: the person left (account deactivated, erased or made staff).
        return to in (
            ApplicationStatus.EXPIRED,
            ApplicationStatus.ACCEPTED,
            ApplicationStatus.UNDER_REVIEW,
            ApplicationStatus.WITHDRAWN,
        )
    if to in _APPLICANT_TARGETS:
        return application.applicant_id == user.id and user.is_active
    if to in STAFF_TARGETS:
        return _examines(user, application)
    return False


def decisions_for(user, application):
    """The decisions a staff member may take now, in display order (drives the buttons)."""
    # Every decision is a staff target: one assignment check serves the three of them
    # (the review queue asks this for each of its fifty rows).
    if not _examines(user, application):
        return []
    allowed = TRANSITIONS[ApplicationStatus(application.status)]
    return [s for s in ApplicationStatus.DECISIONS if s in allowed]


def decidable_statuses_in_queue(user):
    """The statuses from which ``user`` may decide on a row of their review queue.

    The queue's query keeps only the applications ``user`` examines (their offerings',
    no conflict of interest, as ``_examines``), so the table alone tells which rows get a
    checkbox: one set per request instead of a permission check per row.
    """
    if not is_staff(user):
        return frozenset()
    return frozenset(
        s for s in ApplicationStatus if any(d in TRANSITIONS[s] for d in ApplicationStatus.DECISIONS)
    )


def can_see_cohort(user, offering):
    """Reviewers of the offering and administrators open its cohort page (others get 404)."""
    return _is_staff_of(user, offering)


def outcomes_for(user, application):
    """The outcomes a staff member may record now for a participant (drives the cohort's buttons).

    The course start, which also gates them, is the workflow's rule (``course_started``).
    """
    if not _examines(user, application):
        return []
    allowed = TRANSITIONS[ApplicationStatus(application.status)]
    return [s for s in ApplicationStatus.OUTCOMES if s in allowed]


def can_withdraw(user, application):
    """The applicant may withdraw while the application is active."""
    return can_transition(user, application, ApplicationStatus.WITHDRAWN)


def can_confirm(user, application):
    """The applicant may confirm an accepted seat (before the deadline: checked by the workflow)."""
    return can_transition(user, application, ApplicationStatus.CONFIRMED)


def can_apply(user):
    """Applicant accounts may apply; the rules of the offering are checked at submission."""
    return is_applicant(user)


def can_use_queue(user):
    """Reviewers and administrators have a review queue (applicants get 404)."""
    return is_staff(user)


def can_examine(user, application):
    """Reviewers of the offering and administrators open its review page (profile, reviews)."""
    return _examines(user, application)


def can_download_as_staff(user, document):
    """Staff download an application's documents only when they may examine the application."""
    return can_examine(user, document.application)


def is_referent_of(user, association):
    """Whether ``user`` is an active account named referent of ``association``."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return any(r.id == user.id for r in association.referents)


def can_decide_membership(user, membership):
    """A referent of the claim's association endorses or declines it (not their own claim)."""
    return is_referent_of(user, membership.association) and membership.user_id != user.id


def can_get_certificate(user, application, certificate=None):
    """Only the participant, once the application is completed and while the certificate stands."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and application.applicant_id == user.id
        and application.status == ApplicationStatus.COMPLETED
        and (certificate is None or not certificate.revoked)
    )


def can_revoke_certificate(user, certificate):
    """Administrators revoke a certificate that still stands."""
    return is_admin(user) and not certificate.revoked
