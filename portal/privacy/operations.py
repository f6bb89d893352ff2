"""Personal data operations (law 09-08): what we hold on a person, erasure, retention purge.

Erasure keeps the programme's anonymous statistics right: the rows stay (applications
with their offering, status and dates; reviews' scores; status history), only what
identifies or describes the person goes. Operations flush, never commit; files of
deleted documents are removed from disk only once the transaction commits, so a
rollback never leaves a row pointing at a missing file.
"""

import contextlib
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, delete, event, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.applications.models import Application, Interest, StatusChange
from portal.applications.workflow import transition
from portal.associations import membership
from portal.audit import AuditEvent
from portal.auth.models import User
from portal.auth.operations import WRONG_PASSWORD
from portal.auth.passwords import verify_password
from portal.auth.sessions import active_sessions, end_all_sessions
from portal.catalog.models import Offering
from portal.certificates.models import Certificate
from portal.demand import counts as demand_counts
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.review.models import Review
from portal.timeutil import utcnow
from portal.usererror import UserError
from portal.vocabulary import ApplicationStatus, OfferingStatus, OutboxStatus

# What replaces a required text that identified or described a person.
ANONYMISED = "—"
ANONYMOUS_EMAIL = "deleted-{id}@invalid"
# What replaces the token of a secret link (password reset, address confirmation,
# invitation) in the copy of an email given to its recipient.
REDACTED = "[redacted]"
_FILES_TO_DELETE = "portal_files_to_delete"


class PrivacyError(UserError):
    """A rule refused the operation; ``field`` names the form field the message belongs to."""


# Access: everything about one applicant -------------------------------------------------


