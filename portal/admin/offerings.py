"""The offerings screens: the list, opening a track in a city, editing, closing and reopening."""

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.admin import bp, get_or_404, page_number, page_size, queries
from portal.admin.forms import OfferingEditForm, OfferingForm
from portal.catalog import operations as catalog
from portal.catalog.models import Offering
from portal.catalog.operations import academic_year
from portal.i18n import gettext as _
from portal.i18n import ngettext
from portal.templating import format_day
from portal.timeutil import local_day, utcnow
from portal.transaction import attempt
from portal.vocabulary import OfferingStatus


@bp.get("/offerings")
def offerings():
    """Offerings, filtered by city, track, year and status, paginated."""
    page, filters = queries.offerings_page(request.args, page_number(), page_size())
    return render_template(
        "admin/offerings.html",
        page=page,
        filters=filters,
        counts=queries.applications_count_for([o.id for o in page.items]),
        cities=queries.all_cities(),
        tracks=queries.all_tracks(),
        years=queries.academic_years(),
    )


# The fields the creation and the edit forms share, as the operations name them.
OFFERING_FIELDS = (
    "seats",
    "max_seats_per_association",
    "endorsement_required",
    "opens_on",
    "closes_on",
    "course_starts_on",
)


def _offering_values(form):
    """The values both offering forms send to their operation (create or update)."""
    return {
        **{name: getattr(form, name).data for name in OFFERING_FIELDS},
        "status": form.chosen_status(),
        "reviewer_ids": form.reviewers.data,
    }


def _new_offering_form():
    form = OfferingForm(
        track_choices=[(t.id, f"{t.code} — {t.title}") for t in queries.all_tracks()],
        city_choices=[(c.id, c.name) for c in queries.all_cities()],
        reviewer_choices=queries.reviewer_choices(),
    )
    if request.method == "GET":
        # Pre-filled from the demand table's "open this track here" link.
        now = utcnow()
        today = local_day(now)
        form.track_id.data = request.args.get("track", type=int)
        form.city_id.data = request.args.get("city", type=int)
        form.academic_year.data = academic_year(now)
        form.seats.data = 25
        form.max_seats_per_association.data = current_app.config["MAX_SEATS_PER_ASSOCIATION"]
        form.opens_on.data = today
        form.closes_on.data = today + timedelta(days=60)
    return form


@bp.route("/offerings/new", methods=["GET", "POST"])
def new_offering():
    """Open a track in a city for an academic year."""
    form = _new_offering_form()
    if form.validate_on_submit():
        outcome = attempt(
            catalog.create_offering,
            current_user,
            track_id=form.track_id.data,
            city_id=form.city_id.data,
            academic_year=form.academic_year.data,
            **_offering_values(form),
            form=form,
            others="form",
        )
        if outcome.ok:
            offering = outcome.value
            if offering.status == OfferingStatus.OPEN:
                flash(
                    _(
                        "La session est ouverte : elle reçoit les candidatures du %(first)s au %(last)s.",
                        first=format_day(offering.opens_at),
                        last=format_day(offering.closes_at),
                    ),
                    "success",
                )
            else:
                flash(
                    _("La session est enregistrée comme brouillon : elle n'est pas visible des candidats."),
                    "success",
                )
            return redirect(url_for("admin.offering", offering_id=offering.id))
    return render_template("admin/offering_new.html", form=form)


@bp.route("/offerings/<int:offering_id>", methods=["GET", "POST"])
def offering(offering_id):
    """An offering: edit seats, window, course start, status and reviewers."""
    offering = get_or_404(Offering, offering_id)
    form = OfferingEditForm(obj=offering, reviewer_choices=queries.reviewer_choices())
    if request.method == "GET":
        form.reviewers.data = [u.id for u in offering.reviewers]
        form.opens_on.data = local_day(offering.opens_at)
        form.closes_on.data = local_day(offering.closes_at)
        form.course_starts_on.data = offering.course_starts_on.date() if offering.course_starts_on else None
    if form.validate_on_submit():
        # A refusal expires what the operation changed: the page shows the stored offering.
        outcome = attempt(
            catalog.update_offering,
            current_user,
            offering,
            **_offering_values(form),
            form=form,
            others="form",
        )
        if outcome.ok:
            promoted = outcome.value
            flash(_("La session a été enregistrée."), "success")
            if promoted:
                flash(
                    ngettext(
                        "%(num)d candidature de la liste d'attente a été acceptée.",
                        "%(num)d candidatures de la liste d'attente ont été acceptées.",
                        len(promoted),
                    ),
                    "info",
                )
            return redirect(url_for("admin.offering", offering_id=offering.id))
    return render_template(
        "admin/offering.html",
        offering=offering,
        form=form,
        applications=queries.applications_count_for([offering.id]).get(offering.id, 0),
        assignment_conflicts=queries.assignment_conflicts(offering.id),
        association_seats=queries.association_seat_holders(offering.id),
    )


@bp.post("/offerings/<int:offering_id>/close")
def close_offering(offering_id):
    """Stop taking applications."""
    offering = get_or_404(Offering, offering_id)
    if attempt(catalog.close_offering, current_user, offering).ok:
        flash(_("La session est fermée."), "success")
    return redirect(url_for("admin.offering", offering_id=offering_id))


@bp.post("/offerings/<int:offering_id>/reopen")
def reopen_offering(offering_id):
    """Open the offering (again)."""
    offering = get_or_404(Offering, offering_id)
    if attempt(catalog.reopen_offering, current_user, offering).ok:
        flash(_("La session est ouverte."), "success")
    return redirect(url_for("admin.offering", offering_id=offering_id))
