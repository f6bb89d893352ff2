"""Password hashing (argon2id) and the password policy (ASVS 2.1, 2.4)."""

import re
import threading
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from zxcvbn import matching as zxcvbn_matching
from zxcvbn import zxcvbn

from portal.i18n import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128
# zxcvbn's scores go from 0 to 4; 3 means about 10^8 guesses or more ("safely unguessable"
# for an online attack that the login throttling slows down further).
MIN_SCORE = 3
# zxcvbn's cost grows quickly with the length: only this many first characters are scored,
# which keeps the estimate to a few milliseconds whatever is typed. Longer passwords must
# start strong; the list of common passwords and the personal-data check see all of it.
SCORED_LENGTH = 32
# A name, an email address: pieces shorter than this are too common to count as personal.
PERSONAL_WORD_MIN = 3


COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"


@cache
def _hasher_with(time_cost, memory_kib):
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def _hasher():
    """The hasher of the settings PASSWORD_HASH_TIME_COST and PASSWORD_HASH_MEMORY_KIB.

    Hashes made with other parameters are upgraded at the next successful login
    (``needs_rehash``).
    """
    config = current_app.config
    return _hasher_with(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"])


def hash_password(password):
    """An argon2id hash of ``password`` (the whole of it: nothing is truncated)."""
    return _hasher().hash(password)


def verify_password(password_hash, password):
    """Whether ``password`` matches ``password_hash`` (False for a missing or broken hash)."""
    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    """Whether the hash was made with other parameters than the current ones."""
    return _hasher().check_needs_rehash(password_hash)


@cache
def common_passwords():
    """The bundled list of the most common passwords, lower-cased (read once per process)."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines if line.strip() and not line.startswith("#"))


def is_common(password):
    """Whether ``password`` is on the common-passwords list, whatever its case."""
    return password.lower() in common_passwords()


def personal_words(user_inputs):
    """The lower-cased words a password should not be made of: each value and its pieces.

    ``user_inputs`` are what the portal knows of the person (email, names); empty and
    very short values are skipped.
    """
    words = set()
    for value in user_inputs:
        value = (value or "").strip().lower()
        words.update(
            piece for piece in [value, *re.split(r"[\W_]+", value)] if len(piece) >= PERSONAL_WORD_MIN
        )
    return words


def account_inputs(user):
    """The email and names of ``user``, as ``user_inputs`` of password_problem."""
    profile = user.profile
    if profile is None:
        return [user.email]
    return [user.email, profile.first_name, profile.last_name, profile.first_name_ar, profile.last_name_ar]


def is_mostly_personal(password, words):
    """Whether at least half the letters of ``password`` spell the person's own ``words``."""
    lowered = password.lower()
    covered = [False] * len(lowered)
    for word in words:
        start = lowered.find(word)
        while start != -1:
            covered[start : start + len(word)] = [True] * len(word)
            start = lowered.find(word, start + 1)
    letters = [i for i, char in enumerate(lowered) if char.isalpha()]
    return bool(letters) and 2 * sum(covered[i] for i in letters) >= len(letters)


def _l33t_readings(table):
    """At most two readings of the look-alike characters present (4 → a, $ → s, 1 → i or l...).

    zxcvbn tries every combination of them, a number that grows exponentially with the
    distinct symbols typed (seconds for twenty of them): here every look-alike is read as
    its first letter at once, then the ambiguous ones (1, |, 7) as their second.
    """
    first, second = {}, {}
    for letter, chars in table.items():
        for char in chars:
            if char in first:
                second.setdefault(char, letter)
            else:
                first[char] = letter
    readings = [first] if first else []
    if second:
        readings.append({**first, **second})
    return readings


# l33t_match looks the function up in its module at each call, the recursion of
# repeat_match included.
zxcvbn_matching.enumerate_l33t_subs = _l33t_readings
# zxcvbn keeps the user inputs of the current call in a module-level dictionary.
_zxcvbn_lock = threading.Lock()


def estimate(password, words=()):
    """zxcvbn's estimate of the first SCORED_LENGTH characters of ``password``."""
    with _zxcvbn_lock:
        return zxcvbn(password[:SCORED_LENGTH], user_inputs=sorted(words), max_length=SCORED_LENGTH)


PERSONAL = _l(
    "Ce mot de passe reprend votre nom ou votre adresse email : quelqu'un qui vous connaît le devinerait. Choisissez plutôt une phrase de plusieurs mots, sans rapport avec vous."
)
GUESSABLE = _l(
    "Ce mot de passe serait trop facile à deviner. Choisissez plutôt une phrase de plusieurs mots, facile à retenir pour vous."
)
# zxcvbn's patterns (its "regex" finds recent years) → why the password is weak.
WEAKNESSES = {
    "repeat": _l(
        "Ce mot de passe répète un même motif (comme « aaaa » ou « abcabc ») et serait vite deviné. Choisissez plutôt une phrase de plusieurs mots, facile à retenir pour vous."
    ),
    "sequence": _l(
        "Ce mot de passe suit une suite simple (comme « abcd » ou « 1234 ») et serait vite deviné. Choisissez plutôt une phrase de plusieurs mots, facile à retenir pour vous."
    ),
    "spatial": _l(
        "Ce mot de passe suit des touches voisines sur le clavier (comme « azerty ») et serait vite deviné. Choisissez plutôt une phrase de plusieurs mots, facile à retenir pour vous."
    ),
    "date": _l(
        "Ce mot de passe repose sur une date ou une année et serait vite deviné. Choisissez plutôt une phrase de plusieurs mots, facile à retenir pour vous."
    ),
    "dictionary": _l(
        "Ce mot de passe repose sur un mot ou un mot de passe courant : les majuscules, les chiffres ou les symboles ajoutés ne suffisent pas à le cacher. Choisissez plutôt une phrase de plusieurs mots, facile à retenir pour vous."
    ),
}
WEAKNESSES["regex"] = WEAKNESSES["date"]


def weakness(result):
    """The translated reason for a weak zxcvbn ``result``: its longest recognised pattern."""
    found = [match for match in result["sequence"] if match["pattern"] != "bruteforce"]
    if any(match.get("dictionary_name") == "user_inputs" for match in found):
        return PERSONAL
    if not found:
        return GUESSABLE
    longest = max(found, key=lambda match: len(match["token"]))
    return WEAKNESSES.get(longest["pattern"], GUESSABLE)


def password_problem(password, user_inputs=()):
    """A translated reason why ``password`` is not acceptable, or None.

    Any character is allowed (spaces, accents, emoji) and there are no composition rules,
    as ASVS 2.1 asks: the length, the list of common passwords, the person's own data
    (``user_inputs``: email, names) and zxcvbn's estimate of how guessable it is.
    """
    if len(password) < MIN_LENGTH:
        return _l("Le mot de passe doit contenir au moins %(n)s caractères.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Le mot de passe doit contenir au plus %(n)s caractères.", n=MAX_LENGTH)
    if is_common(password):
        return _l(
            "Ce mot de passe fait partie des plus courants et serait vite deviné. Choisissez-en un autre, par exemple une phrase de plusieurs mots."
        )
    words = personal_words(user_inputs)
    if is_mostly_personal(password, words):
        return PERSONAL
    result = estimate(password, words)
    if result["score"] < MIN_SCORE:
        return weakness(result)
    return None


def dummy_hash():
    """A hash to verify when an account does not exist, so that login takes the same time."""
    return _dummy_hash_with(_hasher())


@cache
def _dummy_hash_with(hasher):
    return hasher.hash("dummy password for timing equality")
