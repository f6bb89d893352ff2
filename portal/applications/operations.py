"""Applying: the submission rules and the one operation that creates an application.

Operations flush and never commit: the request commits, so the application, its
documents, its first StatusChange and the acknowledgement email land together or not at
all (and files written for a transaction that rolls back are deleted again).
"""

import logging
import secrets
from collections import Counter
from dataclasses import dataclass
from functools import cache

from flask import current_app
from sqlalchemy import and_, bindparam, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from portal.applications import uploads, workflow
from portal.applications.models import Application, Document
from portal.database import plain_rows
from portal.extensions import db
from portal.i18n import current_language, lazy_ngettext, localized_column
from portal.i18n import lazy_gettext as _l
from portal.templating import format_day
from portal.timeutil import utcnow
from portal.usererror import UserError
from portal.vocabulary import ApplicationStatus, DocumentKind, EducationLevel, OfferingStatus

log = logging.getLogger(__name__)


# Lengths of the application's texts, counted as the browser does (a line break is one).
MOTIVATION_MIN, MOTIVATION_MAX = 100, 3000
BENEFIT_MIN, BENEFIT_MAX = 20, 2000
TEXT_RULES = {
    "motivation": (
        MOTIVATION_MIN,
        MOTIVATION_MAX,
        _l("Expliquez votre motivation."),
        _l(
            "La motivation doit compter entre %(min)d et %(max)d caractères.",
            min=MOTIVATION_MIN,
            max=MOTIVATION_MAX,
        ),
    ),
    "expected_benefit": (
        BENEFIT_MIN,
        BENEFIT_MAX,
        _l("Indiquez ce que la formation apportera à votre association."),
        _l("Ce texte doit compter entre %(min)d et %(max)d caractères.", min=BENEFIT_MIN, max=BENEFIT_MAX),
    ),
}
# Document kinds an application may carry; the membership attestation is required.
MEMBERSHIP_MISSING = _l("Joignez l'attestation d'adhésion.")
ALREADY_APPLIED = _l("Vous avez déjà postulé à cette session : voici votre candidature.")


class SubmissionRefused(UserError):
    """A submission rule is not met; ``field`` names the form field it is about (None: the form)."""


def clean_text(value):
    """Strip surrounding spaces and count a line break as one character, as browsers do."""
    if value is None:
        return value
    return value.replace("\r\n", "\n").strip()


def check_contents(texts, files):
    """Refuse texts of the wrong length and a missing membership attestation.

    ``texts`` maps ``motivation`` and ``expected_benefit`` to what was typed (cleaned by
    ``clean_text``); ``files`` maps document kinds to uploads. Raises SubmissionRefused
    with the field the message belongs to.
    """
    for name, (low, high, missing, wrong_length) in TEXT_RULES.items():
        text = texts.get(name)
        if not isinstance(text, str) or not text:
            raise SubmissionRefused(missing, field=name)
        if not low <= len(text) <= high:
            raise SubmissionRefused(wrong_length, field=name)
    if not files.get(DocumentKind.MEMBERSHIP):
        raise SubmissionRefused(MEMBERSHIP_MISSING, field=DocumentKind.MEMBERSHIP)
    unknown = set(files) - set(DocumentKind.values())
    if unknown:
        raise ValueError(f"unknown document kinds: {sorted(unknown)}")


class AlreadyApplied(UserError):
    """The applicant already has an application to this offering (``application``)."""

    category = "info"

    def __init__(self, application):
        super().__init__(ALREADY_APPLIED)
        self.application = application


