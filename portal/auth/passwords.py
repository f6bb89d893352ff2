"""Password hashing (argon2id) and the password policy (ASVS 2.1, 2.4)."""

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128

# OWASP's argon2id minimum is m=19 MiB, t=2, p=1; these are above it. Hashes made with
# other parameters are upgraded at the next successful login (``needs_rehash``).
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"


def hash_password(password):
    """An argon2id hash of ``password`` (the whole of it: nothing is truncated)."""
    return _hasher.hash(password)


def verify_password(password_hash, password):
    """Whether ``password`` matches ``password_hash`` (False for a missing or broken hash)."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    """Whether the hash was made with other parameters than the current ones."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def common_passwords():
    """The bundled list of the most common passwords, lower-cased (read once per process)."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines if line.strip() and not line.startswith("#"))


def is_common(password):
    """Whether ``password`` is on the common-passwords list, whatever its case."""
    return password.lower() in common_passwords()


def password_problem(password):
    """A translated reason why ``password`` is not acceptable, or None.

    Any character is allowed (spaces, accents, emoji); only the length and the list of
    common passwords are checked, as ASVS 2.1 asks (no composition rules).
    """
    if len(password) < MIN_LENGTH:
        return _l("Le mot de passe doit contenir au moins %(n)s caractères.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Le mot de passe doit contenir au plus %(n)s caractères.", n=MAX_LENGTH)
    if is_common(password):
        return _l(
            "Ce mot de passe fait partie des plus courants et serait vite deviné. Choisissez-en un autre, par exemple une phrase de plusieurs mots."
        )
    return None


# A dummy hash verified when an account does not exist, so login takes the same time.
DUMMY_HASH = _hasher.hash("dummy password for timing equality")
