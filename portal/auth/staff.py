"""Staff accounts: invitations, roles, deactivation, second-factor reset.

Each operation flushes and writes its audit event; the request commits.
"""

from sqlalchemy import select

from portal.applications.workflow import release_applicant
from portal.audit import record
from portal.auth.models import User
from portal.auth.operations import reset_two_factor
from portal.auth.passwords import account_inputs, password_problem
from portal.auth.sessions import end_all_sessions
from portal.demand import counts as demand_counts
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.notifications.outbox import enqueue_at_send, prepared_at_send
from portal.refusals import AdminError
from portal.timeutil import utcnow
from portal.vocabulary import Role


def invite_staff(actor, email, role):
    """Create a staff account without a password and email it a link to choose one; flush.

    Inviting again an address whose invitation is still pending sends a fresh link.
    """
    if role not in Role.STAFF:
        raise AdminError(_l("Choisissez une valeur dans la liste."), field="role")
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None and (user.password_hash is not None or user.role == Role.APPLICANT):
        raise AdminError(
            _l("Un compte existe déjà avec cette adresse ; changez son rôle depuis la liste."), field="email"
        )
    if user is None:
        user = User(email=email, role=role, password_hash=None, active=True, locale=actor.locale or "fr")
        db.session.add(user)
        db.session.flush()
        before = None
    else:
        before = {"role": user.role}
        standing = demand_counts.standing(user)
        user.role = role
        user.active = True
        demand_counts.account_changed(user, standing)
    record(actor, "user_invited", "user", user.id, before=before, after={"role": role})
    # The link is made when the email is sent, so the outbox never holds it.
    enqueue_at_send("staff_invite", user.email, user=user)
    db.session.flush()
    return user


@prepared_at_send("staff_invite")
def _invitation(address):
    """At send time: the invitation link of the pending staff account with ``address``."""
    from portal.auth.invitations import make_invite_token, max_age

    user = db.session.scalar(select(User).where(User.email == address))
    if user is None or not user.active or user.password_hash is not None or user.role not in Role.STAFF:
        return None
    return user, {"token": make_invite_token(user), "role": user.role, "days": max(max_age() // 86400, 1)}


def accept_invite(user, password):
    """The invited staff member chooses a password: the account becomes usable; flush.

    Raises AdminError(field="password") when the password breaks the policy.
    """
    from portal.auth.passwords import hash_password

    problem = password_problem(password or "", account_inputs(user))
    if problem:
        raise AdminError(problem, field="password")
    user.password_hash = hash_password(password)
    if user.email_confirmed_at is None:
        # Following the emailed link proves the address.
        user.email_confirmed_at = utcnow()
    user.auth_version += 1
    record(user, "invite_accepted", "user", user.id)
    db.session.flush()


def change_role(actor, user, role):
    """Give ``user`` another role; flush. Administrators cannot change their own."""
    if role not in Role.values():
        raise AdminError(_l("Choisissez une valeur dans la liste."), field="role")
    if user.id == actor.id:
        raise AdminError(_l("Vous ne pouvez pas modifier votre propre rôle."), field="role")
    if user.role == role:
        return
    old = user.role
    if old == Role.APPLICANT:
        # Staff do not apply: a seat they held goes to the next wait-listed candidate.
        release_applicant(user, _l("Candidature retirée : ce compte n'est plus un compte de candidat."))
    standing = demand_counts.standing(user)
    user.role = role
    demand_counts.account_changed(user, standing)
    if role != Role.REVIEWER and user.reviewed_offerings:
        # A former reviewer keeps no assignment that would come back with the role.
        user.reviewed_offerings = []
    record(actor, "role_changed", "user", user.id, before={"role": old}, after={"role": role})
    db.session.flush()


def deactivate_user(actor, user):
    """Deactivate an account: no more logins, and its open sessions end at once; flush."""
    if user.id == actor.id:
        raise AdminError(_l("Vous ne pouvez pas désactiver votre propre compte."))
    if not user.active:
        raise AdminError(_l("Ce compte est déjà désactivé."))
    # Before the account goes: a seat it held goes to the next wait-listed candidate.
    release_applicant(user, _l("Candidature retirée : ce compte a été désactivé."))
    standing = demand_counts.standing(user)
    user.active = False
    demand_counts.account_changed(user, standing)
    # The session identifier embeds auth_version: bumping it revokes every session.
    user.auth_version += 1
    end_all_sessions(user)
    record(actor, "user_deactivated", "user", user.id, before={"active": True}, after={"active": False})
    db.session.flush()


def reactivate_user(actor, user):
    """Allow a deactivated account to log in again; flush."""
    if user.active:
        raise AdminError(_l("Ce compte est déjà actif."))
    standing = demand_counts.standing(user)
    user.active = True
    demand_counts.account_changed(user, standing)
    record(actor, "user_reactivated", "user", user.id, before={"active": False}, after={"active": True})
    db.session.flush()


def reset_second_factor(actor, user):
    """Forget a staff member's authenticator and recovery codes (a lost phone); flush.

    Their open sessions end, and the next login asks them to enrol a new authenticator.
    Nobody resets their own: another administrator checks who is asking.
    """
    if user.id == actor.id:
        raise AdminError(_l("Vous ne pouvez pas réinitialiser votre propre double authentification."))
    if user.totp_enabled_at is None:
        raise AdminError(_l("Ce compte n'a pas de double authentification à réinitialiser."))
    reset_two_factor(user)
    record(actor, "two_factor_reset", "user", user.id, before={"enrolled": True}, after={"enrolled": False})
    db.session.flush()
