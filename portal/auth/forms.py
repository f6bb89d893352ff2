"""Account forms: registration, login, confirmation, password reset and profile."""

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)

from portal.auth import validators as v
from portal.auth.operations import PROFILE_FIELDS
from portal.catalog.models import EDUCATION_LEVELS, City
from portal.extensions import db
from portal.i18n import current_language
from portal.templating import ASSOCIATION_FIELDS, EDUCATION_LABELS, LANGUAGE_NAMES

REQUIRED = _l("Ce champ est obligatoire.")
CHOOSE = _l("— Choisir —")


def _required():
    return v.Required(REQUIRED)


def _max(length):
    return Length(max=length, message=_l("%(max)d caractères au maximum."))


def _text(max_length):
    """Validators of a required one-line text of at most ``max_length`` characters."""
    return [_required(), v.PlainText(), _max(max_length)]


class ChoiceField(SelectField):
    """A select whose wrong or tampered values get a translated message, never a crash."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validate_choice", True)
        super().__init__(*args, **kwargs)
        self._bad_value = False

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
        """Refuse values outside the choices (empty is left to DataRequired)."""
        if self.data in (None, "") and not self._bad_value:
            return
        values = [choice[0] for choice in (self.choices or [])]
        if self._bad_value or self.data not in values:
            raise StopValidation(_l("Choisissez une valeur dans la liste."))


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


class WholeNumberField(IntegerField):
    """An integer with a translated message when what was typed is not one."""

    def process_formdata(self, valuelist):
        """Parse the number; keep what was typed for redisplay when it is not one."""
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        try:
            self.data = int(str(valuelist[0]).strip())
        except ValueError as error:
            self.data = None
            raise ValueError(_l("Saisissez un nombre entier.")) from error


def city_choices():
    """Cities for a select, in the current language's alphabetical order."""
    cities = db.session.scalars(select(City)).all()
    choices = sorted(((c.id, c.name) for c in cities), key=lambda pair: pair[1].casefold())
    return [("", CHOOSE), *choices]


def language_choices():
    """The portal's languages, each named in itself."""
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]]


def _optional_int(value):
    return None if value in ("", None) else int(value)


