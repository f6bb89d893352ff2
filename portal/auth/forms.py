"""Account forms: registration, login, confirmation, password reset and profile."""

from flask import current_app
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    NumberRange,
    Optional,
    Regexp,
)

from portal.auth import passwords
from portal.auth import validators as v
from portal.auth.operations import PROFILE_FIELDS
from portal.catalog.models import City
from portal.extensions import db
from portal.forms import (
    CHOOSE,
    HIDDEN_MAX,
    REQUIRED,
    ChoiceField,
    LocalDateField,
    WholeNumberField,
    max_length,
    optional_int,
)
from portal.i18n import current_language
from portal.i18n import lazy_gettext as _l
from portal.templating import LANGUAGE_NAMES
from portal.vocabulary import AssociationField, EducationLevel

# What a person may type in these fields, spaces and separators included (the stored
# forms are shorter): a longer value is refused before it is parsed.
CIN_TYPED_MAX = 20
PHONE_TYPED_MAX = 32
# Passwords typed to log in or to confirm an action: longer than any the portal accepts
# (MAX_LENGTH), so an account created before that limit can still log in.
PASSWORD_TYPED_MAX = 1024


def _required():
    return v.Required(REQUIRED)


def _text(length):
    """Validators of a required one-line text of at most ``length`` characters."""
    return [max_length(length), _required(), v.PlainText()]


def new_password_length():
    """The longest new password (checked first: the strength estimate never sees more)."""
    return max_length(
        passwords.MAX_LENGTH,
        _l("Le mot de passe doit contenir au plus %(n)s caractères.", n=passwords.MAX_LENGTH),
    )


PASSWORDS_DIFFER = _l("Les deux mots de passe ne sont pas identiques.")


def new_password_fields(label=None, confirm_label=None):
    """A new password and the field repeating it (the operation checks the policy)."""
    label = label or _l("Mot de passe")
    confirm_label = confirm_label or _l("Confirmez le mot de passe")
    return (
        PasswordField(label, validators=[new_password_length(), _required()]),
        PasswordField(
            confirm_label,
            validators=[new_password_length(), _required(), EqualTo("password", message=PASSWORDS_DIFFER)],
        ),
    )


def city_choices():
    """Cities for a select, in the current language's alphabetical order."""
    cities = db.session.scalars(select(City)).all()
    choices = sorted(((c.id, c.name) for c in cities), key=lambda pair: pair[1].casefold())
    return [("", CHOOSE), *choices]


