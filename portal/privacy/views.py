"""Applicants' own data: download it (/me/data.json) and delete the account (/me/delete)."""

import json

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal import errors, permissions
from portal.auth import throttle
from portal.auth.sessions import end_session
from portal.i18n import gettext as _
from portal.privacy import bp, operations
from portal.privacy.forms import DeleteAccountForm
from portal.timeutil import utcnow
from portal.transaction import attempt


def _applicant_or_404():
    """The logged-in applicant; staff accounts have no applicant data here (404)."""
    if not permissions.is_applicant(current_user):
        abort(404)
    return current_user._get_current_object()


@bp.get("/me/data.json")
@login_required
def export():
    """All the data the portal holds on the applicant, as a JSON file to download."""
    user = _applicant_or_404()
    body = json.dumps(operations.personal_data(user), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="mes-donnees-{utcnow():%Y%m%d}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/me/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    """Confirm with the current password, then erase the account and log out."""
    user = _applicant_or_404()
    form = DeleteAccountForm()
    status = 200
    if form.validate_on_submit():
        wait = throttle.password_retry_after(user)
        if wait:
            return errors.too_many_attempts(wait)
        outcome = attempt(operations.erase_account, user, form.current_password.data, form=form)
        if outcome.ok:
            end_session()
            flash(
                _("Votre compte est supprimé. Vos données personnelles ont été effacées."),
                "success",
            )
            return redirect(url_for("catalog.home"))
        if outcome.error.field is None:
            # An application changed meanwhile (flashed): the page is shown again, fresh.
            return redirect(url_for("privacy.delete_account"))
        if outcome.error.field == "current_password":
            throttle.password_failed(user)
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("privacy/delete.html", form=form), status
