"""Issuing, finding and revoking certificates: every rule about them lives here.

Operations flush, never commit: the request (or the caller) commits once they return.
"""

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import permissions
from portal.applications.models import Application
from portal.audit import record
from portal.auth.models import ApplicantProfile, User
from portal.catalog.models import Offering
from portal.certificates import numbers
from portal.certificates.models import Certificate
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.timeutil import utcnow
from portal.usererror import UserError
from portal.vocabulary import ApplicationStatus, CertificateLanguage

# The longest revocation reason kept (the form says so too).
MAX_REASON = 500
# New numbers drawn when one is taken already (35 random bits: a second draw is rare).
NUMBER_ATTEMPTS = 5


class CertificateError(UserError):
    """A certificate cannot be issued or revoked as asked."""

    category = "error"


NOT_COMPLETED = _l("Le certificat n'est délivré qu'aux participants ayant achevé la formation.")
ALREADY_REVOKED = _l("Ce certificat est déjà révoqué.")
REASON_REQUIRED = _l("Indiquez le motif de la révocation.")
REASON_TOO_LONG = _l("Le motif doit faire au plus %(max)s caractères.", max=MAX_REASON)


def certificate_of(application):
    """The certificate of ``application``, or None when none was issued yet."""
    return db.session.scalar(select(Certificate).where(Certificate.application_id == application.id))


def issue(application, language):
    """The certificate of a completed ``application``, created on first call (idempotent).

    The number is drawn once and never changes; ``language`` (French or Arabic) only
    records the last rendering asked for. Two first downloads at the same moment end with
    one certificate: the unique application column turns the second insert away, and the
    one already written is returned.
    """
    language = CertificateLanguage(language)
    if application.status != ApplicationStatus.COMPLETED:
        raise CertificateError(NOT_COMPLETED)
    certificate = certificate_of(application)
    if certificate is None:
        certificate = _create(application, language)
    if certificate.language != language:
        certificate.language = language.value
        db.session.flush()
    return certificate


def _create(application, language):
    """Insert the certificate of ``application`` with a fresh number (see ``issue``)."""
    for _attempt in range(NUMBER_ATTEMPTS):
        now = utcnow()
        certificate = Certificate(
            application_id=application.id,
            number=numbers.new_number(now.year),
            language=language.value,
            issued_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(certificate)
                db.session.flush()
            return certificate
        except IntegrityError:
            existing = certificate_of(application)
            if existing is not None:
                return existing
            # Otherwise the number was taken: draw another.
    raise RuntimeError("no free certificate number after several draws")


@dataclass(frozen=True)
class Verification:
    """What the public verification page may show of a certificate: nothing personal but the name."""

    number: str
    name: str
    name_ar: str | None
    track: object
    city: object
    academic_year: str
    issued_at: object
    revoked_at: object

    @property
    def revoked(self):
        """Whether the certificate was revoked."""
        return self.revoked_at is not None


def find(typed):
    """The certificate a person typed the number of (any case, spaces or dashes), or None."""
    number = numbers.normalize(typed)
    if number is None:
        return None
    return db.session.scalar(
        select(Certificate)
        .options(
            joinedload(Certificate.application).joinedload(Application.applicant).joinedload(User.profile),
            joinedload(Certificate.application).joinedload(Application.offering).joinedload(Offering.track),
            joinedload(Certificate.application).joinedload(Application.offering).joinedload(Offering.city),
        )
        .where(Certificate.number == number)
    )


def verification(typed):
    """The public facts of the certificate numbered ``typed`` (name, track, city, year), or None."""
    certificate = find(typed)
    if certificate is None:
        return None
    application = certificate.application
    profile: ApplicantProfile | None = application.applicant.profile
    name_ar = None
    if profile is not None and profile.first_name_ar and profile.last_name_ar:
        name_ar = f"{profile.first_name_ar} {profile.last_name_ar}"
    return Verification(
        number=certificate.number,
        name=profile.full_name if profile is not None else "",
        name_ar=name_ar,
        track=application.offering.track,
        city=application.offering.city,
        academic_year=application.academic_year,
        issued_at=certificate.issued_at,
        revoked_at=certificate.revoked_at,
    )


def revoke(actor, certificate, reason):
    """Revoke ``certificate`` for ``reason`` (an administrator's act, audited); it stays revoked."""
    if not permissions.is_admin(actor):
        raise CertificateError(_l("Seul un administrateur peut révoquer un certificat."))
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(REASON_REQUIRED, field="reason")
    if len(reason) > MAX_REASON:
        raise CertificateError(REASON_TOO_LONG, field="reason")
    now = utcnow()
    # Conditional: of two administrators revoking at once, one revokes, the other is told.
    revoked = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by_id=actor.id, revocation_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not revoked:
        raise CertificateError(ALREADY_REVOKED)
    db.session.refresh(certificate)
    record(
        actor,
        "certificate_revoked",
        "certificate",
        certificate.id,
        before={"number": certificate.number},
        after={"number": certificate.number, "reason": reason},
    )
    db.session.flush()
    return certificate
