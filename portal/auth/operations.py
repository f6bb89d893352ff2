"""Account operations: each one flushes, the request commits.

Several answers are deliberately identical whether an account exists or not
(registration with a known email or CIN, forgotten password, new confirmation link): the
difference only shows in who receives an email, never on the page.
"""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.associations import membership
from portal.associations import operations as associations
from portal.associations.operations import AssociationError, normalise_registration
from portal.auth import passwords, sessions, throttle, tokens, two_factor
from portal.auth.models import ApplicantProfile, RecoveryCode, User
from portal.auth.validators import normalize_email
from portal.demand import counts as demand_counts
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.notifications.outbox import (
    absolute_url,
    enqueue,
    enqueue_at_send,
    enqueue_to_user,
    prepared_at_send,
)
from portal.timeutil import utcnow
from portal.usererror import UserError
from portal.vocabulary import Role

# ApplicantProfile columns a person fills in (registration and profile forms use these names).
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "first_name_ar",
    "last_name_ar",
    "cin",
    "birth_date",
    "phone",
    "city_id",
    "education_level",
    "association_name",
    "association_registration",
    "association_city_id",
    "association_field",
    "association_role",
    "association_years",
)

CIN_TAKEN = _l(
    "Ce numéro de CIN est déjà associé à un compte. Si c'est le vôtre, connectez-vous ou réinitialisez votre mot de passe."
)
WRONG_PASSWORD = _l("Mot de passe actuel incorrect.")
WRONG_CURRENT_PASSWORD = _l(
    "Mot de passe actuel incorrect. Il est nécessaire pour modifier l'email, le téléphone, la CIN ou le mot de passe."
)


class AccountError(UserError):
    """A rule refused the operation; ``field`` names the form field the message belongs to."""


# The register's fields and the profile form's fields that hold them.
ASSOCIATION_FIELDS = {
    "name_fr": "association_name",
    "registration_number": "association_registration",
    "field": "association_field",
}


def _declared(profile):
    """The register's arguments for what an applicant typed about their association."""
    return {
        "name_fr": profile["association_name"],
        "registration_number": profile["association_registration"],
        "field": profile["association_field"],
    }


def _check_association(profile):
    """Refuse an association the register could not hold, on the profile form's field."""
    try:
        associations.check_declaration(**_declared(profile))
    except AssociationError as refused:
        raise AccountError(refused.message, field=ASSOCIATION_FIELDS.get(refused.field)) from refused


def _link_association(applicant_profile):
    """Point the profile to its register entry: the same number in any spelling, or a new one."""
    values = {name: getattr(applicant_profile, name) for name in ASSOCIATION_FIELDS.values()}
    applicant_profile.association = associations.find_or_declare(
        **_declared(values), city_id=applicant_profile.association_city_id
    )
    # The member's claim follows (pending again for another association; referents told).
    membership.claim(applicant_profile.user, applicant_profile.association)


def check_new_password(password, user_inputs, field="password"):
    """Refuse a new password that breaks the policy (length, common list, strength, own data).

    ``user_inputs`` are what the portal knows of the person (email, names): a password
    made of them is refused. Raises AccountError(reason, field=``field``).
    """
    problem = passwords.password_problem(password or "", [value for value in user_inputs if value])
    if problem:
        raise AccountError(problem, field=field)


def _profile_inputs(email, profile):
    """The email and names of a person being registered or editing their profile."""
    profile = profile or {}
    return [
        email,
        *(profile.get(name) for name in ("first_name", "last_name", "first_name_ar", "last_name_ar")),
    ]


def check_registration_password(email, password, profile):
    """Refuse a registration's password that breaks the policy (AccountError(..., field="password"))."""
    check_new_password(password, _profile_inputs(email, profile))


def find_user_by_email(email):
    """The account with this address (any case), or None."""
    address = normalize_email(email)
    if address is None:
        return None
    return db.session.scalar(select(User).where(User.email == address))


def _cin_taken(cin, except_user_id=None):
    query = select(ApplicantProfile.id).where(ApplicantProfile.cin == cin)
    if except_user_id is not None:
        query = query.where(ApplicantProfile.user_id != except_user_id)
    return db.session.scalar(query.limit(1)) is not None