# Built once: these run on every submission, and building a statement costs more than
# finding its compiled form in SQLAlchemy's cache.
_EXISTING = select(Application).where(
    Application.applicant_id == bindparam("applicant_id"), Application.offering_id == bindparam("offering_id")
)
_ACTIVE_VALUES = frozenset(s.value for s in ApplicationStatus.ACTIVE)
# SQL: an application of the year ``:academic_year`` that is still active.
_ACTIVE_IN_YEAR = and_(
    Application.academic_year == bindparam("academic_year"),
    Application.status.in_(sorted(_ACTIVE_VALUES)),
)
_ACTIVE_COUNT = (
    select(func.count())
    .select_from(Application)
    .where(Application.applicant_id == bindparam("applicant_id"), _ACTIVE_IN_YEAR)
)
# What the submission rules both need, in one read counted by the database: the id of the
# applicant's application to this offering (None when there is none) and how many of their
# other applications of its year are active. (Read row by row in Python it grew with the
# applicant's applications: 11 % of a submission's CPU at 150 of them, bench/ P5.)
_EXISTING_AND_ACTIVE = select(
    func.max(case((Application.offering_id == bindparam("offering_id"), Application.id))),
    func.count(case((and_(Application.offering_id != bindparam("offering_id"), _ACTIVE_IN_YEAR), 1))),
).where(Application.applicant_id == bindparam("applicant_id"))
# What apply_outlooks reads of the applicant's applications when the caller has not.
_OUTLOOK_ROWS = select(
    Application.offering_id, Application.reference, Application.academic_year, Application.status
).where(Application.applicant_id == bindparam("applicant_id"))
# apply_outlooks: the applicant's standing not read yet (None means read, and no problem).
_UNREAD = object()
# Core statements (no ORM objects to track): the submission's reference and documents.
_SET_REFERENCE = (
    update(Application.__table__)
    .where(Application.__table__.c.id == bindparam("application_id"))
    .values(reference=bindparam("reference"))
)
_INSERT_DOCUMENT = insert(Document.__table__)


def existing_application(applicant, offering):
    """The applicant's application to ``offering``, if any."""
    return db.session.scalar(_EXISTING, {"applicant_id": applicant.id, "offering_id": offering.id})


def active_application_count(applicant, academic_year):
    """How many of the applicant's applications of ``academic_year`` are still active."""
    return db.session.scalar(_ACTIVE_COUNT, {"applicant_id": applicant.id, "academic_year": academic_year})


def _existing_and_active_count(applicant, offering):
    """The applicant's application to ``offering`` (or None) and their active ones in its year."""
    existing_id, active = db.session.execute(
        _EXISTING_AND_ACTIVE,
        {"applicant_id": applicant.id, "offering_id": offering.id, "academic_year": offering.academic_year},
    ).one()
    # Loaded whole only in the rare case it is shown (a double submission).
    existing = None if existing_id is None else db.session.get(Application, existing_id)
    return existing, active


# An education level's rank by its stored value (``EducationLevel.rank_of``, -1 when unknown),
# read beside every offering a page lists: a look-up rather than building the member each time.
_EDUCATION_RANKS = {level.value: level.rank for level in EducationLevel}


def _window_problem(status, opens_at, closes_at, now):
    """Why an offering takes no application at ``now`` (its status or dates), or None."""
    if status != OfferingStatus.OPEN:
        return _l("Cette session n'accepte pas de candidatures.")
    if now < opens_at:
        return _l("Les candidatures pour cette session ouvriront le %(date)s.", date=format_day(opens_at))
    if now > closes_at:
        return _l("La date limite de candidature (%(date)s) est dépassée.", date=format_day(closes_at))
    return None


def _applicant_problem(applicant, now):
    """Why ``applicant`` may apply nowhere at ``now`` (address not confirmed, too young), or None."""
    if not applicant.is_confirmed:
        return _l(
            "Confirmez d'abord votre adresse e-mail en cliquant sur le lien que nous vous avons envoyé."
        )
    min_age = current_app.config["MIN_AGE_YEARS"]
    age = applicant.profile.age_on(now.date())
    if age is None or age < min_age:
        return _l("Il faut avoir au moins %(age)d ans pour postuler.", age=min_age)
    return None