def _when(value):
    """ISO 8601 text of a stored value (datetimes are naive UTC)."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def _city(city):
    return None if city is None else city.name_fr


def personal_data(user):
    """Every piece of data the portal holds on ``user``, as a JSON-ready dict.

    Besides what the person gave, it holds what others wrote or did about them: the
    reviews of their applications, the staff who looked at their file or decided on it
    (audit trail), and the emails sent to them. Staff are named by their role and
    professional email address, the identifier the programme knows them by. The number
    of queries does not depend on how many applications, reviews or events there are.
    """
    profile = user.profile
    applications = db.session.scalars(
        select(Application)
        .options(
            joinedload(Application.offering).joinedload(Offering.track),
            joinedload(Application.offering).joinedload(Offering.city),
            selectinload(Application.documents),
            selectinload(Application.history),
        )
        .where(Application.applicant_id == user.id)
        .order_by(Application.id)
    ).all()
    reviews = {}
    for review in db.session.scalars(
        select(Review)
        .options(joinedload(Review.reviewer))
        .join(Review.application)
        .where(Application.applicant_id == user.id)
        .order_by(Review.application_id, Review.id)
    ):
        reviews.setdefault(review.application_id, []).append(review)
    certificates = {
        c.application_id: c
        for c in db.session.scalars(
            select(Certificate).join(Certificate.application).where(Application.applicant_id == user.id)
        )
    }
    interests = db.session.scalars(
        select(Interest)
        .options(joinedload(Interest.track), joinedload(Interest.city))
        .where(Interest.applicant_id == user.id)
        .order_by(Interest.id)
    ).all()
    emails = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.user_id == user.id).order_by(OutboxEmail.id)
    ).all()
    events = _audit_events_about(user, applications, emails)
    devices = active_sessions(user)
    secret_links = _secret_link_pattern()
    return {
        "generated_at": _when(utcnow()),
        "account": {
            "email": user.email,
            "role": user.role,
            "language": user.locale,
            "created_at": _when(user.created_at),
            "email_confirmed_at": _when(user.email_confirmed_at),
            "last_login_at": _when(user.last_login_at),
            "consent": {"given_at": _when(user.consent_at), "notice_version": user.consent_version},
        },
        "profile": None if profile is None else _profile_data(profile),
        "association_membership": _membership_data(membership.membership_of(user)),
        "referent_of": [a.name_fr for a in membership.referred_associations(user)],
        "applications": [
            _application_data(a, reviews.get(a.id, ()), certificates.get(a.id)) for a in applications
        ],
        "staff_actions": _staff_actions_data(events, applications),
        "interests": [
            {
                "track": i.track.code,
                "city": _city(i.city),
                "created_at": _when(i.created_at),
                "notified_at": _when(i.notified_at),
            }
            for i in interests
        ],
        "sessions": [
            {"device": d.device, "created_at": _when(d.created_at), "last_seen_at": _when(d.last_seen_at)}
            for d in devices
        ],
        "emails": [
            {
                "to": e.to_address,
                "subject": e.subject,
                "template": e.template,
                "status": e.status,
                "created_at": _when(e.created_at),
                "sent_at": _when(e.sent_at),
                "body": secret_links.sub(rf"\1{REDACTED}", e.body_text or ""),
            }
            for e in emails
        ],
    }


def _staff_member(user):
    """Who acted, as the person may know it: role and professional address (None: the system)."""
    if user is None:
        return None
    return {"role": user.role, "email": user.email}


def _audit_events_about(user, applications, emails):
    """The audit events whose object is ``user``, one of their applications, documents or emails.

    Events about several people at once (an export of a list) are not recorded per
    person, so they cannot be told apart here and are left out.
    """
    about = [and_(AuditEvent.object_type == "user", AuditEvent.object_id == str(user.id))]
    if applications:
        references = [a.reference for a in applications]
        # Views name an application by its id, decisions by its reference.
        keys = [str(a.id) for a in applications] + references
        about.append(and_(AuditEvent.object_type == "application", AuditEvent.object_id.in_(keys)))
        # A document's event names its application: it still matches once the file is replaced.
        about.append(
            and_(
                AuditEvent.object_type == "document",
                AuditEvent.after["application"].as_string().in_(references),
            )
        )
    if emails:
        about.append(
            and_(
                AuditEvent.object_type == "outbox_email",
                AuditEvent.object_id.in_([str(e.id) for e in emails]),
            )
        )
    return db.session.scalars(
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .where(or_(*about))
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()


def _staff_actions_data(events, applications):
    by_key = {str(a.id): a.reference for a in applications} | {a.reference: a.reference for a in applications}
    documents = {str(d.id): d.kind for a in applications for d in a.documents}
    actions = []
    for audit_event in events:
        reference = None
        if audit_event.object_type == "application":
            reference = by_key.get(audit_event.object_id)
        elif audit_event.object_type == "document":
            reference = (audit_event.after or {}).get("application")
        action = {
            "at": _when(audit_event.created_at),
            "action": audit_event.action,
            "object": audit_event.object_type,
            "application": reference,
            "by": _staff_member(audit_event.actor),
            "before": audit_event.before,
            "after": audit_event.after,
        }
        if audit_event.object_type == "document":
            action["document"] = documents.get(audit_event.object_id)
        actions.append(action)
    return actions


def _secret_link_pattern():
    """A pattern of the paths of links that carry a secret token (every route with a ``token``).

    The token is masked even when the stored body was already redacted after delivery: a
    message still waiting in the outbox holds a link that works.
    """
    prefixes = sorted(
        {rule.rule.split("<", 1)[0] for rule in current_app.url_map.iter_rules() if "token" in rule.arguments}
    )
    if not prefixes:
        return re.compile(r"(?!)")
    return re.compile("(" + "|".join(re.escape(p) for p in prefixes) + r")[A-Za-z0-9_.\-]+")


def _membership_data(claim):
    """The applicant's claim to belong to their association and whether it is endorsed."""
    if claim is None:
        return None
    return {
        "association": claim.association.name_fr,
        "endorsement": claim.state,
        "claimed_at": _when(claim.claimed_at),
        "decided_at": _when(claim.decided_at),
    }


def _profile_data(profile):
    return {
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "first_name_ar": profile.first_name_ar,
        "last_name_ar": profile.last_name_ar,
        "cin": profile.cin,
        "birth_date": _when(profile.birth_date),
        "phone": profile.phone,
        "city": _city(profile.city),
        "education_level": profile.education_level,
        "association": {
            "name": profile.association_name,
            "registration": profile.association_registration,
            "city": _city(profile.association_city),
            "field": profile.association_field,
            "role": profile.association_role,
            "years": profile.association_years,
            "description": profile.association_description,
            "register_entry": _register_entry(profile.association),
        },
    }


