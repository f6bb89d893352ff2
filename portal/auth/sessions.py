"""Loading the logged-in user from the session identifier ``<id>.<auth_version>``."""

from portal.extensions import db


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
