"""Applicants register and withdraw their wishes for a track in a city."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from portal import permissions
from portal.applications.models import Interest
from portal.catalog.models import City, Track
from portal.demand import bp, operations
from portal.demand.forms import InterestForm
from portal.extensions import db
from portal.i18n import gettext as _
from portal.safety import safe_next
from portal.transaction import attempt


def _back():
    """Where to go after an action: the page the form came from, else the dashboard."""
    return redirect(safe_next(request.form.get("next")) or url_for("applications.dashboard"))


@bp.post("/me/interests")
@login_required
def add_interest():
    """Register "I want this track in my city"."""
    if not permissions.is_applicant(current_user):
        abort(404)
    form = InterestForm()
    if not form.validate():
        flash(_("La demande n'a pas pu être enregistrée. Veuillez réessayer."), "error")
        return _back()
    track = db.session.get(Track, form.track_id.data)
    city = db.session.get(City, form.city_id.data)
    if track is None or city is None:
        abort(404)
    outcome = attempt(operations.register_interest, current_user, track, city)
    if not outcome.ok:
        return _back()
    _interest, created = outcome.value
    if created:
        flash(
            _(
                "Votre demande est enregistrée : nous vous écrirons si « %(track)s » ouvre à %(city)s.",
                track=track.title,
                city=city.name,
            ),
            "success",
        )
    else:
        flash(_("Vous avez déjà demandé cette formation dans cette ville."), "info")
    return _back()


@bp.post("/me/interests/<int:interest_id>/delete")
@login_required
def delete_interest(interest_id):
    """Withdraw one of my interests (someone else's answers 404)."""
    interest = db.session.get(Interest, interest_id)
    if interest is None or interest.applicant_id != current_user.id:
        abort(404)
    operations.withdraw_interest(interest)
    flash(_("Votre demande a été retirée."), "success")
    return _back()
