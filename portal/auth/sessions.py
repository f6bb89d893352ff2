"""Sessions: loading the user from the identifier ``<id>.<auth_version>``, logging in and out."""

from flask import session
from flask_login import login_user, logout_user

from portal.extensions import db

# Kept across a session reset: the visitor's language choice is not tied to an account.
_KEPT_ACROSS_LOGIN = ("lang",)


def load_user(session_id):
    """Return the user for a session identifier, or None when it was revoked."""
    from portal.auth.models import User

    user_id, _, version = str(session_id).partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.auth_version != int(version):
        return None
    return user


def _reset_session():
    """Empty the session (a new cookie value), keeping only harmless preferences."""
    kept = {key: session[key] for key in _KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)


def start_session(user):
    """Log ``user`` in on a fresh session, so no value from before the login survives."""
    _reset_session()
    return login_user(user)


def end_session():
    """Log out and forget everything the session held."""
    logout_user()
    _reset_session()