def _education_problem(min_education, own_level):
    """Why a profile's education level falls short of a track's minimum, or None."""
    required = _EDUCATION_RANKS.get(min_education, -1)
    # An unknown minimum is not "no minimum": nobody may apply until it is corrected.
    if required < 0 or _EDUCATION_RANKS.get(own_level, -1) < required:
        return _l(
            "Cette formation demande au moins le niveau « %(level)s » ; votre profil indique « %(own)s ».",
            level=EducationLevel.label_of(min_education),
            own=EducationLevel.label_of(own_level) if own_level else "—",
        )
    return None


def _active_problem(active_count, limit, academic_year):
    """Why ``active_count`` applications in ``academic_year`` leave no room for another, or None."""
    if active_count >= limit:
        return lazy_ngettext(
            "Vous avez déjà %(num)d candidature en cours pour l'année %(year)s, le maximum autorisé. "
            "Retirez-la pour pouvoir postuler ailleurs.",
            "Vous avez déjà %(num)d candidatures en cours pour l'année %(year)s, le maximum autorisé. "
            "Retirez-en une pour pouvoir postuler ailleurs.",
            limit,
            year=academic_year,
        )
    return None


def eligibility_problem(applicant, offering, now=None, active_count=None):
    """The translated reason why ``applicant`` may not apply to ``offering`` now, or None.

    ``active_count`` is the applicant's number of active applications in the offering's
    academic year, when the caller already knows it (it is counted otherwise).
    """
    now = now or utcnow()
    problem = _window_problem(offering.status, offering.opens_at, offering.closes_at, now)
    if problem is None:
        problem = _applicant_problem(applicant, now)
    if problem is None:
        problem = _education_problem(offering.track.min_education, applicant.profile.education_level)
    if problem is None:
        if active_count is None:
            active_count = active_application_count(applicant, offering.academic_year)
        problem = _active_problem(
            active_count, current_app.config["MAX_ACTIVE_APPLICATIONS"], offering.academic_year
        )
    return problem


@dataclass(frozen=True)
class Outlook:
    """What an applicant is told beside an offering, before applying.

    ``reference`` is their application to it, if any; otherwise ``problem`` is why they
    may not apply (None: they may). ``waitlist`` says that every seat is held, so that
    a new application can only go to the waiting list.
    """

    reference: str | None
    problem: object
    waitlist: bool

    @property
    def can_apply(self):
        """Whether the apply button is offered."""
        return self.reference is None and self.problem is None


def apply_outlooks(applicant, offerings, now=None, rows=None):
    """``{offering id: Outlook}`` for ``applicant``, by the rules of ``submit_application``.

    One query reads the applicant's applications, whatever the number of offerings; none
    when the caller already has them as ``rows`` (with ``offering_id``, ``reference``,
    ``academic_year`` and ``status``: all of the applicant's applications).
    """
    return _outlooks(
        applicant,
        [
            (o.id, o.status, o.opens_at, o.closes_at, o.track.min_education, o.academic_year, o.seats_left)
            for o in offerings
        ],
        now,
        rows,
    )


def apply_outlooks_of_rows(applicant, offering_rows, now=None, rows=None):
    """``apply_outlooks`` for offerings read as rows (``catalog.views.open_offering_rows``)."""
    return _outlooks(
        applicant,
        [
            (o.id, o.status, o.opens_at, o.closes_at, o.min_education, o.academic_year, o.seats_left)
            for o in offering_rows
        ],
        now,
        rows,
    )


def _outlooks(applicant, offerings, now, rows):
    """``apply_outlooks`` of ``(id, status, opens_at, closes_at, min_education, year, seats_left)``.

    What the rules read of the applicant and of the configuration is read once for all
    the offerings, not once per offering.
    """
    now = now or utcnow()
    if rows is None:
        rows = db.session.execute(_OUTLOOK_ROWS, {"applicant_id": applicant.id}).all()
    applied = {row.offering_id: row.reference for row in rows}
    active = Counter(row.academic_year for row in rows if row.status in _ACTIVE_VALUES)
    # Checked only when an offering gets that far, as eligibility_problem does.
    standing, own_level, limit = _UNREAD, None, current_app.config["MAX_ACTIVE_APPLICATIONS"]
    outlooks = {}
    for offering_id, status, opens_at, closes_at, min_education, academic_year, seats_left in offerings:
        reference = applied.get(offering_id)
        problem = None
        if reference is None:
            problem = _window_problem(status, opens_at, closes_at, now)
            if problem is None:
                if standing is _UNREAD:
                    standing = _applicant_problem(applicant, now)
                    if standing is None:
                        own_level = applicant.profile.education_level
                problem = standing
            if problem is None:
                problem = _education_problem(min_education, own_level)
            if problem is None:
                problem = _active_problem(active[academic_year], limit, academic_year)
        outlooks[offering_id] = Outlook(reference=reference, problem=problem, waitlist=seats_left == 0)
    return outlooks


