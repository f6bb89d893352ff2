"""Form fields shared by every feature: translated messages, never a crash on bad input.

WTForms' own fields answer a tampered select or an unreadable number with an English
message or an exception; these answer with a translated message next to the field and
keep what was typed.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import Length, StopValidation

from portal.safety import clamp_int

REQUIRED = _l("Ce champ est obligatoire.")
CHOOSE = _l("— Choisir —")


def max_length(length):
    """A length limit with a translated message."""
    return Length(max=length, message=_l("%(max)d caractères au maximum."))


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