def language_choices():
    """The portal's languages, each named in itself."""
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]]


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
        validators=[max_length(80), Optional(), v.PlainText(), v.ArabicName()],
    )
    last_name_ar = StringField(
        _l("Nom en arabe (facultatif)"),
        filters=[v.strip, v.blank_to_none],
        validators=[max_length(80), Optional(), v.PlainText(), v.ArabicName()],
    )
    cin = StringField(
        _l("Numéro de CIN"),
        filters=[v.strip],
        validators=[max_length(CIN_TYPED_MAX), _required(), v.PlainText(), v.Cin()],
    )
    birth_date = LocalDateField(_l("Date de naissance"), validators=[_required(), v.Adult()])
    phone = StringField(
        _l("Téléphone"),
        filters=[v.strip],
        validators=[max_length(PHONE_TYPED_MAX), _required(), v.PlainText(), v.MoroccanPhone()],
    )
    city_id = ChoiceField(_l("Ville de résidence"), coerce=optional_int, validators=[_required()])
    education_level = ChoiceField(_l("Niveau d'études"), validators=[_required()])
    # The search box of the register (its results fill the four fields below); never saved.
    association_search = StringField(
        _l("Rechercher votre association (facultatif)"),
        filters=[v.strip],
        validators=[max_length(100), Optional()],
        description=_l(
            "Son nom, le numéro de son récépissé ou sa ville. Si elle n'est pas encore inscrite, "
            "remplissez les champs ci-dessous : elle sera ajoutée au registre."
        ),
    )
    association_name = StringField(_l("Nom de l'association"), filters=[v.strip], validators=_text(200))
    association_registration = StringField(
        _l("Numéro du récépissé de dépôt"), filters=[v.strip], validators=_text(64)
    )
    association_city_id = ChoiceField(
        _l("Ville de l'association"), coerce=optional_int, validators=[_required()]
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
        self.education_level.choices = [("", CHOOSE), *EducationLevel.choices()]
        self.association_field.choices = [("", CHOOSE), *AssociationField.choices()]

    # Set by the views for the search box's page without script: the entries found (None:
    # no search made) and the entry chosen.
    association_results = None
    chosen_association = None

    def choose_association(self, association):
        """Fill the association fields with a register entry (the search box's choice)."""
        if association is None:
            return
        self.association_name.data = association.name_fr
        self.association_registration.data = association.registration_number
        self.association_city_id.data = association.city_id
        self.association_field.data = association.field
        self.chosen_association = association

    def profile_data(self):
        """The cleaned profile values, keyed like ApplicantProfile's columns."""
        return {name: getattr(self, name).data for name in PROFILE_FIELDS}


class RegistrationForm(ApplicantFieldsForm):
    """Creating an applicant account."""

    email = EmailField(
        _l("Adresse email"), filters=[v.strip], validators=[max_length(254), _required(), v.EmailAddress()]
    )
    password, password_confirm = new_password_fields()
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

    email = EmailField(_l("Adresse email"), filters=[v.strip], validators=[max_length(254), _required()])
    password = PasswordField(_l("Mot de passe"), validators=[max_length(PASSWORD_TYPED_MAX), _required()])
    next = HiddenField(validators=[max_length(HIDDEN_MAX)])


class EmailForm(FlaskForm):
    """One email address (forgotten password, new confirmation link)."""

    email = EmailField(
        _l("Adresse email"), filters=[v.strip], validators=[max_length(254), _required(), v.EmailAddress()]
    )


class ConfirmForm(FlaskForm):
    """The "confirm my address" button: a POST, so following a link changes nothing."""


class ResetPasswordForm(FlaskForm):
    """Choosing a new password from a reset link (the operation checks the policy)."""

    password, password_confirm = new_password_fields(
        _l("Nouveau mot de passe"), _l("Confirmez le nouveau mot de passe")
    )


class _AccountSettingsMixin:
    """Language, password change and the current password that guards sensitive changes."""

    locale = ChoiceField(_l("Langue préférée"), validators=[_required()])
    new_password = PasswordField(
        _l("Nouveau mot de passe (laisser vide pour le garder)"),
        validators=[new_password_length(), Optional()],
    )
    new_password_confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[
            new_password_length(),
            EqualTo("new_password", message=PASSWORDS_DIFFER),
        ],
    )
    current_password = PasswordField(_l("Mot de passe actuel"), validators=[max_length(PASSWORD_TYPED_MAX)])


class ProfileForm(_AccountSettingsMixin, ApplicantFieldsForm):
    """An applicant's profile: every registration field but consent, plus the settings."""

    email = EmailField(
        _l("Adresse email"), filters=[v.strip], validators=[max_length(254), _required(), v.EmailAddress()]
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
        validators=[max_length(64), _required()],
    )
    next = HiddenField(validators=[max_length(HIDDEN_MAX)])


class EnrolmentForm(FlaskForm):
    """The first code of a new authenticator, proving it was set up correctly."""

    code = StringField(
        _l("Code à 6 chiffres affiché par l'application"),
        filters=[v.strip],
        validators=[max_length(64), _required()],
    )
    next = HiddenField(validators=[max_length(HIDDEN_MAX)])


def current_password_field():
    """The current password, typed again to confirm a sensitive action."""
    return PasswordField(
        _l("Mot de passe actuel"),
        validators=[max_length(PASSWORD_TYPED_MAX), DataRequired(_l("Saisissez votre mot de passe actuel."))],
    )


class EndSessionsForm(FlaskForm):
    """Log out another device: the password again, and which session (an id, or "others")."""

    current_password = current_password_field()
    # Set by the button pressed: each device's "log out" button, or "log out all the others".
    # Hidden: no field of its own on the page, so its errors are not linked to one.
    end = HiddenField(validators=[max_length(32), DataRequired(), Regexp(r"^(others|[0-9]{1,18})$")])

    def target(self):
        """The id of the session to end, or None for all the other sessions."""
        return None if self.end.data == "others" else int(self.end.data)
