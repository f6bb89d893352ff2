"""Administration forms: cities, tracks, offerings, associations, staff and the set-password page."""

import re
import unicodedata

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Optional,
    StopValidation,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.auth.forms import new_password_fields
from portal.catalog.operations import MAX_SEATS, MIN_SEATS
from portal.forms import (
    CHOOSE,
    REQUIRED,
    ChoiceField,
    LocalDateField,
    WholeNumberField,
    max_length,
    optional_int,
)
from portal.i18n import lazy_gettext as _l
from portal.vocabulary import Domain, EducationLevel, OfferingStatus, Role


def strip(value):
    """Trim surrounding whitespace of a text value."""
    return value.strip() if isinstance(value, str) else value


def _required():
    return DataRequired(message=REQUIRED)


def _input_required():
    # Unlike DataRequired, keeps a parse error ("abc") and accepts 0 as a value.
    return InputRequired(message=REQUIRED)


class NoControlCharacters:
    """Refuse control and invisible format characters (line breaks, bidi marks) in one-line text."""

    def __call__(self, form, field):
        if field.data and any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in field.data):
            raise StopValidation(_l("Ce champ contient des caractères non autorisés."))


class NoControlCharactersInText:
    """Refuse control characters other than line breaks and tabs in multi-line text."""

    def __call__(self, form, field):
        if field.data and re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", field.data):
            raise StopValidation(_l("Ce champ contient des caractères non autorisés."))


class MultiChoiceField(SelectMultipleField):
    """A multiple select refusing tampered values with a translated message."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "SelectField"

    def process_formdata(self, valuelist):
        """Coerce each submitted value; a value that cannot be coerced is an error."""
        self._bad_value = False
        try:
            self.data = [self.coerce(x) for x in valuelist if x not in ("", None)]
        except (ValueError, TypeError):
            self.data = []
            self._bad_value = True

    def pre_validate(self, form):
        """Every chosen value must be one of the choices."""
        values = {choice[0] for choice in (self.choices or [])}
        if getattr(self, "_bad_value", False) or any(d not in values for d in self.data or []):
            raise StopValidation(_l("Choisissez des valeurs dans la liste."))


class MultiCheckboxField(MultiChoiceField):
    """Several values chosen with checkboxes (a multiple select needs Ctrl or Cmd)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "MultiCheckboxField"


def _text(length, required=True):
    """Validators of a one-line text of at most ``length`` characters."""
    first = [_required()] if required else [Optional()]
    return [max_length(length), *first, NoControlCharacters()]


class CityForm(FlaskForm):
    """A city with its names in the three languages and its region."""

    name_fr = StringField(_l("Nom en français"), filters=[strip], validators=_text(120))
    name_ar = StringField(_l("Nom en arabe"), filters=[strip], validators=_text(120))
    name_en = StringField(_l("Nom en anglais"), filters=[strip], validators=_text(120))
    region_id = ChoiceField(_l("Région"), coerce=optional_int, validators=[_required()])


class AssociationForm(FlaskForm):
    """An association of the register as an administrator corrects it (the operation checks the rules)."""

    name_fr = StringField(_l("Nom de l'association (français)"), filters=[strip], validators=_text(200))
    name_ar = StringField(
        _l("Nom de l'association (arabe)"), filters=[strip], validators=_text(200, required=False)
    )
    registration_number = StringField(
        _l("Numéro du récépissé de dépôt"), filters=[strip], validators=_text(64)
    )
    city_id = ChoiceField(_l("Ville de l'association"), coerce=optional_int, validators=[Optional()])
    field = ChoiceField(_l("Domaine d'action"), validators=[_required()])
    founded_year = WholeNumberField(_l("Année de création"), validators=[Optional()])
    contact_email = StringField(
        _l("Email de contact"), filters=[strip], validators=_text(254, required=False)
    )


