"""The account deletion form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Length


class DeleteAccountForm(FlaskForm):
    """The current password and an explicit acknowledgement: deletion cannot be undone."""

    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[
            DataRequired(_l("Saisissez votre mot de passe actuel.")),
            Length(max=1024, message=_l("%(max)d caractères au maximum.")),
        ],
    )
    understood = BooleanField(
        _l("Je comprends que mon compte et mes données seront supprimés définitivement."),
        validators=[DataRequired(_l("Cochez cette case pour confirmer la suppression."))],
    )
