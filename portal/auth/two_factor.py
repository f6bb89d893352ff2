"""Second factor for staff (ASVS 2.8, 4.3.1): TOTP codes (RFC 6238) and recovery codes.

Pure helpers: secrets, codes and QR images. What they change in the database is done by
``portal.auth.operations``; who must use them is decided by ``required_for``.
"""

import base64
import hashlib
import hmac
import re
import secrets
from datetime import UTC

import pyotp
import segno
from flask import current_app

from portal import permissions
from portal.timeutil import utcnow

RECOVERY_CODE_COUNT = 10
# Recovery codes: 16 characters of Crockford's base 32 alphabet (80 bits), shown in
# groups of four; typing is forgiving about case, spaces and dashes.
_RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RECOVERY_LENGTH = 16
_TOTP_CODE = re.compile(r"^\d{6}$")


def required_for(user):
    """Whether ``user`` must pass the second factor: staff when the configuration says so,
    and anyone who enrolled an authenticator."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_two_factor:
        return True
    return bool(current_app.config.get("STAFF_TWO_FACTOR_REQUIRED")) and permissions.is_staff(user)


def may_enrol(user):
    """Staff may set up an authenticator (applicants have no use for one)."""
    return permissions.is_staff(user) and not user.has_two_factor


def enrolment_secret(user, session_row):
    """The TOTP secret offered while ``user`` enrols in this session.

    Derived from the application key and this session's token hash, so showing the
    enrolment page changes nothing in the database and the code typed to confirm it can
    be checked against the same secret; another login offers another secret.
    """
    key = current_app.config["SECRET_KEY"].encode()
    message = f"totp-enrolment:{user.id}:{session_row.token_hash}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:20]
    return base64.b32encode(digest).decode()


def provisioning_uri(user, secret):
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["TOTP_ISSUER"])


def qr_data_uri(uri):
    """The QR code of ``uri`` as an SVG ``data:`` URI, for an <img> (no script, CSP-safe)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def spaced(secret):
    """The secret in groups of four characters, easier to type by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def current_step(totp):
    """The TOTP time step of now, on the portal's (freezable) clock."""
    return totp.timecode(utcnow().replace(tzinfo=UTC))


def matching_step(secret, code, last_step=None):
    """The time step ``code`` is valid for (now or one step either side), or None.

    Steps at or before ``last_step`` are refused: a code already used cannot be replayed.
    """
    code = (code or "").replace(" ", "")
    if not secret or not _TOTP_CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    now = current_step(totp)
    for step in (now - 1, now, now + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def looks_like_totp(code):
    """Whether what was typed is a six-digit code (otherwise it may be a recovery code)."""
    return bool(_TOTP_CODE.match((code or "").replace(" ", "")))


def new_recovery_codes(count=RECOVERY_CODE_COUNT):
    """``count`` fresh recovery codes, formatted ``XXXX-XXXX-XXXX-XXXX``."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def normalize_recovery_code(code):
    """The code as generated: upper case, without spaces or dashes, O/I/L read as 0/1/1."""
    text = re.sub(r"[\s-]", "", (code or "")).upper()
    return text.translate(str.maketrans("OIL", "011"))


def hash_recovery_code(code):
    """``salt$sha256(salt + code)``: 80 random bits need no slow hash, the salt avoids lookups."""
    salt = secrets.token_hex(8)
    digest = hashlib.sha256((salt + normalize_recovery_code(code)).encode()).hexdigest()
    return f"{salt}${digest}"


def recovery_code_matches(code_hash, code):
    """Whether ``code`` is the one ``code_hash`` was made from."""
    salt, _, digest = (code_hash or "").partition("$")
    candidate = hashlib.sha256((salt + normalize_recovery_code(code)).encode()).hexdigest()
    return bool(digest) and hmac.compare_digest(candidate, digest)