def _cin_owner(cin):
    """The account whose profile has this CIN, or None."""
    return db.session.scalar(
        select(User)
        .join(ApplicantProfile, ApplicantProfile.user_id == User.id)
        .where(ApplicantProfile.cin == cin)
    )


# Registration and confirmation ---------------------------------------------------------


def _notify_if_taken(email, cin):
    """Tell the owner of a taken address or CIN that someone tried it; whether one was taken."""
    existing = find_user_by_email(email)
    if existing is not None:
        notify_account_exists(existing)
        return True
    cin_owner = _cin_owner(cin)
    if cin_owner is not None:
        notify_cin_used(cin_owner)
        return True
    return False


def register_applicant(email, password, profile, locale):
    """Create an unconfirmed applicant and queue the confirmation email.

    When the address or the CIN already belongs to an account nothing is created: the
    owner is told by email instead, and None is returned so the caller answers as for a
    new account (the page never tells whose the address or the CIN is).
    """
    # The policy depends only on what was typed: refusing here tells nothing about accounts.
    check_registration_password(email, password, profile)
    _check_association(profile)
    # Hash first on every path, so the time taken does not tell whether the email exists.
    password_hash = passwords.hash_password(password)
    if _notify_if_taken(email, profile["cin"]):
        return None
    user = User(
        email=email,
        password_hash=password_hash,
        role=Role.APPLICANT,
        locale=locale,
        consent_at=utcnow(),
        consent_version=current_app.config["PRIVACY_NOTICE_VERSION"],
    )
    user.profile = ApplicantProfile(**{name: profile[name] for name in PROFILE_FIELDS})
    try:
        # A savepoint, so a concurrent registration that won the race leaves the session usable
        # (and declares no association for an account that is not made).
        with db.session.begin_nested():
            _link_association(user.profile)
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        # A concurrent registration took the address or the CIN first.
        if _notify_if_taken(email, profile["cin"]):
            return None
        raise
    demand_counts.account_created(user)
    send_confirmation(user)
    return user


def create_confirmed_user(email, role, password):
    """Create an account whose address is taken as confirmed (the command line); flush.

    Raises AccountError(..., field="email") for a malformed or taken address, "role" for
    an unknown role and ("password", ...) when the password breaks the policy.
    """
    address = normalize_email(email)
    if address is None:
        raise AccountError(_l("Adresse email invalide (exemple : nom@exemple.ma)."), field="email")
    if role not in Role.values():
        raise AccountError(_l("Choisissez une valeur dans la liste."), field="role")
    check_new_password(password, [address])
    if find_user_by_email(address) is not None:
        raise AccountError(_l("Un compte existe déjà avec cette adresse."), field="email")
    user = User(
        email=address, role=role, password_hash=passwords.hash_password(password), email_confirmed_at=utcnow()
    )
    db.session.add(user)
    db.session.flush()
    return user


def notify_account_exists(user):
    """Tell the owner of an address that someone tried to register with it."""
    enqueue_to_user(
        user,
        "account_exists",
        login_link=absolute_url("auth.login"),
        reset_link=absolute_url("auth.forgot"),
    )


def notify_cin_used(user):
    """Tell the owner of a CIN that someone tried to register with it (nothing about them).

    The form that caused it counted against the address typed, not this one: the notice
    is counted here, and silently not sent once this address had its share of account
    emails, so a CIN cannot be used to flood its owner.
    """
    if not throttle.spend_account_email(user.email):
        return
    enqueue_to_user(
        user,
        "cin_used",
        login_link=absolute_url("auth.login"),
        reset_link=absolute_url("auth.forgot"),
        contact=current_app.config["PRIVACY_CONTACT"],
    )


def send_confirmation(user):
    """Queue an email with a link confirming ``user``'s current address (rendered when sent)."""
    return enqueue_at_send("confirm_email", user.email, user=user)


def resend_confirmation(email):
    """Queue a new confirmation link for ``email``, sent if it is an unconfirmed active account's.

    The same row is written whatever the address: the worker decides (see ``_confirmation``).
    """
    _enqueue_link("confirm_email", email)


def _enqueue_link(template, email):
    """Queue the link email ``template`` to a well-formed ``email``; nothing is looked up."""
    address = normalize_email(email)
    if address is not None:
        enqueue_at_send(template, address)