class TrackForm(FlaskForm):
    """A track's titles and descriptions in three languages, domain and minimum level."""

    domain = ChoiceField(_l("Domaine"), validators=[_required()])
    min_education = ChoiceField(_l("Niveau d'études minimum"), validators=[_required()])
    title_fr = StringField(_l("Titre en français"), filters=[strip], validators=_text(200))
    title_ar = StringField(_l("Titre en arabe"), filters=[strip], validators=_text(200))
    title_en = StringField(_l("Titre en anglais"), filters=[strip], validators=_text(200))
    description_fr = TextAreaField(
        _l("Description en français"),
        filters=[strip],
        validators=[max_length(5000), Optional(), NoControlCharactersInText()],
    )
    description_ar = TextAreaField(
        _l("Description en arabe"),
        filters=[strip],
        validators=[max_length(5000), Optional(), NoControlCharactersInText()],
    )
    description_en = TextAreaField(
        _l("Description en anglais"),
        filters=[strip],
        validators=[max_length(5000), Optional(), NoControlCharactersInText()],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.domain.choices = [("", CHOOSE), *Domain.choices()]
        self.min_education.choices = [("", CHOOSE), *EducationLevel.choices()]


class NewTrackForm(TrackForm):
    """A new track: its code too (it appears in URLs, so it is not editable afterwards)."""

    code = StringField(
        _l("Code"),
        filters=[strip, lambda v: v.upper() if isinstance(v, str) else v],
        validators=[max_length(32), _required()],
    )


class OfferingFields(FlaskForm):
    """What the creation and the edit page of an offering share.

    The window is two days, in Moroccan time: applications are accepted from the start
    of the first day to the end of the last one (the operation stores those moments).
    """

    # The range is the operation's rule; the browser is only told it, to help on the phone.
    seats = WholeNumberField(
        _l("Nombre de places"),
        validators=[_input_required()],
        render_kw={"min": MIN_SEATS, "max": MAX_SEATS},
    )
    max_seats_per_association = WholeNumberField(
        _l("Places au plus par association"),
        validators=[Optional()],
        render_kw={"min": 1, "max": MAX_SEATS},
        description=_l("Vide : pas de limite."),
    )
    endorsement_required = BooleanField(
        _l("Adhésion confirmée par l'association exigée"),
        description=_l(
            "Cochée : une candidature ne peut être acceptée que si un référent de l'association "
            "du candidat a confirmé son adhésion."
        ),
    )
    opens_on = LocalDateField(
        _l("Premier jour des candidatures"),
        validators=[_input_required()],
        description=_l("Les candidatures sont reçues à partir de 0 h 00 (heure du Maroc) ce jour-là."),
    )
    closes_on = LocalDateField(
        _l("Dernier jour des candidatures"),
        validators=[_input_required()],
        description=_l(
            "Les candidatures sont reçues jusqu'à 23 h 59 (heure du Maroc) ce jour-là inclus : "
            "c'est la date limite affichée aux candidats."
        ),
    )
    course_starts_on = LocalDateField(_l("Début de la session"), validators=[Optional()])
    reviewers = MultiCheckboxField(_l("Évaluateurs"), coerce=int, validators=[Optional()])

    def __init__(self, *args, reviewer_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.reviewers.choices = list(reviewer_choices)


class ReferentForm(FlaskForm):
    """Name an account referent of an association, by its email address."""

    email = EmailField(
        _l("Email du compte à nommer référent"),
        filters=[strip],
        validators=[max_length(254), _required()],
    )


class OfferingEditForm(OfferingFields):
    """What can change on an existing offering."""

    status = ChoiceField(_l("Statut"), validators=[_required()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = OfferingStatus.choices()

    def chosen_status(self):
        """The status chosen in the list."""
        return self.status.data


class OfferingForm(OfferingFields):
    """A new offering: a track in a city for an academic year, opened now or kept as a draft."""

    track_id = ChoiceField(_l("Formation"), coerce=optional_int, validators=[_required()])
    city_id = ChoiceField(_l("Ville"), coerce=optional_int, validators=[_required()])
    academic_year = StringField(
        _l("Année de formation"),
        filters=[strip],
        validators=[max_length(9), _required()],
        description=_l("Par exemple 2026-2027."),
    )
    # The button clicked, "open" (open now) or "draft" (save as a draft): no default, the
    # administrator says which one every time.
    action = ChoiceField(
        validators=[
            DataRequired(
                message=_l("Choisissez : ouvrir la session maintenant ou l'enregistrer comme brouillon.")
            )
        ]
    )

    def __init__(self, *args, track_choices=(), city_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.track_id.choices = [("", CHOOSE), *track_choices]
        self.city_id.choices = [("", CHOOSE), *city_choices]
        self.action.choices = [(s.value, s.value) for s in (OfferingStatus.OPEN, OfferingStatus.DRAFT)]

    def chosen_status(self):
        """The status the new offering gets from the button clicked."""
        return self.action.data


class InviteForm(FlaskForm):
    """Invite a reviewer or an administrator by email."""

    email = EmailField(
        _l("Adresse électronique"),
        filters=[strip, lambda v: v.lower() if isinstance(v, str) else v],
        validators=[
            max_length(254),
            _required(),
            Email(message=_l("Adresse électronique invalide."), check_deliverability=False),
        ],
    )
    role = ChoiceField(_l("Rôle"), validators=[_required()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = Role.choices(Role.STAFF)


class RoleForm(FlaskForm):
    """Change a user's role."""

    role = ChoiceField(_l("Rôle"), validators=[_required()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = Role.choices()


class SetPasswordForm(FlaskForm):
    """The invited staff member chooses a password."""

    password, confirm = new_password_fields()


class RevokeCertificateForm(FlaskForm):
    """Revoking a certificate: the reason, kept in the audit log (required)."""

    reason = TextAreaField(
        _l("Motif de la révocation"),
        filters=[strip],
        validators=[max_length(500), _required(), NoControlCharactersInText()],
    )
