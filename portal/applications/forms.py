"""The application form and the checks of its uploaded files."""

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField
from wtforms.validators import ValidationError

from portal.applications.filecheck import document_problem
from portal.applications.operations import TEXT_RULES, clean_text
from portal.applications.uploads import detect_type, stream_size
from portal.forms import Needed, TextLength
from portal.i18n import lazy_gettext as _l
from portal.safety import MultilineText
from portal.vocabulary import DocumentKind


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
    """Motivation, expected benefit and the supporting documents.

    The form parses them; ``submit_application`` checks the texts' lengths and that the
    membership attestation is there (its refusals are shown next to these fields).
    """

    # Shown in the help texts of the fields.
    limits = {name: rule[:2] for name, rule in TEXT_RULES.items()}

    motivation = TextAreaField(
        _l("Votre motivation"),
        filters=[clean_text],
        # The maximum is checked first so that no text of any size reaches the next checks.
        validators=[
            TextLength(max=TEXT_RULES["motivation"][1], message=TEXT_RULES["motivation"][3]),
            Needed(),
            MultilineText(),
        ],
        render_kw={"rows": 8},
    )
    expected_benefit = TextAreaField(
        _l("Apport attendu pour votre association"),
        filters=[clean_text],
        validators=[
            TextLength(max=TEXT_RULES["expected_benefit"][1], message=TEXT_RULES["expected_benefit"][3]),
            Needed(),
            MultilineText(),
        ],
        render_kw={"rows": 5},
    )
    membership = FileField(
        _l("Attestation d'adhésion à l'association"), validators=[Needed(), DocumentFile()]
    )
    cin_copy = FileField(_l("Copie de la CIN (facultatif)"), validators=[DocumentFile()])

    def uploads(self):
        """The validated files by document kind (kinds without a file are left out)."""
        files = {DocumentKind.MEMBERSHIP: self.membership.data, DocumentKind.CIN: self.cin_copy.data}
        return {kind: f for kind, f in files.items() if f}