def _register_entry(association):
    """The register's entry the profile is linked to, as the register holds it (None: not linked)."""
    if association is None:
        return None
    return {
        "name": association.name_fr,
        "name_ar": association.name_ar,
        "registration_number": association.registration_number,
        "city": _city(association.city),
        "state": association.state,
    }


def _certificate_data(certificate):
    """The certificate of an application as its holder may read it (None: no certificate)."""
    if certificate is None:
        return None
    return {
        "number": certificate.number,
        "language": certificate.language,
        "issued_at": _when(certificate.issued_at),
        "revoked_at": _when(certificate.revoked_at),
        "revocation_reason": certificate.revocation_reason,
    }


def _application_data(application, reviews, certificate=None):
    offering = application.offering
    return {
        "certificate": _certificate_data(certificate),
        "reference": application.reference,
        "track": offering.track.code,
        "track_title": offering.track.title_fr,
        "city": _city(offering.city),
        "academic_year": application.academic_year,
        "status": application.status,
        "motivation": application.motivation,
        "expected_benefit": application.expected_benefit,
        "submitted_at": _when(application.submitted_at),
        "decided_at": _when(application.decided_at),
        "confirmation_deadline": _when(application.confirmation_deadline),
        "mean_score": application.mean_score,
        "reviews": [
            {
                "scores": {
                    "motivation": r.score_motivation,
                    "engagement": r.score_engagement,
                    "fit": r.score_fit,
                },
                "total": r.total,
                "recommendation": r.recommendation,
                "comment": r.comment,
                "by": _staff_member(r.reviewer),
                "created_at": _when(r.created_at),
                "updated_at": _when(r.updated_at),
            }
            for r in reviews
        ],
        "history": [
            {
                "from": change.from_status,
                "to": change.to_status,
                "at": _when(change.created_at),
                "message": change.note,
            }
            for change in application.history
        ],
        "documents": [
            {
                "kind": d.kind,
                "name": d.original_name,
                "content_type": d.content_type,
                "size": d.size,
                "sha256": d.sha256,
                "uploaded_at": _when(d.uploaded_at),
            }
            for d in application.documents
        ],
    }


# Erasure -------------------------------------------------------------------------------


def is_anonymised(user):
    """Whether ``user`` was already erased or purged."""
    return user.email == ANONYMOUS_EMAIL.format(id=user.id)


def erase_account(user, current_password):
    """Delete an applicant's account at their request; flush.

    Active applications are withdrawn through the workflow first (seats are freed and
    wait-listed candidates promoted), then the person's data is erased. Raises
    PrivacyError when ``current_password`` is wrong (nothing changes then) and a
    WorkflowError when an application changed meanwhile.
    """
    if not verify_password(user.password_hash, current_password or ""):
        raise PrivacyError(WRONG_PASSWORD, field="current_password")
    active = db.session.scalars(
        select(Application)
        .where(
            Application.applicant_id == user.id,
            Application.status.in_([s.value for s in ApplicationStatus.ACTIVE]),
        )
        .order_by(Application.id)
    ).all()
    for application in active:
        transition(application, ApplicationStatus.WITHDRAWN, user)
    anonymise_user(user)


def anonymise_user(user):
    """Erase what identifies ``user`` and their applications; the statistics stay; flush.

    The account cannot log in any more and its sessions end. Emails not yet sent to it
    are dropped (their address is gone); sent ones keep only their subject and dates.
    """
    applications = db.session.scalars(select(Application).where(Application.applicant_id == user.id)).all()
    for application in applications:
        anonymise_application(application)
    profile = user.profile
    if profile is not None:
        profile.first_name = ANONYMISED
        profile.last_name = ANONYMISED
        profile.first_name_ar = None
        profile.last_name_ar = None
        profile.cin = None
        profile.phone = None
        profile.birth_date = None
        profile.association_name = ANONYMISED
        profile.association_registration = ANONYMISED
        profile.association_role = ANONYMISED
        profile.association_description = None
        # No longer a member the register counts (the entry itself stays: others may belong).
        profile.association = None
    # Nobody vouches for, or is vouched by, an erased account.
    membership.forget(user)
    user.email = ANONYMOUS_EMAIL.format(id=user.id)
    user.password_hash = None
    # Before its interests go: an active account's are uncounted with it.
    standing = demand_counts.standing(user)
    user.active = False
    demand_counts.account_changed(user, standing)
    user.email_confirmed_at = None
    # Every open session ends: the rows go, and the identifier's auth_version changes.
    user.auth_version = (user.auth_version or 1) + 1
    end_all_sessions(user)
    db.session.execute(delete(Interest).where(Interest.applicant_id == user.id))
    db.session.execute(
        delete(OutboxEmail)
        .where(OutboxEmail.user_id == user.id, OutboxEmail.status.in_(OutboxStatus.QUEUED))
        .execution_options(synchronize_session=False)
    )
    for email in db.session.scalars(select(OutboxEmail).where(OutboxEmail.user_id == user.id)).all():
        email.to_address = user.email
        email.body_text = ""
        email.body_html = ""
        email.last_error = None
    db.session.flush()


