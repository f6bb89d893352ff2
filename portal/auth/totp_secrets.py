"""TOTP secrets encrypted at rest (ASVS V6, stored cryptography): Fernet, with key rotation.

A stolen copy of the database (a backup, a dump) must not let anyone compute the staff's
second-factor codes, so the secret is stored encrypted with a key kept outside the
database: the ``TOTP_ENCRYPTION_KEYS`` setting, one or more Fernet keys (AES-128-CBC with
HMAC-SHA256). The first key encrypts; every key in the list decrypts (``MultiFernet``). To
rotate, put a new key first, keep the old one second, restart every process, run
``flask --app portal totp reencrypt``, then drop the old key.

This module is the only code that reads or writes the encrypted column
``User.totp_secret_encrypted``; the rest of the portal uses ``User.totp_secret``, which
calls ``read`` and ``store``.
"""

import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import select, update

from portal.extensions import db


class UnreadableSecret(RuntimeError):
    """A stored secret that none of the configured keys decrypts (a key was removed too soon)."""


def generate_key():
    """A new random Fernet key, as text (32 bytes, URL-safe base 64)."""
    return Fernet.generate_key().decode()


def parse_keys(value):
    """The keys of a ``TOTP_ENCRYPTION_KEYS`` setting: a list, or a text of keys separated
    by commas or white space. Raises ValueError naming the position of a malformed key."""
    if not value:
        return []
    if isinstance(value, str):
        value = re.split(r"[\s,]+", value)
    keys = [str(key).strip() for key in value if str(key).strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            # The key itself is never repeated in a message that may end up in a log.
            raise ValueError(
                f"TOTP_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 bytes in URL-safe base 64)"
            ) from None
    return keys


def _keys():
    return current_app.config["TOTP_ENCRYPTION_KEYS"]


def _box():
    return MultiFernet([Fernet(key) for key in _keys()])


def encrypt(secret):
    """The stored form of a TOTP secret (None stays None)."""
    if secret is None:
        return None
    return _box().encrypt(secret.encode()).decode()


def decrypt(token, user_id=None):
    """The TOTP secret a stored value holds (None stays None); UnreadableSecret otherwise."""
    if token is None:
        return None
    try:
        return _box().decrypt(token.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret(
            f"the TOTP secret of user {user_id} cannot be decrypted with TOTP_ENCRYPTION_KEYS"
        ) from None


def read(user):
    """``user``'s TOTP secret in clear, or None."""
    return decrypt(user.totp_secret_encrypted, user.id)


def store(user, secret):
    """Keep ``secret`` (None forgets it) as ``user``'s TOTP secret, encrypted with the first key."""
    user.totp_secret_encrypted = encrypt(secret)


def reencrypt_all():
    """Encrypt every stored secret with the first key; flush. Returns (re-encrypted, already current).

    Each row is rewritten only if it still holds the value read, so an enrolment or a reset
    happening meanwhile is never overwritten. Raises UnreadableSecret when no key reads a row.
    """
    # The table, not the User model: the model imports this module to read its secret.
    user = db.metadata.tables["user"]
    first, box = Fernet(_keys()[0]), _box()
    reencrypted = current = 0
    rows = db.session.execute(
        select(user.c.id, user.c.totp_secret_encrypted)
        .where(user.c.totp_secret_encrypted.is_not(None))
        .order_by(user.c.id)
    ).all()
    for user_id, token in rows:
        try:
            first.decrypt(token.encode())
        except InvalidToken:
            pass
        else:
            current += 1
            continue
        try:
            rotated = box.rotate(token.encode()).decode()
        except InvalidToken:
            raise UnreadableSecret(
                f"the TOTP secret of user {user_id} cannot be decrypted with TOTP_ENCRYPTION_KEYS"
            ) from None
        changed = db.session.execute(
            update(user)
            .where(user.c.id == user_id, user.c.totp_secret_encrypted == token)
            .values(totp_secret_encrypted=rotated)
            .execution_options(synchronize_session=False)
        )
        reencrypted += changed.rowcount
    db.session.flush()
    db.session.expire_all()
    return reencrypted, current
