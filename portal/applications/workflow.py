"""The application state machine: the table of transitions and the one function applying it.

The statuses are in ``portal.vocabulary``, the table in ``states.py`` (read by permissions too);
``transition()`` is the only code that assigns ``Application.status``. It checks the
table and the permission, keeps the seat invariant in the database, appends the
StatusChange, moves the application in the counts per offering and status
(``counts.py``, read by the dashboard), enqueues the email to the applicant and, when a
seat frees, promotes the best wait-listed candidate; the moves the system makes are
audited. ``start()`` writes a new application's first StatusChange through the same
``_record_change()`` and counts it.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal import permissions
from portal.applications import counts
from portal.audit import record
from portal.extensions import db
from portal.i18n import force_locale
from portal.templating import format_day
from portal.timeutil import local_day, utcnow
from portal.usererror import UserError
from portal.vocabulary import ApplicationStatus, CompletionReason, Endorsement

S = ApplicationStatus

# Email template sent to the applicant on arrival in each status.
EMAIL_FOR_STATUS = {
    S.UNDER_REVIEW: "status_under_review",
    S.ACCEPTED: "status_accepted",
    S.WAITLISTED: "status_waitlisted",
    S.REJECTED: "status_rejected",
    S.CONFIRMED: "status_confirmed",
    S.WITHDRAWN: "status_withdrawn",
    S.EXPIRED: "status_expired",
    S.COMPLETED: "status_completed",
    S.NOT_COMPLETED: "status_not_completed",
}


class WorkflowError(UserError):
    """A transition that cannot happen; ``message`` is translated for the user."""


class NotAllowed(WorkflowError):
    """The table or the permission forbids this transition."""


class SeatsFull(WorkflowError):
    """Accepting would exceed the offering's seats."""


class AssociationFull(WorkflowError):
    """Accepting would exceed the seats one association may hold in the offering."""


class NotEndorsed(WorkflowError):
    """The offering requires an endorsed membership and the applicant's is not endorsed."""


class ConflictOfInterest(NotAllowed):
    """A staff member would judge their own application or one of their association's members."""


class StaleStatus(WorkflowError):
    """Someone else changed the application first (compare-and-set failed)."""


class DeadlinePassed(WorkflowError):
    """The seat confirmation deadline has passed."""


class CourseNotStarted(WorkflowError):
    """A cohort's outcome is recorded only once the offering's course has started."""


class ReasonRequired(WorkflowError):
    """Not completing needs one of the reasons of ``CompletionReason``."""


def course_started(offering, now=None):
    """Whether ``offering``'s course has started: its start day (Moroccan time) has come.

    An offering without a start date has not started: nothing can be recorded for it, and
    a seat it frees still promotes the waitlist.
    """
    if offering.course_starts_on is None:
        return False
    return local_day(now or utcnow()) >= offering.course_starts_on.date()


def _check_outcome(application, to, reason, now):
    """The rules of a cohort's outcome: after the course start; a known reason for not completing.

    Returns the reason to store (None for completed: recording completion clears it).
    """
    from portal.i18n import lazy_gettext as _l

    if not course_started(application.offering, now):
        start = application.offering.course_starts_on
        if start is None:
            raise CourseNotStarted(
                _l(
                    "La date de début de cette session n'est pas fixée : le résultat de la formation ne peut pas encore être enregistré."
                )
            )
        raise CourseNotStarted(
            _l(
                "La formation commence le %(day)s : son résultat ne peut être enregistré qu'à partir de ce jour.",
                day=format_day(start.date()),
            )
        )
    if to == S.COMPLETED:
        return None
    try:
        return CompletionReason(reason)
    except ValueError:
        raise ReasonRequired(
            _l("Choisissez pourquoi la formation n'a pas été achevée."), field="reason"
        ) from None


def refuse_conflict_of_interest(actor, application):
    """Raise ConflictOfInterest when staff ``actor`` is the applicant or tied to their association."""
    from portal.i18n import lazy_gettext as _l

    if actor is not None and permissions.is_staff(actor) and permissions.has_conflict(actor, application):
        raise ConflictOfInterest(
            _l(
                "Conflit d'intérêts : vous ne pouvez pas décider d'une candidature qui est la vôtre ou "
                "celle d'un membre d'une association à laquelle vous êtes lié."
            )
        )


