"""Form fields shared by every feature: translated messages, never a crash on bad input.

WTForms' own fields answer a tampered select or an unreadable number with an English
message or an exception; these answer with a translated message next to the field and
keep what was typed.
"""

from datetime import datetime

from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import Length, StopValidation

from portal.i18n import lazy_gettext as _l
from portal.safety import clamp_int

REQUIRED = _l("Ce champ est obligatoire.")
TOO_LONG = _l("%(max)d caractères au maximum.")
CHOOSE = _l("— Choisir —")


class TextLength(Length):
    """A maximum length that ends the field's validation when the value is over it.

    WTForms' ``Length`` raises a plain validation error, after which the field's next
    validators still run: an email address or a password of a megabyte went on to the
    email parser or to zxcvbn, whose cost grows much faster than the length. Put first
    in a field's validators, this one stops them all on an over-long value, so no field
    costs more than a length check whatever is posted. It checks the maximum only: a
    ``min``, when given, is for the message, and a ``Length`` later in the chain checks it
    (so an empty or short value still gets the messages it always had).
    """

    def __call__(self, form, field):
        data = field.data
        if self.max != -1 and isinstance(data, str) and len(data) > self.max:
            message = self.message or TOO_LONG
            raise StopValidation(message % {"min": self.min, "max": self.max, "length": len(data)})


class Needed:
    """Marks a field as needed on the page (asterisk, ``required``) without checking it.

    For the values whose presence the operation checks itself: the page says they are
    needed, the operation's refusal is shown next to the field.
    """

    field_flags = {"required": True}

    def __call__(self, form, field):
        """Nothing to check here: the operation does."""


def max_length(length, message=None):
    """A length limit with a translated message that stops the field's validation (put it first)."""
    return TextLength(max=length, message=message or TOO_LONG)


# Hidden fields filled by the pages (a page to go back to, a version): generous, but bounded.
HIDDEN_MAX = 2048


def optional_int(value):
    """Coerce a select's value to int; the empty "choose" option is None."""
    return None if value in ("", None) else int(value)


class ChoiceField(SelectField):
    """A select whose wrong or tampered values get a translated message, never a crash."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._bad_value = False
        # templates/_forms.html styles fields by type: render it as the select it is.
        self.type = "SelectField"

    def process_formdata(self, valuelist):
        """Coerce the submitted value; remember a value that cannot be coerced."""
        self._bad_value = False
        if valuelist:
            if valuelist[0] in ("", None):
                self.data = None
                return
            try:
                self.data = self.coerce(valuelist[0])
            except (ValueError, TypeError):
                self.data = None
                self._bad_value = True

    def pre_validate(self, form):
        """Refuse values outside the choices (empty is left to the required validator)."""
        if self.data in (None, "") and not self._bad_value:
            return
        values = [choice[0] for choice in (self.choices or [])]
        if self._bad_value or self.data not in values:
            raise StopValidation(_l("Choisissez une valeur dans la liste."))


class WholeNumberField(IntegerField):
    """An integer with a translated message when what was typed is not one."""

    def process_formdata(self, valuelist):
        """Parse the number (clamped to what the database holds); keep what was typed otherwise."""
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        try:
            self.data = clamp_int(int(str(valuelist[0]).strip()))
        except ValueError as error:
            self.data = None
            raise ValueError(_l("Saisissez un nombre entier.")) from error


class LocalDateField(DateField):
    """A date (YYYY-MM-DD from the browser's date picker) with a translated message."""

    def process_formdata(self, valuelist):
        """Parse the date; an unreadable one gets a clear message."""
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        if not text:
            self.data = None
            return
        try:
            self.data = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError as error:
            self.data = None
            raise ValueError(_l("Date invalide : utilisez le format AAAA-MM-JJ.")) from error
