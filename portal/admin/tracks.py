"""The tracks screens: the catalogue's tracks, adding one, changing one."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal.admin import bp, get_or_404, queries
from portal.admin.forms import NewTrackForm, TrackForm
from portal.catalog import operations as catalog
from portal.catalog.models import Track
from portal.i18n import gettext as _
from portal.transaction import attempt


@bp.get("/tracks")
def tracks():
    """Every track of the catalogue."""
    return render_template("admin/tracks.html", tracks=queries.all_tracks())


def _track_values(form):
    return {name: getattr(form, name).data for name in catalog.TRACK_FIELDS}


@bp.route("/tracks/new", methods=["GET", "POST"])
def new_track():
    """Add a track."""
    form = NewTrackForm()
    if form.validate_on_submit():
        outcome = attempt(
            catalog.create_track,
            current_user,
            code=form.code.data,
            **_track_values(form),
            form=form,
            others="form",
        )
        if outcome.ok:
            flash(_("La formation %(code)s a été ajoutée.", code=outcome.value.code), "success")
            return redirect(url_for("admin.tracks"))
    return render_template("admin/track_form.html", form=form, track=None)


@bp.route("/tracks/<int:track_id>/edit", methods=["GET", "POST"])
def edit_track(track_id):
    """Change a track's titles, descriptions, domain and minimum education level."""
    track = get_or_404(Track, track_id)
    form = TrackForm(obj=track)
    # A refusal expires what the operation changed: the page shows the stored track.
    if (
        form.validate_on_submit()
        and attempt(
            catalog.update_track, current_user, track, **_track_values(form), form=form, others="form"
        ).ok
    ):
        flash(_("La formation %(code)s a été modifiée.", code=track.code), "success")
        return redirect(url_for("admin.tracks"))
    return render_template("admin/track_form.html", form=form, track=track)
