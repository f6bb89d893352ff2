"""Certificate numbers: ``OFPPT-2026-7KQ4-M9XD``, random, typable, with a check character.

The eight characters after the year are seven random symbols of Crockford's base 32
(digits and capitals without I, L, O, U, which are read wrongly or spell words) and one
check character computed with the Luhn mod 32 algorithm, which catches every single
mistyped character and every swap of two neighbours. Seven random symbols are 35 bits:
with the verification page throttled per address, nobody finds the certificates by
trying numbers. Typed numbers are read tolerantly: case, spaces and dashes do not
matter, and O, I and L are taken for 0, 1 and 1 as a person would mean them.
"""

import re
import secrets

PREFIX = "OFPPT"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_SYMBOLS = 7
# The longest text read as a number (spaces and dashes included): longer input is refused
# before any work, whatever is typed.
MAX_TYPED = 64
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_TYPED = re.compile(rf"^{PREFIX}(\d{{4}})([0-9A-Z]{{{RANDOM_SYMBOLS + 1}}})$")


def check_symbol(symbols):
    """The Luhn mod 32 check character of ``symbols`` (characters of ALPHABET)."""
    base = len(ALPHABET)
    total, factor = 0, 2
    for char in reversed(symbols):
        addend = factor * ALPHABET.index(char)
        total += addend // base + addend % base
        factor = 1 if factor == 2 else 2
    return ALPHABET[(base - total % base) % base]


def format_number(year, body):
    """``OFPPT-<year>-XXXX-XXXX`` from the year and the eight symbols (check included)."""
    return f"{PREFIX}-{year}-{body[:4]}-{body[4:]}"


def new_number(year):
    """A fresh random number for a certificate issued in ``year`` (unicity is the database's)."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return format_number(year, symbols + check_symbol(symbols))


def normalize(typed):
    """The number a person meant by ``typed``, in its stored form, or None when it cannot be one.

    None for text too long, of the wrong shape, or whose check character does not match
    (a typing mistake): such a number is unknown without asking the database.
    """
    if not typed or len(typed) > MAX_TYPED:
        return None
    compact = re.sub(r"[\s\-_.]+", "", typed).upper()
    match = _TYPED.match(compact)
    if match is None:
        return None
    year, body = match.group(1), match.group(2).translate(_CONFUSABLE)
    if any(char not in ALPHABET for char in body) or check_symbol(body[:-1]) != body[-1]:
        return None
    return format_number(year, body)
