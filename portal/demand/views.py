"""Applicants register and withdraw their wishes for a track in a city."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select, tuple_
from sqlalchemy.orm import joinedload

from portal import permissions
from portal.applications.models import Interest
from portal.catalog.models import City, Offering, Track
from portal.demand import bp, operations
from portal.demand.forms import InterestForm
from portal.extensions import db
from portal.safety import safe_next
from portal.timeutil import utcnow
from portal.transaction import attempt
from portal.vocabulary import OfferingStatus


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


def interest_state(track):
    """For the track page: what the interest button shows to the current user, or None.

    None unless the user is an applicant living in a city where the track has no open
    offering; otherwise ``{"city": City, "interest": Interest or None}``.
    """
    if not permissions.is_applicant(current_user):
        return None
    profile = current_user.profile
    if profile is None or profile.city_id is None:
        return None
    if operations.has_open_offering(track.id, profile.city_id):
        return None
    interest = operations.find_interest(current_user, track.id, profile.city_id)
    if interest is not None and interest.notified_at is not None:
        interest = None
    return {"city": profile.city, "interest": interest}


def my_interests():
    """The current applicant's interests, each with ``opened``: the open offering, if any."""
    if not permissions.is_applicant(current_user):
        return []
    interests = db.session.scalars(
        select(Interest)
        .options(joinedload(Interest.track), joinedload(Interest.city))
        .where(Interest.applicant_id == current_user.id)
        .order_by(Interest.created_at.desc(), Interest.id.desc())
    ).all()
    if not interests:
        return []
    pairs = {(i.track_id, i.city_id) for i in interests}
    offerings = db.session.scalars(
        select(Offering).where(
            tuple_(Offering.track_id, Offering.city_id).in_(pairs),
            Offering.status == OfferingStatus.OPEN,
            Offering.closes_at >= utcnow(),
        )
    ).all()
    opened = {(o.track_id, o.city_id): o for o in offerings}
    return [{"interest": i, "opened": opened.get((i.track_id, i.city_id))} for i in interests]


@bp.app_context_processor
def _demand_helpers():
    return {"interest_state": interest_state, "my_interests": my_interests}
