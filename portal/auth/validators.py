"""Account input rules: pure normalisers and the WTForms validators built on them.

The normalisers take what a person typed and return the stored form (``None`` when the
input is not acceptable); the validators put the stored form back into the field, so a
valid form's ``data`` is ready to save and a failed form still shows what was typed.
"""

import re
import unicodedata
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from wtforms.validators import StopValidation, ValidationError

from portal.i18n import lazy_gettext as _l
from portal.timeutil import utcnow

CIN_RE = re.compile(r"[A-Z]{1,2}[0-9]{1,6}")
# Mobile (06, 07) and fixed (05) numbers: nine digits after the leading 0 or +212.
_PHONE_NATIONAL = re.compile(r"0([567][0-9]{8})")
_PHONE_INTERNATIONAL = re.compile(r"(?:\+|00)212([567][0-9]{8})")
_PHONE_SEPARATORS = re.compile(r"[\s.\-]")
E164_RE = re.compile(r"\+212[567][0-9]{8}")
# Apostrophes and joiners people use inside names, in both scripts.
_NAME_PUNCTUATION = frozenset(" -'’.")
_ARABIC_PUNCTUATION = frozenset(" -'’\u0640")  # tatweel


def has_control_characters(value):
    """Whether ``value`` contains control characters (NUL, line breaks, bidi controls...)."""
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in value or "")


def normalize_cin(value):
    """The CIN upper-cased without spaces (``AB123456``), or None when it is malformed."""
    if not isinstance(value, str):
        return None
    cin = re.sub(r"\s", "", value).upper()
    return cin if CIN_RE.fullmatch(cin) else None


def normalize_phone(value):
    """A Moroccan phone number in E.164 (``+2126XXXXXXXX``), or None when it is not one."""
    if not isinstance(value, str):
        return None
    compact = _PHONE_SEPARATORS.sub("", value)
    match = _PHONE_NATIONAL.fullmatch(compact) or _PHONE_INTERNATIONAL.fullmatch(compact)
    return f"+212{match.group(1)}" if match else None


def normalize_email(value):
    """The address as stored (lower-case, validated syntax), or None when it is not valid."""
    if not isinstance(value, str) or has_control_characters(value):
        return None
    try:
        result = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    address = (result.ascii_email or result.normalized).lower()
    return address if len(address) <= 254 else None


def age_on(birth_date, day):
    """Age in whole years on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_adult(birth_date, today=None, min_age=None):
    """Whether someone born on ``birth_date`` has reached ``min_age`` (config MIN_AGE_YEARS)."""
    today = today or utcnow().date()
    min_age = current_app.config["MIN_AGE_YEARS"] if min_age is None else min_age
    return age_on(birth_date, today) >= min_age


def is_latin_name(value):
    """Letters of the Latin script (accents included), spaces, hyphens and apostrophes."""
    return _is_name(value, "LATIN", _NAME_PUNCTUATION)


def is_arabic_name(value):
    """Letters of the Arabic script, spaces and hyphens."""
    return _is_name(value, "ARABIC", _ARABIC_PUNCTUATION)


def _is_name(value, script, punctuation):
    if not value or not any(c.isalpha() for c in value):
        return False
    for c in value:
        if c in punctuation:
            continue
        if unicodedata.category(c) in ("Mn", "Mc"):  # Arabic vowel marks, combining accents
            continue
        if not c.isalpha() or not unicodedata.name(c, "").startswith(script):
            return False
    return True


# WTForms filters and validators -----------------------------------------------------


def strip(value):
    """Filter: surrounding whitespace removed (None stays None)."""
    return value.strip() if isinstance(value, str) else value


def blank_to_none(value):
    """Filter: an empty string becomes None (optional columns store NULL)."""
    return value or None


class Required:
    """A value must be given (0 counts); a value that could not be read keeps its own message."""

    field_flags = {"required": True}

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if field.process_errors:
            # The field already says why what was typed is unreadable; say nothing more.
            raise StopValidation()
        data = field.data
        if data is None or (isinstance(data, str) and not data.strip()):
            raise StopValidation(self.message)


class PlainText:
    """No control characters (NUL, line breaks, bidi overrides) in a one-line text."""

    def __call__(self, form, field):
        if isinstance(field.data, str) and has_control_characters(field.data):
            raise StopValidation(_l("Ce champ contient des caractères non autorisés."))


class LatinName:
    """A name written in Latin letters."""

    def __call__(self, form, field):
        if field.data and not is_latin_name(field.data):
            raise ValidationError(
                _l("Écrivez le nom en lettres latines (accents, espaces, tirets et apostrophes permis).")
            )


class ArabicName:
    """A name written in Arabic letters (optional fields: empty is fine)."""

    def __call__(self, form, field):
        if field.data and not is_arabic_name(field.data):
            raise ValidationError(_l("Écrivez le nom en lettres arabes."))


class Cin:
    """A CIN: one or two letters then one to six digits; stored upper-case."""

    def __call__(self, form, field):
        if not field.data:
            return
        cin = normalize_cin(field.data)
        if cin is None:
            raise ValidationError(
                _l("Numéro de CIN invalide : une ou deux lettres suivies de 1 à 6 chiffres (ex. AB123456).")
            )
        field.data = cin


class MoroccanPhone:
    """A Moroccan phone number (06, 07, 05 or +212); stored in E.164."""

    def __call__(self, form, field):
        if not field.data:
            return
        phone = normalize_phone(field.data)
        if phone is None:
            raise ValidationError(
                _l(
                    "Numéro de téléphone marocain invalide : 10 chiffres commençant par 05, 06 ou 07, "
                    "ou +212 suivi de 9 chiffres (ex. 06 12 34 56 78)."
                )
            )
        field.data = phone


class EmailAddress:
    """A syntactically valid email address; stored lower-case."""

    def __call__(self, form, field):
        if not field.data:
            return
        address = normalize_email(field.data)
        if address is None:
            raise ValidationError(_l("Adresse email invalide (exemple : nom@exemple.ma)."))
        field.data = address


class Adult:
    """A date of birth of someone at least MIN_AGE_YEARS old, and not absurd."""

    def __call__(self, form, field):
        born = field.data
        if not isinstance(born, date):
            return
        today = utcnow().date()
        if born > today or born.year < 1900:
            raise ValidationError(_l("Date de naissance invalide."))
        if not is_adult(born, today):
            raise ValidationError(
                _l(
                    "Vous devez avoir au moins %(n)s ans pour vous inscrire.",
                    n=current_app.config["MIN_AGE_YEARS"],
                )
            )