def _link_for(address, endpoint, make_token, wanted=lambda user: True):
    """At send time: ``(user, {"link": ...})`` for the active account with ``address``, or None."""
    user = find_user_by_email(address)
    if user is None or not user.active or not wanted(user):
        return None
    return user, {"link": absolute_url(endpoint, token=make_token(user))}


@prepared_at_send("confirm_email")
def _confirmation(address):
    """At send time: the confirmation link of the active, unconfirmed account with ``address``."""
    return _link_for(address, "auth.confirm", tokens.make_confirm_token, lambda user: not user.is_confirmed)


def confirm_email(user):
    """Mark ``user``'s address as confirmed (idempotent)."""
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        db.session.flush()


# Login and password reset --------------------------------------------------------------


def authenticate(email, password):
    """The active user with this email and password, or None; records the login.

    Unknown addresses verify a dummy hash so that they take as long as a wrong password.
    """
    user = find_user_by_email(email)
    if user is None or not user.password_hash:
        passwords.verify_password(passwords.dummy_hash(), password or "")
        return None
    if not passwords.verify_password(user.password_hash, password or ""):
        return None
    if not user.active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def request_password_reset(email):
    """Queue a reset link for ``email``, sent if it is an active account's; silent otherwise.

    The request writes the same row whether the address has an account or not, and looks
    nothing up, so neither its time nor its SQL tells; the worker decides (``_reset_link``).
    """
    _enqueue_link("reset_password", email)


@prepared_at_send("reset_password")
def _reset_link(address):
    """At send time: a reset link for the active account with ``address``."""
    return _link_for(address, "auth.reset", tokens.make_reset_token)


def set_password(user, password):
    """Replace the password and end every session of ``user`` (the caller may start a new one)."""
    user.password_hash = passwords.hash_password(password)
    user.auth_version = (user.auth_version or 1) + 1
    sessions.end_all_sessions(user)
    db.session.flush()


def reset_password(user, password):
    """Set a new password from a reset link; the link proves the address, so confirm it too.

    Raises AccountError(..., field="password") when the password breaks the policy.
    """
    check_new_password(password, passwords.account_inputs(user))
    set_password(user, password)
    confirm_email(user)
    notify_account_change(user, "password")


# Profile -------------------------------------------------------------------------------


@dataclass
class ProfileUpdate:
    """What ``update_account`` changed, for the page to say so."""

    email_changed: bool = False
    password_changed: bool = False


def sensitive_changes(user, email=None, phone=None, cin=None, new_password=None):
    """Names of the changes that need the current password (email, phone, CIN, password)."""
    changed = set()
    if email is not None and email != user.email:
        changed.add("email")
    if user.profile is not None:
        if phone is not None and phone != user.profile.phone:
            changed.add("phone")
        if cin is not None and cin != user.profile.cin:
            changed.add("cin")
    if new_password:
        changed.add("password")
    return changed


def _association_changed(applicant_profile, profile):
    """Whether the profile form names another association (a new number), or none was linked.

    The same number in another spelling keeps the link, and so does an unchanged one whose entry
    an administrator merged into another (the member followed the merge).
    """
    if applicant_profile.association_id is None:
        return True
    typed = profile.get("association_registration", applicant_profile.association_registration)
    return normalise_registration(typed) != normalise_registration(applicant_profile.association_registration)


