"""Password hashing (argon2id) and the password policy."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128

# OWASP's argon2id minimum is m=19 MiB, t=2, p=1; these are above it.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)


def hash_password(password):
    """An argon2id hash of ``password``."""
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


def password_problem(password):
    """A translated reason why ``password`` is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return _l("Le mot de passe doit contenir au moins %(n)s caractères.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Le mot de passe doit contenir au plus %(n)s caractères.", n=MAX_LENGTH)
    return None


# A dummy hash verified when an account does not exist, so login takes the same time.
DUMMY_HASH = _hasher.hash("dummy password for timing equality")