@cache
def _dashboard_statement(language):
    """The query of ``dashboard_applications`` in ``language``, built once (it keeps its cache key)."""
    # Imported here: the catalogue's models are loaded after the applications' operations.
    from portal.catalog.models import City, Offering, Track

    return (
        select(
            Application.id,
            Application.reference,
            Application.offering_id,
            Application.academic_year,
            Application.status,
            Application.submitted_at,
            Application.confirmation_deadline,
            Application.completion_reason,
            Application.mean_score,
            localized_column(Track, "title", language).label("title"),
            localized_column(City, "name", language).label("city"),
        )
        .join(Offering, Offering.id == Application.offering_id)
        .join(Track, Track.id == Offering.track_id)
        .join(City, City.id == Offering.city_id)
        .where(Application.applicant_id == bindparam("applicant_id"))
        .order_by(Application.submitted_at.desc(), Application.id.desc())
    )


def dashboard_applications(applicant):
    """The applicant's applications, newest first, as rows of the columns their dashboard shows.

    Plain rows (no ORM objects): the application's own columns the page and the waitlist
    rank read, with ``title`` (the track's) and ``city`` in the language being rendered.
    """
    # Plain columns: run on the session's connection, the ORM's execution layer has nothing to do.
    connection = db.session.connection()
    return plain_rows(
        connection.execute(_dashboard_statement(current_language()), {"applicant_id": applicant.id})
    )


def submit_application(applicant, offering, form_data, files):
    """Create ``applicant``'s application to ``offering`` with its documents; flush.

    ``form_data`` holds ``motivation`` and ``expected_benefit``; ``files`` maps a document
    kind (``membership``, ``cin``) to a validated upload. Raises AlreadyApplied when an
    application to this offering exists (even one created a moment ago by a double
    click) and SubmissionRefused when a rule is not met (eligibility, texts' lengths, the
    membership attestation); nothing is written then.
    """
    existing, active_count = _existing_and_active_count(applicant, offering)
    if existing is not None:
        raise AlreadyApplied(existing)
    now = utcnow()
    problem = eligibility_problem(applicant, offering, now, active_count)
    if problem:
        raise SubmissionRefused(problem)
    texts = {name: clean_text(form_data.get(name)) for name in TEXT_RULES}
    check_contents(texts, files)

    application = Application(
        # Unique placeholder until the id, which the reference is made of, is known.
        reference=f"TMP-{secrets.token_hex(12)}",
        applicant_id=applicant.id,
        offering_id=offering.id,
        academic_year=offering.academic_year,
        status=ApplicationStatus.SUBMITTED.value,
        motivation=texts["motivation"],
        expected_benefit=texts["expected_benefit"],
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
    # Written by statements rather than as changes of ORM objects: the flush that start()
    # makes then holds only its StatusChange and email, and costs a fraction as much.
    reference = f"APP-{now.year}-{application.id:06d}"
    db.session.execute(_SET_REFERENCE, {"application_id": application.id, "reference": reference})
    set_committed_value(application, "reference", reference)
    documents = [
        {
            "application_id": application.id,
            "kind": kind,
            "uploaded_at": now,
            **uploads.store(upload, db.session),
        }
        for kind, upload in files.items()
    ]
    if documents:
        db.session.execute(_INSERT_DOCUMENT, documents)
    workflow.start(application, applicant)
    return application
