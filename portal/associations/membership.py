"""Membership endorsed by the association: referents, members' claims, and their decisions.

An administrator names an association's referents (any account). An applicant who links
their profile to an association claims to be a member: the claim starts pending and the
referents are emailed. A referent endorses or declines each member of their association,
never themselves. Each write checks its rules (a MembershipError says why), flushes and
writes its audit event; the request commits.
"""

from functools import cache

from sqlalchemy import and_, bindparam, case, delete, select, update
from sqlalchemy.orm import contains_eager

from portal import permissions
from portal.associations.models import Association, Membership, association_referent
from portal.audit import record
from portal.auth.models import ApplicantProfile, User
from portal.auth.validators import normalize_email
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.notifications.outbox import enqueue_to_user
from portal.timeutil import utcnow
from portal.usererror import UserError
from portal.vocabulary import Endorsement


class MembershipError(UserError):
    """A referent's or an administrator's write that a rule refuses; ``field`` is its form field."""


NOT_A_REFERENT = _l("Seuls les référents de cette association peuvent confirmer ses membres.")
NOT_ONESELF = _l(
    "Vous ne pouvez pas confirmer ou refuser votre propre adhésion : un autre référent de "
    "l'association doit le faire."
)


# Join condition: a claim counts only for the association the member's profile names now
# (a claim left behind by a change of association is not in force).
CLAIM_IN_FORCE = and_(
    ApplicantProfile.user_id == Membership.user_id,
    ApplicantProfile.association_id == Membership.association_id,
)


def membership_of(user):
    """The applicant's claim for the association their profile names now, or None."""
    return db.session.scalar(
        select(Membership).join(ApplicantProfile, CLAIM_IN_FORCE).where(Membership.user_id == user.id)
    )


@cache
def _standing_statements():
    """The queries of ``association_standing``, built once (they keep their cache keys)."""
    referent = (
        select(association_referent.c.user_id)
        .where(association_referent.c.user_id == bindparam("user_id"))
        .exists()
    )
    standing = (
        select(Association.name_fr, Membership.state, referent)
        .select_from(ApplicantProfile)
        .outerjoin(Membership, CLAIM_IN_FORCE)
        .outerjoin(Association, Association.id == Membership.association_id)
        .where(ApplicantProfile.user_id == bindparam("user_id"))
    )
    return standing, select(referent)


def association_standing(user):
    """``(name, state, is_referent)`` for an applicant's dashboard, in one query.

    ``name`` and ``state`` are those of their claim in force (None without one: see
    ``membership_of``); ``is_referent`` whether they are a referent of any association.
    """
    standing, referent = _standing_statements()
    # Plain columns: run on the session's connection, the ORM's execution layer has nothing to do.
    row = db.session.connection().execute(standing, {"user_id": user.id}).first()
    if row is None:
        # No profile, hence no claim; a referent all the same, perhaps.
        return None, None, bool(db.session.scalar(referent, {"user_id": user.id}))
    return row[0], row[1], bool(row[2])


def claim(user, association):
    """Record that ``user`` says they belong to ``association`` (None: to none); flush.

    Called when a profile's association is set or changed. A claim for another association
    (or none yet) starts pending, and each referent of the new association is emailed in
    their language; the same association keeps its decision. Returns the claim or None.
    """
    existing = None
    if user.id is not None:  # a new account (registration) has no claim yet
        existing = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    if association is None:
        if existing is not None:
            db.session.delete(existing)
            db.session.flush()
        return None
    if existing is not None and existing.association_id == association.id:
        return existing
    if existing is None:
        existing = Membership(user=user)
        db.session.add(existing)
    existing.association = association
    existing.state = Endorsement.PENDING
    existing.decided_by_id = None
    existing.decided_at = None
    existing.claimed_at = utcnow()
    db.session.flush()
    _tell_referents(existing)
    return existing


def _tell_referents(membership):
    """Email each referent of the claim's association (the member themselves excepted)."""
    for referent in membership.association.referents:
        if referent.id == membership.user_id or not referent.is_active:
            continue
        enqueue_to_user(
            referent,
            "membership_claimed",
            association=membership.association,
            member=membership.user,
        )


