"""Reviewer operations: saving a review, deciding on applications, recording the cohort's outcomes.

Operations flush, never commit: the request commits once they return. Every status
change goes through ``workflow.transition``; nothing here assigns ``Application.status``.
"""

from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal import permissions
from portal.applications import workflow
from portal.applications.models import Application
from portal.applications.workflow import NotAllowed, SeatsFull, StaleStatus, WorkflowError
from portal.audit import record
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.review import queries
from portal.review.models import CRITERIA, Review
from portal.timeutil import utcnow
from portal.vocabulary import ApplicationStatus, Recommendation

# A queue page holds PAGE_SIZE rows; more than this in one request is not a page's selection.
MAX_BULK = 100


class InvalidReview(WorkflowError):
    """The review's values are out of range."""


def _clean_review(data):
    """Validated review fields from ``data`` (the form already checks; this is the rule)."""
    values = {}
    for name in CRITERIA:
        try:
            score = int(data[name])
        except (KeyError, TypeError, ValueError):
            score = None
        if score is None or not 0 <= score <= 5:
            raise InvalidReview(_l("Chaque critère est noté de 0 à 5."))
        values[name] = score
    if data.get("recommendation") not in Recommendation.values():
        raise InvalidReview(_l("Choisissez une recommandation."))
    values["recommendation"] = data["recommendation"]
    values["comment"] = (data.get("comment") or "").strip() or None
    return values


