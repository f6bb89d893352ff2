"""Signed, expiring invitation links for staff accounts.

An invitation token carries the user id and a keyed fingerprint of the account's
password hash (empty while the invitation is pending). Once a password is chosen the
fingerprint no longer matches, so a link works once; it also expires after
``INVITE_TOKEN_MAX_AGE`` seconds (7 days by default), read on the portal's clock.
"""

import hashlib
import hmac
from datetime import UTC

from flask import current_app
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from portal.extensions import db
from portal.timeutil import utcnow

# The salt keeps its first name: links already sent stay valid.
INVITE_SALT = "portal.admin.staff-invite"


class _ClockSigner(TimestampSigner):
    """A timestamp signer reading the portal's (freezable) clock."""

    def get_timestamp(self):
        """Seconds since the epoch, from ``utcnow()``."""
        return int(utcnow().replace(tzinfo=UTC).timestamp())


def max_age():
    """How long an invitation link stays valid, in seconds."""
    return int(current_app.config["INVITE_TOKEN_MAX_AGE"])


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=INVITE_SALT, signer=_ClockSigner)


def _fingerprint(value):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, (value or "").encode(), hashlib.sha256).hexdigest()[:24]


def make_invite_token(user):
    """A link token letting ``user`` choose their first password."""
    return _serializer().dumps({"u": user.id, "p": _fingerprint(user.password_hash)})


def read_invite_token(token):
    """The user an invitation is for, or None (invalid, expired, used, or account disabled)."""
    from portal.auth.models import User

    if not isinstance(token, str) or len(token) > 512:
        return None
    try:
        payload = _serializer().loads(token, max_age=max_age())
    except BadData:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        return None
    user = db.session.get(User, payload["u"])
    if user is None or not user.active or user.password_hash is not None:
        return None
    if not hmac.compare_digest(str(payload.get("p")), _fingerprint(user.password_hash)):
        return None
    return user
