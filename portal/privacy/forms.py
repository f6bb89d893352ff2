"""The account deletion form."""

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import DataRequired

from portal.auth.forms import current_password_field
from portal.i18n import lazy_gettext as _l


class DeleteAccountForm(FlaskForm):
    """The current password and an explicit acknowledgement: deletion cannot be undone."""

    current_password = current_password_field()
    understood = BooleanField(
        _l("Je comprends que mon compte et mes données seront supprimés définitivement."),
        validators=[DataRequired(_l("Cochez cette case pour confirmer la suppression."))],
    )