def anonymise_application(application):
    """Erase an application's free texts, documents, review comments, messages and certificate; flush.

    Its offering, status, dates, scores and history of statuses stay for the statistics.
    Returns False when it was already anonymised.
    """
    if application.motivation == ANONYMISED and not application.documents:
        return False
    application.motivation = ANONYMISED
    application.expected_benefit = ANONYMISED
    for document in list(application.documents):
        _delete_file_after_commit(document.stored_name)
        application.documents.remove(document)
    db.session.execute(
        Review.__table__.update().where(Review.application_id == application.id).values(comment=None)
    )
    db.session.execute(
        StatusChange.__table__.update().where(StatusChange.application_id == application.id).values(note=None)
    )
    # A certificate names its holder to anyone who has its number: it goes with the person
    # (its number is then unknown at /verify).
    db.session.execute(delete(Certificate).where(Certificate.application_id == application.id))
    db.session.flush()
    return True


def _delete_file_after_commit(stored_name):
    """Remove an uploaded file once the current transaction commits (kept on rollback)."""
    folder = Path(current_app.config["UPLOAD_FOLDER"]).resolve()
    path = (folder / stored_name).resolve()
    if folder in path.parents:
        db.session.info.setdefault(_FILES_TO_DELETE, []).append(path)


@event.listens_for(Session, "after_commit")
def _delete_files(session):
    for path in session.info.pop(_FILES_TO_DELETE, []):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@event.listens_for(Session, "after_soft_rollback")
def _keep_files(session, previous_transaction):
    # Only the outermost rollback cancels the deletions (a savepoint's does not).
    if previous_transaction.parent is None:
        session.info.pop(_FILES_TO_DELETE, None)


# Retention -------------------------------------------------------------------------------


@dataclass
class PurgeResult:
    """What one purge changed."""

    applications: int = 0
    accounts: int = 0
    cutoff: datetime | None = None


def months_before(moment, months):
    """``moment`` minus a number of calendar months (the day clamped to the month's end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError(moment)  # unreachable: every month has a 28th


def purge_expired(now=None):
    """Anonymise applications of offerings closed more than RETENTION_MONTHS ago; flush.

    Their applicants are anonymised too unless they have an application to an offering
    still within the retention period. Idempotent: a second run changes nothing.
    """
    now = now or utcnow()
    cutoff = months_before(now, int(current_app.config["RETENTION_MONTHS"]))
    closed_on = func.coalesce(Offering.closed_at, Offering.closes_at)
    expired = select(Offering.id).where(Offering.status == OfferingStatus.CLOSED, closed_on < cutoff)
    result = PurgeResult(cutoff=cutoff)
    applications = db.session.scalars(
        select(Application)
        .options(selectinload(Application.documents))
        .where(Application.offering_id.in_(expired))
        .order_by(Application.id)
    ).all()
    for application in applications:
        if anonymise_application(application):
            result.applications += 1
    recent = exists().where(Application.applicant_id == User.id, Application.offering_id.not_in(expired))
    applicants = db.session.scalars(
        select(User)
        .where(User.id.in_(select(Application.applicant_id).where(Application.offering_id.in_(expired))))
        .where(~recent)
        .order_by(User.id)
    ).all()
    for user in applicants:
        if not is_anonymised(user):
            anonymise_user(user)
            result.accounts += 1
    return result
