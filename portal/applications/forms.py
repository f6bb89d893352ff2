"""The application form and the checks of its uploaded files."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.applications.filecheck import document_problem
from portal.applications.uploads import detect_type, stream_size
from portal.forms import TextLength
from portal.safety import MultilineText

MOTIVATION_MIN, MOTIVATION_MAX = 100, 3000
BENEFIT_MIN, BENEFIT_MAX = 20, 2000


def _clean_text(value):
    """Strip surrounding spaces and count a line break as one character, as browsers do."""
    if value is None:
        return value
    return value.replace("\r\n", "\n").strip()


class DocumentFile:
    """Validator: a PDF, JPEG or PNG of at most MAX_UPLOAD_BYTES, not empty, that parses safely.

    The type comes from the first bytes; filecheck then reads the whole file as that type.
    """

    field_flags = {"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}

    def __call__(self, form, field):
        upload = field.data
        if not upload:
            return
        size = stream_size(upload.stream)
        if size == 0:
            raise ValidationError(_l("Le fichier est vide."))
        limit = current_app.config["MAX_UPLOAD_BYTES"]
        if size > limit:
            raise ValidationError(
                _l("Le fichier dépasse la taille maximale de %(mb)s Mo.", mb=f"{limit / (1024 * 1024):g}")
            )
        content_type = detect_type(upload.stream)
        if content_type is None:
            raise ValidationError(_l("Format non accepté : envoyez un fichier PDF, JPEG ou PNG."))
        problem = document_problem(upload.stream, content_type)
        if problem:
            raise ValidationError(problem)


class ApplicationForm(FlaskForm):
    """Motivation, expected benefit and the supporting documents."""

    # Shown in the help texts of the fields.
    limits = {
        "motivation": (MOTIVATION_MIN, MOTIVATION_MAX),
        "expected_benefit": (BENEFIT_MIN, BENEFIT_MAX),
    }

    motivation = TextAreaField(
        _l("Votre motivation"),
        filters=[_clean_text],
        validators=[
            TextLength(
                MOTIVATION_MIN,
                MOTIVATION_MAX,
                _l("La motivation doit compter entre %(min)d et %(max)d caractères."),
            ),
            DataRequired(_l("Expliquez votre motivation.")),
            MultilineText(),
            Length(
                MOTIVATION_MIN,
                MOTIVATION_MAX,
                _l("La motivation doit compter entre %(min)d et %(max)d caractères."),
            ),
        ],
        render_kw={"rows": 8},
    )
    expected_benefit = TextAreaField(
        _l("Apport attendu pour votre association"),
        filters=[_clean_text],
        validators=[
            TextLength(
                BENEFIT_MIN,
                BENEFIT_MAX,
                _l("Ce texte doit compter entre %(min)d et %(max)d caractères."),
            ),
            DataRequired(_l("Indiquez ce que la formation apportera à votre association.")),
            MultilineText(),
            Length(
                BENEFIT_MIN,
                BENEFIT_MAX,
                _l("Ce texte doit compter entre %(min)d et %(max)d caractères."),
            ),
        ],
        render_kw={"rows": 5},
    )
    membership = FileField(
        _l("Attestation d'adhésion à l'association"),
        validators=[FileRequired(_l("Joignez l'attestation d'adhésion.")), DocumentFile()],
    )
    cin_copy = FileField(_l("Copie de la CIN (facultatif)"), validators=[DocumentFile()])

    def uploads(self):
        """The validated files by document kind (kinds without a file are left out)."""
        files = {"membership": self.membership.data, "cin": self.cin_copy.data}
        return {kind: f for kind, f in files.items() if f}