def transition(application, to, actor, note=None, *, promoted=False, reason=None):
    """Move ``application`` to ``to`` on behalf of ``actor`` (None: the system); flush.

    Raises a WorkflowError subclass when the move is not possible; the database then holds
    nothing of it, because every write here is conditional and happens in order. A cohort's
    outcome (completed, not completed) comes after the course start; not completed needs
    ``reason`` (a ``CompletionReason``), which becomes the note in the participant's language.
    """
    from portal.applications.models import Application
    from portal.catalog.models import Offering
    from portal.i18n import lazy_gettext as _l

    to = ApplicationStatus(to)
    current = ApplicationStatus(application.status)
    if to in permissions.STAFF_TARGETS:
        # Whatever the path (page, bulk, command line, code): the permission below says no
        # too; this says why.
        refuse_conflict_of_interest(actor, application)
    if not permissions.can_transition(actor, application, to):
        raise NotAllowed(_l("Cette action n'est pas possible pour cette candidature."))
    now = utcnow()
    if to == S.CONFIRMED and application.confirmation_deadline and now > application.confirmation_deadline:
        raise DeadlinePassed(_l("Le délai de confirmation de la place est dépassé."))
    if to in S.OUTCOMES:
        reason = _check_outcome(application, to, reason, now)
        if reason is not None:
            with force_locale(application.applicant.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
                note = str(reason.label)

    takes_seat = to in S.SEAT_HOLDING and current not in S.SEAT_HOLDING
    frees_seat = current in S.SEAT_HOLDING and to not in S.SEAT_HOLDING

    # A savepoint, so that a refused compare-and-set leaves no seat taken behind it.
    with db.session.begin_nested():
        if db.engine.dialect.name == "postgresql":
            # The offering first, then its rows (seats, counts): transactions moving several
            # applications of it take their locks in one order and cannot deadlock.
            # (SQLite has one writer at a time.)
            db.session.execute(
                select(Offering.id)
                .where(Offering.id == application.offering_id)
                .with_for_update(key_share=True)
            )
        if to == S.ACCEPTED:
            _check_endorsement(application)
        if takes_seat:
            taken = db.session.execute(
                update(Offering)
                .where(Offering.id == application.offering_id, Offering.seats_held < Offering.seats)
                .values(seats_held=Offering.seats_held + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                raise SeatsFull(
                    _l(
                        "Toutes les places de cette session sont attribuées. Vous pouvez placer la candidature sur liste d'attente."
                    )
                )
            seat_association_id = _take_association_seat(application)
        if frees_seat:
            _release_association_seat(application)
        values = {"status": to.value, "updated_at": now, "version": Application.version + 1}
        if takes_seat:
            values["seat_association_id"] = seat_association_id
        elif frees_seat:
            values["seat_association_id"] = None
        if to in S.DECIDED:
            values["decided_at"] = now
        if to in S.OUTCOMES:
            values["completion_reason"] = None if reason is None else reason.value
        if to == S.ACCEPTED:
            days = current_app.config["CONFIRMATION_DAYS"]
            values["confirmation_deadline"] = now + timedelta(days=days)
        changed = db.session.execute(
            update(Application)
            .where(Application.id == application.id, Application.status == current.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise StaleStatus(
                _l(
                    "Cette candidature vient d'être modifiée par quelqu'un d'autre. Rechargez la page pour voir son nouvel état."
                )
            )
        if frees_seat:
            db.session.execute(
                update(Offering)
                .where(Offering.id == application.offering_id)
                .values(seats_held=Offering.seats_held - 1)
                .execution_options(synchronize_session=False)
            )
        counts.count_move(application.offering_id, current, to)
        change = _record_change(application, current, to, actor, note, now)
        if actor is None:
            _audit_system(application, current, to, promoted)
        elif to in S.OUTCOMES:
            after = {"status": to.value}
            if reason is not None:
                after["completion_reason"] = reason.value
            record(
                actor,
                "outcome_recorded",
                "application",
                application.reference,
                before={"status": current.value},
                after=after,
            )
        db.session.flush()

    db.session.refresh(application)
    db.session.refresh(application.offering)
    _notify(application, to, note, promoted=promoted)
    if frees_seat:
        promote_waitlist(application.offering)
    return change


def _take_association_seat(application):
    """Count the seat in the applicant's association, within the offering's cap; its id or None.

    Like the seat count: one conditional UPDATE against the cap as stored, so concurrent
    accepts cannot pass it. The counter row is inserted first when missing (a concurrent
    insert of the same row is ignored). Raises AssociationFull at the cap.
    """
    from portal.auth.models import ApplicantProfile
    from portal.catalog.models import Offering, OfferingAssociationSeat
    from portal.i18n import lazy_gettext as _l

    association_id = db.session.scalar(
        select(ApplicantProfile.association_id).where(ApplicantProfile.user_id == application.applicant_id)
    )
    if association_id is None:
        return None  # no association: no limit
    key = {"offering_id": application.offering_id, "association_id": association_id}
    dialect_insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(dialect_insert(OfferingAssociationSeat).values(**key, held=0).on_conflict_do_nothing())
    cap = (
        select(Offering.max_seats_per_association)
        .where(Offering.id == application.offering_id)
        .scalar_subquery()
    )
    taken = db.session.execute(
        update(OfferingAssociationSeat)
        .where(
            OfferingAssociationSeat.offering_id == application.offering_id,
            OfferingAssociationSeat.association_id == association_id,
            or_(cap.is_(None), OfferingAssociationSeat.held < cap),
        )
        .values(held=OfferingAssociationSeat.held + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        limit = db.session.scalar(
            select(Offering.max_seats_per_association).where(Offering.id == application.offering_id)
        )
        raise AssociationFull(
            _l(
                "L'association de ce candidat a atteint la limite de places par association dans "
                "cette session (%(limit)s). Vous pouvez placer la candidature sur liste d'attente.",
                limit=limit,
            )
        )
    return association_id


def _check_endorsement(application):
    """Refuse accepting when the offering requires an endorsed membership and it is not.

    The claim must be for the association the profile names now, endorsed by a referent.
    Read with a shared lock (PostgreSQL): a referent's concurrent decision waits for the
    accept to commit, so the accept never rests on a decision being withdrawn.
    """
    from portal.associations.membership import CLAIM_IN_FORCE
    from portal.associations.models import Membership
    from portal.auth.models import ApplicantProfile
    from portal.catalog.models import Offering
    from portal.i18n import lazy_gettext as _l

    required = db.session.scalar(
        select(Offering.endorsement_required).where(Offering.id == application.offering_id)
    )
    if not required:
        return
    state = db.session.scalar(
        select(Membership.state)
        .join(ApplicantProfile, CLAIM_IN_FORCE)
        .where(Membership.user_id == application.applicant_id)
        .with_for_update(read=True, of=Membership)
    )
    if state != Endorsement.ENDORSED:
        raise NotEndorsed(
            _l(
                "Cette session exige une adhésion confirmée par l'association : l'adhésion de ce "
                "candidat n'est pas confirmée par un référent de son association (%(state)s).",
                state=Endorsement.label_of(state) if state else _l("aucune association"),
            )
        )


def _release_association_seat(application):
    """Give back the seat counted in the association recorded on the application, if any."""
    from portal.applications.models import Application
    from portal.catalog.models import OfferingAssociationSeat

    # Read from the row, not the object: the counter is the one the seat was taken in.
    counted_in = (
        select(Application.seat_association_id).where(Application.id == application.id).scalar_subquery()
    )
    db.session.execute(
        update(OfferingAssociationSeat)
        .where(
            OfferingAssociationSeat.offering_id == application.offering_id,
            OfferingAssociationSeat.association_id == counted_in,
        )
        .values(held=OfferingAssociationSeat.held - 1)
        .execution_options(synchronize_session=False)
    )


def start(application, actor):
    """Record the arrival of a new application in ``submitted``; flush.

    The application is already inserted (it has an id) by the operation that checked the
    submission rules. Its first StatusChange (none → submitted) is written here, by the
    same function as every other one, and the acknowledgement is emailed.
    """
    from portal.i18n import lazy_gettext as _l
    from portal.notifications.outbox import enqueue_to_user

    if application.id is None or ApplicationStatus(application.status) != S.SUBMITTED:
        raise NotAllowed(_l("Cette action n'est pas possible pour cette candidature."))
    now = application.submitted_at or utcnow()
    change = _record_change(application, None, S.SUBMITTED, actor, None, now)
    counts.count_arrival(application.offering_id, S.SUBMITTED, now)
    # The email's flush writes the StatusChange with it (and whatever the caller added).
    enqueue_to_user(
        application.applicant, "application_received", application=application, offering=application.offering
    )
    return change


def _record_change(application, current, to, actor, note, now):
    """Append the StatusChange of one transition: the only code that writes one."""
    from portal.applications.models import StatusChange

    change = StatusChange(
        application_id=application.id,
        from_status=None if current is None else current.value,
        to_status=to.value,
        actor_id=getattr(actor, "id", None),
        note=note or None,
        created_at=now,
    )
    db.session.add(change)
    return change


def _audit_system(application, current, to, promoted):
    """Audit a transition the system made, as staff actions are (actor None: the system)."""
    before, after = {"status": current.value}, {"status": to.value}
    if promoted:
        record(None, "application_promoted", "application", application.reference, before=before, after=after)
    elif to == S.EXPIRED:
        record(None, "application_expired", "application", application.reference, before=before, after=after)
    elif to == S.WITHDRAWN:
        record(
            None, "application_withdrawn", "application", application.reference, before=before, after=after
        )
    else:
        record(None, "application_moved", "application", application.reference, before=before, after=after)


def release_applicant(applicant, reason):
    """Withdraw every active application of ``applicant``, the system acting; flush.

    Used when the person can no longer take part (account deactivated, or given a staff
    role; an erasure withdraws them as the applicant's own act): their seats are freed and
    wait-listed candidates promoted through ``transition``. ``reason`` (a lazy string) tells them why: it becomes the
    StatusChange note, quoted in the email, so it is written in their language.
    Returns the applications withdrawn.
    """
    from portal.applications.models import Application

    active = db.session.scalars(
        select(Application)
        .where(Application.applicant_id == applicant.id, Application.status.in_([s.value for s in S.ACTIVE]))
        .order_by(Application.id)
    ).all()
    if not active:
        return []
    with force_locale(applicant.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        note = str(reason)
    for application in active:
        transition(application, S.WITHDRAWN, None, note=note)
    return active


def _notify(application, to, note, promoted=False):
    """Enqueue the email for arriving in ``to``."""
    from portal.notifications.outbox import enqueue_to_user

    template = "status_promoted" if promoted else EMAIL_FOR_STATUS.get(to)
    if not template:
        return
    context = {"application": application, "note": note}
    if to == S.WAITLISTED:
        context["rank"] = waitlist_rank(application)
    enqueue_to_user(application.applicant, template, **context)


def waitlist_rank(application):
    """1-based position of a wait-listed application in its offering's waitlist, else None.

    One COUNT of the candidates ranked ahead (``BEST_CANDIDATE_FIRST``), served by
    the (offering, status, mean score, submission) index instead of loading the waitlist.
    """
    from portal.applications.models import Application

    if application.status != S.WAITLISTED:
        return None
    score, submitted_at = application.mean_score, application.submitted_at
    earlier = or_(
        Application.submitted_at < submitted_at,
        and_(Application.submitted_at == submitted_at, Application.id < application.id),
    )
    if score is None:
        # Unscored candidates come last: every scored one is ahead.
        ahead = or_(Application.mean_score.is_not(None), earlier)
    else:
        ahead = or_(Application.mean_score > score, and_(Application.mean_score == score, earlier))
    return 1 + db.session.scalar(
        select(func.count())
        .select_from(Application)
        .where(Application.offering_id == application.offering_id, Application.status == S.WAITLISTED, ahead)
    )


def promote_waitlist(offering):
    """Accept wait-listed candidates, best first, while the offering has free seats.

    A candidate whose association already holds the offering's cap is passed over. Once
    the course has started nobody is promoted: the cohort is the one that started.
    """
    from portal.applications.models import BEST_CANDIDATE_FIRST, Application
    from portal.associations.membership import CLAIM_IN_FORCE
    from portal.associations.models import Membership
    from portal.auth.models import ApplicantProfile
    from portal.catalog.models import OfferingAssociationSeat

    promoted = []
    # A caller may just have raised ``offering.seats``: refresh() below would discard it.
    db.session.flush()
    if course_started(offering):
        # The cohort is formed: a seat freed now stays empty, nobody joins a running course.
        return promoted
    while True:
        db.session.refresh(offering)
        if offering.seats_held >= offering.seats:
            break
        query = select(Application).where(
            Application.offering_id == offering.id, Application.status == S.WAITLISTED
        )
        cap = offering.max_seats_per_association
        if cap is not None:
            query = (
                query.outerjoin(ApplicantProfile, ApplicantProfile.user_id == Application.applicant_id)
                .outerjoin(
                    OfferingAssociationSeat,
                    and_(
                        OfferingAssociationSeat.offering_id == offering.id,
                        OfferingAssociationSeat.association_id == ApplicantProfile.association_id,
                    ),
                )
                .where(or_(OfferingAssociationSeat.held.is_(None), OfferingAssociationSeat.held < cap))
            )
        if offering.endorsement_required:
            # Only members endorsed by their association may be accepted: the others wait.
            query = query.where(
                select(Membership.id)
                .join(ApplicantProfile, CLAIM_IN_FORCE)
                .where(
                    Membership.user_id == Application.applicant_id, Membership.state == Endorsement.ENDORSED
                )
                .correlate(Application)
                .exists()
            )
        candidate = db.session.scalars(query.order_by(*BEST_CANDIDATE_FIRST).limit(1)).first()
        if candidate is None:
            break
        try:
            transition(candidate, S.ACCEPTED, None, promoted=True)
        except (SeatsFull, AssociationFull, NotEndorsed, StaleStatus):
            # Another request took the seat or the candidate first; look again.
            continue
        promoted.append(candidate)
    return promoted


def expire_unconfirmed(now=None):
    """Expire accepted applications whose confirmation deadline has passed (frees seats)."""
    from portal.applications.models import Application

    now = now or utcnow()
    due = db.session.scalars(
        select(Application).where(Application.status == S.ACCEPTED, Application.confirmation_deadline < now)
    ).all()
    expired = []
    for application in due:
        try:
            transition(application, S.EXPIRED, None)
        except StaleStatus:
            continue
        expired.append(application)
    return expired