def update_account(user, current_password, locale, profile=None, email=None, new_password=None):
    """Apply a profile form: profile fields, language, and guarded email/phone/CIN/password.

    Raises AccountError(..., field="current_password") when a guarded value changes without the
    right current password, AccountError(..., field="cin") when the CIN is another account's and
    AccountError(..., field="new_password") when the new password breaks the policy; nothing is
    changed in these cases. A new email that already has an account is not
    taken and its owner is told, but the answer is the same as for a free address.
    """
    profile = profile or {}
    changed = sensitive_changes(
        user, email=email, phone=profile.get("phone"), cin=profile.get("cin"), new_password=new_password
    )
    if changed and not passwords.verify_password(user.password_hash, current_password or ""):
        raise AccountError(WRONG_CURRENT_PASSWORD, field="current_password")
    relink = user.profile is not None and _association_changed(user.profile, profile)
    if relink:
        _check_association(
            {name: profile.get(name, getattr(user.profile, name)) for name in ASSOCIATION_FIELDS.values()}
        )
    if "cin" in changed and _cin_taken(profile["cin"], except_user_id=user.id):
        raise AccountError(CIN_TAKEN, field="cin")
    if "password" in changed:
        check_new_password(
            new_password,
            [*passwords.account_inputs(user), *_profile_inputs(email, profile)],
            field="new_password",
        )
    result = ProfileUpdate()
    # Notices of the changes go to the address the account had before this form.
    previous_address = user.email
    if user.profile is not None:
        before = demand_counts.standing(user)
        for name in PROFILE_FIELDS:
            if name in profile:
                setattr(user.profile, name, profile[name])
        demand_counts.account_changed(user, before)
        if relink:
            _link_association(user.profile)
    user.locale = locale
    if "email" in changed:
        owner = find_user_by_email(email)
        if owner is not None:
            notify_account_exists(owner)
        else:
            user.email = email
            user.email_confirmed_at = None
            db.session.flush()
            send_confirmation(user)
            notify_account_change(user, "email", to_address=previous_address)
        result.email_changed = True
    if "password" in changed:
        set_password(user, new_password)
        notify_account_change(user, "password", to_address=previous_address)
        result.password_changed = True
    db.session.flush()
    return result


def end_other_sessions(user, current_password, session_id=None):
    """Log ``user`` out of their other devices (or only ``session_id``) once the password is
    typed again (ASVS 3.3.4); flush. Returns how many sessions ended.

    Raises AccountError(..., field="current_password") when the password is wrong.
    """
    if not passwords.verify_password(user.password_hash, current_password or ""):
        raise AccountError(WRONG_PASSWORD, field="current_password")
    return sessions.end_other_sessions(user, session_id)


def notify_account_change(user, change, to_address=None):
    """Tell the owner that a sign-in detail of the account changed (ASVS 2.2.3); flush.

    ``change`` is "password", "email", "two_factor_enabled" or "two_factor_reset". The
    message says what changed and when, and how to take the account back; it goes to
    ``to_address`` when given (the previous address, after an email change).
    """
    enqueue(
        to_address or user.email,
        "account_changed",
        user.locale or "fr",
        user_id=user.id,
        user=user,
        change=change,
        when=utcnow(),
    )


# Second factor ---------------------------------------------------------------------------

WRONG_CODE = _l("Code incorrect ou déjà utilisé. Saisissez le code affiché en ce moment par l'application.")


def enable_two_factor(user, secret, code):
    """Confirm enrolment with the first code of the authenticator; return the recovery codes.

    The codes are returned in clear this once, for the page to show; only their hashes are
    kept. Raises AccountError(..., field="code") when the code does not match ``secret``.
    """
    step = two_factor.matching_step(secret, code)
    if step is None:
        raise AccountError(WRONG_CODE, field="code")
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = two_factor.new_recovery_codes()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=two_factor.hash_recovery_code(c)) for c in codes
    )
    notify_account_change(user, "two_factor_enabled")
    db.session.flush()
    return codes


def verify_second_factor(user, code):
    """Check a TOTP or recovery code: "totp", "recovery", or None when refused.

    Each TOTP time step and each recovery code is accepted once, even by two requests at
    the same moment: the conditional UPDATE lets only one of them through.
    """
    if not user.has_two_factor:
        return None
    if two_factor.looks_like_totp(code):
        step = two_factor.matching_step(user.totp_secret, code, last_step=user.totp_last_step)
        if step is None:
            return None
        claimed = db.session.execute(
            update(User)
            .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(user)
        return "totp" if claimed.rowcount == 1 else None
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    for recovery in unused:
        if two_factor.recovery_code_matches(recovery.code_hash, code):
            claimed = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == recovery.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return "recovery" if claimed.rowcount == 1 else None
    return None


def recovery_codes_left(user):
    """How many unused recovery codes ``user`` still has."""
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def reset_two_factor(user):
    """Forget ``user``'s authenticator and recovery codes and end their sessions; flush.

    For an administrator helping someone who lost both: the next login enrols again.
    """
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    sessions.end_all_sessions(user)
    notify_account_change(user, "two_factor_reset")
    db.session.flush()
