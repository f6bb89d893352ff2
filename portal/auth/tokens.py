"""Signed, expiring links for email confirmation and password reset.

Tokens are ``itsdangerous`` URL-safe timed signatures made with the application's secret
key and a salt per purpose. Their clock is ``portal.timeutil.utcnow``, so tests can
freeze time and expire a link deterministically. Each token also carries a fingerprint
of the state it acts on — the email address for a confirmation, the password hash for
a reset — so it stops working once that state changed: a reset link works once, and a
confirmation link cannot confirm an address the account no longer has.
"""

import hashlib
import hmac
from datetime import UTC

from flask import current_app
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from portal.extensions import db
from portal.timeutil import utcnow

CONFIRM_SALT = "portal.auth.confirm-email"
RESET_SALT = "portal.auth.reset-password"


class _ClockSigner(TimestampSigner):
    """A timestamp signer reading the portal's (freezable) clock."""

    def get_timestamp(self):
        """Seconds since the epoch, from ``utcnow()``."""
        return int(utcnow().replace(tzinfo=UTC).timestamp())


def _serializer(salt):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt, signer=_ClockSigner)


def fingerprint(value):
    """A short keyed digest of ``value``: binds a token to a state without revealing it."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, (value or "").encode(), hashlib.sha256).hexdigest()[:24]


def _load(token, salt, max_age):
    """The payload of a valid, unexpired token, or None."""
    if not isinstance(token, str) or len(token) > 512:
        return None
    try:
        payload = _serializer(salt).loads(token, max_age=max_age)
    except BadData:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        return None
    return payload


def _user(payload):
    from portal.auth.models import User

    return db.session.get(User, payload["u"]) if payload else None


def make_confirm_token(user):
    """A link token confirming ``user``'s current email address."""
    return _serializer(CONFIRM_SALT).dumps({"u": user.id, "e": fingerprint(user.email)})


def _still_valid(token, salt, max_age_setting, claim, current):
    """The user of a token whose ``claim`` still matches ``current(user)``, or None."""
    payload = _load(token, salt, current_app.config[max_age_setting])
    user = _user(payload)
    if user is None or not hmac.compare_digest(str(payload.get(claim)), fingerprint(current(user))):
        return None
    return user


def read_confirm_token(token):
    """The user a confirmation token is for, or None (invalid, expired or stale address)."""
    return _still_valid(token, CONFIRM_SALT, "CONFIRM_TOKEN_MAX_AGE", "e", lambda user: user.email)


def make_reset_token(user):
    """A link token allowing one password reset of ``user``."""
    return _serializer(RESET_SALT).dumps({"u": user.id, "p": fingerprint(user.password_hash)})


def read_reset_token(token):
    """The user a reset token is for, or None (invalid, expired, or password changed since)."""
    return _still_valid(token, RESET_SALT, "RESET_TOKEN_MAX_AGE", "p", lambda user: user.password_hash)
