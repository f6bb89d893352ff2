"""The page where an invited staff member chooses a password (no login: the link is the proof)."""

from flask import flash, redirect, render_template, url_for

from portal.admin import bp
from portal.admin.forms import SetPasswordForm
from portal.auth import staff
from portal.auth.invitations import read_invite_token
from portal.i18n import gettext as _
from portal.transaction import attempt


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token):
    """The invited staff member chooses a password (no login needed: the link is the proof)."""
    user = read_invite_token(token)
    if user is None:
        return render_template("admin/accept_invite.html", form=None), 400
    form = SetPasswordForm()
    if (
        form.validate_on_submit()
        and attempt(staff.accept_invite, user, form.password.data, form=form, others="form").ok
    ):
        flash(_("Votre mot de passe est enregistré. Vous pouvez maintenant vous connecter."), "success")
        return redirect(url_for("auth.login"))
    return render_template("admin/accept_invite.html", form=form, user=user)