def recompute_mean_score(application):
    """Set ``mean_score`` to the mean of the reviews' totals (0–15), None without review.

    The mean of totals (rather than of each criterion) keeps one number per reviewer,
    comparable across applications; the waitlist and the "score" sort use it, best first.
    It is computed by the database in one UPDATE, so concurrent reviews cannot lose one.
    """
    total = Review.score_motivation + Review.score_engagement + Review.score_fit
    db.session.execute(
        update(Application)
        .where(Application.id == application.id)
        .values(
            mean_score=select(func.avg(total))
            .where(Review.application_id == application.id)
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(application, ["mean_score"])
    return application.mean_score


def save_review(reviewer, application, data):
    """Create or update ``reviewer``'s review of ``application``; flush; return it.

    Allowed while the application is undecided (``permissions.can_review``). The first
    review moves a ``submitted`` application to ``under_review``. The mean score is
    recomputed (see ``recompute_mean_score``).
    """
    if not permissions.can_review(reviewer, application):
        raise NotAllowed(_l("Cette candidature ne peut plus être évaluée : une décision a été prise."))
    values = _clean_review(data)
    now = utcnow()
    review = _own_review(reviewer, application)
    if review is None:
        try:
            with db.session.begin_nested():
                review = Review(
                    application_id=application.id,
                    reviewer_id=reviewer.id,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
                db.session.add(review)
        except IntegrityError:
            # The same reviewer saved twice at once (double submit): update the row that won.
            review = _own_review(reviewer, application)
            if review is None:
                raise
    for name, value in values.items():
        setattr(review, name, value)
    review.updated_at = now
    db.session.flush()
    recompute_mean_score(application)
    if application.status == ApplicationStatus.SUBMITTED:
        workflow.transition(application, ApplicationStatus.UNDER_REVIEW, reviewer)
    return review


def _own_review(reviewer, application):
    """The review ``reviewer`` wrote on ``application``, if any."""
    return db.session.scalar(
        select(Review).where(Review.application_id == application.id, Review.reviewer_id == reviewer.id)
    )


def own_review(reviewer, application):
    """Public accessor for the page: the reviewer's existing review or None."""
    return _own_review(reviewer, application)


def decide(actor, application, decision, message=None, expected_version=None):
    """Accept, wait-list or reject ``application`` for ``actor``; audit it; flush.

    ``expected_version`` is the version the decider saw: if the application changed
    since, the decision is refused (compare-and-set) rather than applied blindly.
    ``message`` goes to the applicant (StatusChange note, quoted in the email).
    """
    decision = ApplicationStatus(decision)
    if decision not in ApplicationStatus.DECISIONS:
        raise NotAllowed(_l("Cette action n'est pas possible pour cette candidature."))
    if expected_version is not None and expected_version != application.version:
        raise StaleStatus(
            _l(
                "Cette candidature a été modifiée entre-temps (par une autre personne ou un traitement automatique). Vérifiez son nouvel état avant de décider."
            )
        )
    workflow.refuse_conflict_of_interest(actor, application)
    if decision not in permissions.decisions_for(actor, application):
        raise NotAllowed(_l("Cette décision n'est pas possible dans l'état actuel de la candidature."))
    before = application.status
    change = workflow.transition(application, decision, actor, note=(message or "").strip() or None)
    record(
        actor,
        "decision",
        "application",
        application.reference,
        before={"status": before},
        after={"status": application.status},
    )
    db.session.flush()
    return change


@dataclass
class BulkResult:
    """What a bulk decision did: references decided, refused for lack of seats, failed."""

    decision: str
    decided: list = field(default_factory=list)
    full: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # (reference, message)


def _bulk_references(references):
    """The references sent, cleaned (as typed in any case), each once, at most MAX_BULK."""
    seen = []
    for reference in references:
        reference = (reference or "").strip().upper()
        if reference and reference not in seen:
            seen.append(reference)
    return seen[:MAX_BULK]


def decide_many(actor, references, decision, message=None):
    """Apply one decision to several applications, each through ``transition``; flush.

    Each application succeeds or fails on its own (``transition`` works in a savepoint).
    At most MAX_BULK references are handled. Applications outside the actor's
    offerings are reported as not found. A bulk
    acceptance goes best candidates first (mean score, then submission) and, once an
    offering is full, refuses its remaining candidates as ``full`` without trying.
    """
    decision = ApplicationStatus(decision)
    seen = _bulk_references(references)
    result = BulkResult(decision=decision.value)
    applications = {a.reference: a for a in queries.applications_in_scope(actor, seen)}
    for reference in seen:
        if reference not in applications:
            result.failed.append((reference, str(_l("Candidature introuvable."))))
    ordered = [applications[r] for r in seen if r in applications]
    if decision == ApplicationStatus.ACCEPTED:
        ordered.sort(
            key=lambda a: (a.mean_score is None, -(a.mean_score or 0), a.submitted_at, a.id),
        )
    full_offerings = set()
    for application in ordered:
        if decision == ApplicationStatus.ACCEPTED and application.offering_id in full_offerings:
            result.full.append(application.reference)
            continue
        try:
            decide(actor, application, decision, message)
        except SeatsFull:
            full_offerings.add(application.offering_id)
            result.full.append(application.reference)
        except WorkflowError as error:
            result.failed.append((application.reference, str(error.message)))
        else:
            result.decided.append(application.reference)
    return result


def record_outcome(actor, application, outcome, reason=None):
    """Record that a participant completed the training or not (with ``reason``); flush.

    The workflow checks the rest (the course has started, a known reason for not
    completing, the actor examines the offering), writes the history and the audit
    event and emails the participant.
    """
    outcome = ApplicationStatus(outcome)
    if outcome not in ApplicationStatus.OUTCOMES:
        raise NotAllowed(_l("Cette action n'est pas possible pour cette candidature."))
    return workflow.transition(application, outcome, actor, reason=reason)


def record_outcomes(actor, offering, references, outcome, reason=None):
    """Record one outcome for several participants of ``offering``, each on its own; flush.

    As ``decide_many``: at most MAX_BULK references; those outside the offering's cohort
    in the actor's scope are reported as not found; a refusal of one is reported with its
    reason and leaves the others recorded. Returns a ``BulkResult``.
    """
    outcome = ApplicationStatus(outcome)
    seen = _bulk_references(references)
    result = BulkResult(decision=outcome.value)
    applications = {a.reference: a for a in queries.cohort_applications(actor, offering, seen)}
    for reference in seen:
        application = applications.get(reference)
        if application is None:
            result.failed.append((reference, str(_l("Candidature introuvable."))))
            continue
        try:
            record_outcome(actor, application, outcome, reason)
        except WorkflowError as error:
            result.failed.append((reference, str(error.message)))
        else:
            result.decided.append(reference)
    return result