def decide(actor, membership, state):
    """A referent endorses or declines a member of their association; flush.

    Refused for anyone who is not a referent of the association, and for a referent
    deciding on their own claim.
    """
    if state not in Endorsement.DECISIONS:
        raise MembershipError(_l("Choisissez une valeur dans la liste."))
    state = Endorsement(state)
    if membership.user_id == getattr(actor, "id", None):
        raise MembershipError(NOT_ONESELF)
    if not permissions.can_decide_membership(actor, membership):
        raise MembershipError(NOT_A_REFERENT)
    before = membership.state
    if before == state:
        return membership
    # Conditional on the claim being the one the referent saw: a member who moved to another
    # association meanwhile (pending there) is not decided on by this association's referent.
    changed = db.session.execute(
        update(Membership)
        .where(
            Membership.id == membership.id,
            Membership.association_id == membership.association_id,
            Membership.state == before,
        )
        .values(state=state.value, decided_by_id=actor.id, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise MembershipError(
            _l("Cette adhésion vient d'être modifiée. Rechargez la page pour voir son nouvel état.")
        )
    db.session.refresh(membership)
    record(
        actor,
        "membership_decided",
        "association_membership",
        membership.id,
        before={"state": before, "association": membership.association_id},
        after={"state": state.value},
    )
    db.session.flush()
    return membership


def add_referent(actor, association, email):
    """Name the account with ``email`` a referent of ``association``; flush; the account."""
    address = normalize_email(email or "")
    if address is None:
        raise MembershipError(_l("Adresse email invalide (exemple : nom@exemple.ma)."), field="email")
    user = db.session.scalar(select(User).where(User.email == address))
    if user is None or not user.is_active:
        raise MembershipError(_l("Aucun compte actif n'a cette adresse email."), field="email")
    if any(r.id == user.id for r in association.referents):
        raise MembershipError(_l("Ce compte est déjà référent de cette association."), field="email")
    association.referents.append(user)
    record(actor, "referent_added", "association", association.id, after={"referent": user.id})
    db.session.flush()
    return user


def remove_referent(actor, association, user):
    """Stop ``user`` being a referent of ``association``; flush (their past decisions stay)."""
    if not any(r.id == user.id for r in association.referents):
        raise MembershipError(_l("Ce compte n'est pas référent de cette association."))
    association.referents.remove(user)
    record(actor, "referent_removed", "association", association.id, before={"referent": user.id})
    db.session.flush()


def referred_associations(user):
    """The associations ``user`` is a referent of, by name (empty for most accounts)."""
    if not user or not user.is_authenticated:
        return []
    return db.session.scalars(
        select(Association)
        .join(association_referent, association_referent.c.association_id == Association.id)
        .where(association_referent.c.user_id == user.id)
        .order_by(Association.name_fr, Association.id)
    ).all()


def members_page(associations, page, per_page):
    """The claims to the ``associations``, pending first, then by name; paginated.

    Each claim comes with its member and profile in the same query (no query per row);
    claims that no longer match the member's profile are left out.
    """
    pending_first = case((Membership.state == Endorsement.PENDING, 0), else_=1)
    stmt = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .join(ApplicantProfile, CLAIM_IN_FORCE)
        .where(Membership.association_id.in_([a.id for a in associations]))
        .order_by(pending_first, ApplicantProfile.last_name, ApplicantProfile.first_name, Membership.id)
    )
    stmt = stmt.options(contains_eager(Membership.user).contains_eager(User.profile))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def forget(user):
    """Remove ``user``'s claim and referent roles (account erased); flush."""
    db.session.execute(delete(Membership).where(Membership.user_id == user.id))
    db.session.execute(delete(association_referent).where(association_referent.c.user_id == user.id))
    db.session.flush()


def merge_into(keep, drop):
    """Move ``drop``'s claims and referents to ``keep`` (its decisions stay); flush."""
    for membership in db.session.scalars(select(Membership).where(Membership.association_id == drop.id)):
        membership.association_id = keep.id
    kept = {r.id for r in keep.referents}
    for referent in list(drop.referents):
        if referent.id not in kept:
            keep.referents.append(referent)
    drop.referents.clear()
    db.session.flush()