class ApplicantFieldsForm(FlaskForm):
    """The applicant and association fields shared by registration and the profile."""

    first_name = StringField(
        _l("Prénom (lettres latines)"), filters=[v.strip], validators=[*_text(80), v.LatinName()]
    )
    last_name = StringField(
        _l("Nom (lettres latines)"), filters=[v.strip], validators=[*_text(80), v.LatinName()]
    )
    first_name_ar = StringField(
        _l("Prénom en arabe (facultatif)"),
        filters=[v.strip, v.blank_to_none],
        validators=[Optional(), v.PlainText(), _max(80), v.ArabicName()],
    )
    last_name_ar = StringField(
        _l("Nom en arabe (facultatif)"),
        filters=[v.strip, v.blank_to_none],
        validators=[Optional(), v.PlainText(), _max(80), v.ArabicName()],
    )
    cin = StringField(
        _l("Numéro de CIN"), filters=[v.strip], validators=[_required(), v.PlainText(), v.Cin()]
    )
    birth_date = LocalDateField(_l("Date de naissance"), validators=[_required(), v.Adult()])
    phone = StringField(
        _l("Téléphone"), filters=[v.strip], validators=[_required(), v.PlainText(), v.MoroccanPhone()]
    )
    city_id = ChoiceField(_l("Ville de résidence"), coerce=_optional_int, validators=[_required()])
    education_level = ChoiceField(_l("Niveau d'études"), validators=[_required()])
    association_name = StringField(_l("Nom de l'association"), filters=[v.strip], validators=_text(200))
    association_registration = StringField(
        _l("Numéro du récépissé de dépôt"), filters=[v.strip], validators=_text(64)
    )
    association_city_id = ChoiceField(
        _l("Ville de l'association"), coerce=_optional_int, validators=[_required()]
    )
    association_field = ChoiceField(_l("Domaine d'action"), validators=[_required()])
    association_role = StringField(
        _l("Votre rôle dans l'association"), filters=[v.strip], validators=_text(120)
    )
    association_years = WholeNumberField(
        _l("Années d'engagement dans l'association"),
        validators=[
            _required(),
            NumberRange(min=0, max=80, message=_l("Indiquez un nombre entre %(min)s et %(max)s.")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cities = city_choices()
        self.city_id.choices = cities
        self.association_city_id.choices = cities
        self.education_level.choices = [("", CHOOSE)] + [
            (level, EDUCATION_LABELS[level]) for level in EDUCATION_LEVELS
        ]
        self.association_field.choices = [("", CHOOSE)] + list(ASSOCIATION_FIELDS.items())

    def profile_data(self):
        """The cleaned profile values, keyed like ApplicantProfile's columns."""
        return {name: getattr(self, name).data for name in PROFILE_FIELDS}


class RegistrationForm(ApplicantFieldsForm):
    """Creating an applicant account."""

    email = EmailField(
        _l("Adresse email"), filters=[v.strip], validators=[_required(), _max(254), v.EmailAddress()]
    )
    password = PasswordField(_l("Mot de passe"), validators=[_required(), v.PasswordPolicy()])
    password_confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[
            _required(),
            EqualTo("password", message=_l("Les deux mots de passe ne sont pas identiques.")),
        ],
    )
    locale = ChoiceField(_l("Langue préférée"), validators=[_required()])
    consent = BooleanField(
        _l(
            "J'ai lu la notice de protection des données personnelles et j'accepte le traitement de mes données."
        ),
        validators=[DataRequired(message=_l("Votre accord est nécessaire pour créer un compte."))],
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("locale", current_language())
        super().__init__(*args, **kwargs)
        self.locale.choices = language_choices()


class LoginForm(FlaskForm):
    """Email and password; ``next`` is checked by ``safe_next`` before use."""

    email = EmailField(_l("Adresse email"), filters=[v.strip], validators=[_required(), _max(254)])
    password = PasswordField(_l("Mot de passe"), validators=[_required(), _max(1024)])
    next = HiddenField()


class EmailForm(FlaskForm):
    """One email address (forgotten password, new confirmation link)."""

    email = EmailField(
        _l("Adresse email"), filters=[v.strip], validators=[_required(), _max(254), v.EmailAddress()]
    )


class ConfirmForm(FlaskForm):
    """The "confirm my address" button: a POST, so following a link changes nothing."""


class ResetPasswordForm(FlaskForm):
    """Choosing a new password from a reset link."""

    password = PasswordField(_l("Nouveau mot de passe"), validators=[_required(), v.PasswordPolicy()])
    password_confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[
            _required(),
            EqualTo("password", message=_l("Les deux mots de passe ne sont pas identiques.")),
        ],
    )


class _AccountSettingsMixin:
    """Language, password change and the current password that guards sensitive changes."""

    locale = ChoiceField(_l("Langue préférée"), validators=[_required()])
    new_password = PasswordField(
        _l("Nouveau mot de passe (laisser vide pour le garder)"), validators=[Optional(), v.PasswordPolicy()]
    )
    new_password_confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[EqualTo("new_password", message=_l("Les deux mots de passe ne sont pas identiques."))],
    )
    current_password = PasswordField(_l("Mot de passe actuel"), validators=[_max(1024)])


class ProfileForm(_AccountSettingsMixin, ApplicantFieldsForm):
    """An applicant's profile: every registration field but consent, plus the settings."""

    email = EmailField(
        _l("Adresse email"), filters=[v.strip], validators=[_required(), _max(254), v.EmailAddress()]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = language_choices()


class StaffProfileForm(_AccountSettingsMixin, FlaskForm):
    """Staff accounts have no applicant profile: language and password only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = language_choices()


class SecondFactorForm(FlaskForm):
    """The code of the authenticator app, or one of the recovery codes."""

    code = StringField(
        _l("Code à 6 chiffres ou code de secours"),
        filters=[v.strip],
        validators=[_required(), _max(64)],
    )
    next = HiddenField()


class EnrolmentForm(FlaskForm):
    """The first code of a new authenticator, proving it was set up correctly."""

    code = StringField(
        _l("Code à 6 chiffres affiché par l'application"),
        filters=[v.strip],
        validators=[_required(), _max(64)],
    )
    next = HiddenField()
