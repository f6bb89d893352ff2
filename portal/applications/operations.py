"""Applying: the submission rules and the one operation that creates an application.

Operations flush and never commit: the request commits, so the application, its
documents, its first StatusChange and the acknowledgement email land together or not at
all (and files written for a transaction that rolls back are deleted again).
"""

import logging
import secrets

from flask import current_app
from flask_babel import format_datetime, lazy_ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.applications import uploads
from portal.applications.models import Application, Document, StatusChange
from portal.applications.workflow import ACTIVE, Status
from portal.catalog.models import education_rank
from portal.extensions import db
from portal.notifications.outbox import enqueue_to_user
from portal.templating import EDUCATION_LABELS
from portal.timeutil import utcnow

log = logging.getLogger(__name__)


class SubmissionRefused(Exception):
    """A submission rule is not met; ``message`` is translated for the applicant."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class AlreadyApplied(Exception):
    """The applicant already has an application to this offering (``application``)."""

    def __init__(self, application):
        super().__init__(application.reference)
        self.application = application


def existing_application(applicant, offering):
    """The applicant's application to ``offering``, if any."""
    return db.session.scalar(
        select(Application).where(
            Application.applicant_id == applicant.id, Application.offering_id == offering.id
        )
    )


def active_application_count(applicant, academic_year):
    """How many of the applicant's applications of ``academic_year`` are still active."""
    return db.session.scalar(
        select(func.count())
        .select_from(Application)
        .where(
            Application.applicant_id == applicant.id,
            Application.academic_year == academic_year,
            Application.status.in_([s.value for s in ACTIVE]),
        )
    )


def eligibility_problem(applicant, offering, now=None):
    """The translated reason why ``applicant`` may not apply to ``offering`` now, or None."""
    now = now or utcnow()
    if offering.status != "open":
        return _l("Cette formation n'accepte pas de candidatures.")
    if now < offering.opens_at:
        return _l(
            "Les candidatures pour cette formation ouvriront le %(date)s.",
            date=format_datetime(offering.opens_at, "short"),
        )
    if now >= offering.closes_at:
        return _l(
            "La date limite de candidature (%(date)s) est dépassée.",
            date=format_datetime(offering.closes_at, "short"),
        )
    if not applicant.is_confirmed:
        return _l(
            "Confirmez d'abord votre adresse e-mail en cliquant sur le lien que nous vous avons envoyé."
        )
    profile = applicant.profile
    min_age = current_app.config["MIN_AGE_YEARS"]
    age = profile.age_on(now.date())
    if age is None or age < min_age:
        return _l("Il faut avoir au moins %(age)d ans pour postuler.", age=min_age)
    if education_rank(profile.education_level) < education_rank(offering.track.min_education):
        level = offering.track.min_education
        return _l(
            "Cette formation demande au moins le niveau « %(level)s ».",
            level=EDUCATION_LABELS.get(level, level),
        )
    limit = current_app.config["MAX_ACTIVE_APPLICATIONS"]
    if active_application_count(applicant, offering.academic_year) >= limit:
        return lazy_ngettext(
            "Vous avez déjà %(num)d candidature en cours pour l'année %(year)s, le maximum autorisé. "
            "Retirez-la pour pouvoir postuler ailleurs.",
            "Vous avez déjà %(num)d candidatures en cours pour l'année %(year)s, le maximum autorisé. "
            "Retirez-en une pour pouvoir postuler ailleurs.",
            limit,
            year=offering.academic_year,
        )
    return None


def submit_application(applicant, offering, form_data, files):
    """Create ``applicant``'s application to ``offering`` with its documents; flush.

    ``form_data`` holds ``motivation`` and ``expected_benefit``; ``files`` maps a document
    kind (``membership``, ``cin``) to a validated upload. Raises AlreadyApplied when an
    application to this offering exists (even one created a moment ago by a double
    click) and SubmissionRefused when a rule is not met; nothing is written then.
    """
    existing = existing_application(applicant, offering)
    if existing is not None:
        raise AlreadyApplied(existing)
    now = utcnow()
    problem = eligibility_problem(applicant, offering, now)
    if problem:
        raise SubmissionRefused(problem)

    application = Application(
        # Unique placeholder until the id, which the reference is made of, is known.
        reference=f"TMP-{secrets.token_hex(12)}",
        applicant_id=applicant.id,
        offering_id=offering.id,
        academic_year=offering.academic_year,
        status=Status.SUBMITTED.value,
        motivation=form_data["motivation"],
        expected_benefit=form_data["expected_benefit"],
        submitted_at=now,
        updated_at=now,
    )
    # The unique (applicant, offering) constraint decides between two simultaneous
    # submissions; the savepoint keeps the rest of the transaction usable for the loser.
    try:
        with db.session.begin_nested():
            db.session.add(application)
            db.session.flush()
    except IntegrityError:
        existing = existing_application(applicant, offering)
        if existing is None:
            raise
        log.info("simultaneous submission resolved to application %s", existing.id)
        raise AlreadyApplied(existing) from None
    application.reference = f"APP-{now.year}-{application.id:06d}"

    for kind, upload in files.items():
        db.session.add(
            Document(
                application_id=application.id, kind=kind, uploaded_at=now, **uploads.store(upload, db.session)
            )
        )
    db.session.add(
        StatusChange(
            application_id=application.id,
            from_status=None,
            to_status=Status.SUBMITTED.value,
            actor_id=applicant.id,
            created_at=now,
        )
    )
    db.session.flush()
    enqueue_to_user(applicant, "application_received", application=application, offering=offering)
    return application
