"""Administration pages: dashboard, catalogue, offerings, staff, exports, outbox, audit.

Every route of this blueprint requires an active administrator (others get 404,
anonymous visitors the login page), except the invitation page, which an invited
staff member opens before having a password.
"""

import json
from datetime import timedelta

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal import database, errors, permissions
from portal.admin import audit_labels, bp, charts, exports, queries
from portal.admin.forms import (
    OFFERING_STATUS_LABELS,
    ROLE_LABELS,
    CityForm,
    InviteForm,
    NewTrackForm,
    OfferingEditForm,
    OfferingForm,
    RoleForm,
    SetPasswordForm,
    TrackForm,
)
from portal.applications.workflow import Status
from portal.auth import staff, throttle
from portal.auth.invitations import read_invite_token
from portal.auth.models import ROLES, User
from portal.caching import cached_html
from portal.catalog import operations as catalog
from portal.catalog.models import City, Offering, Track
from portal.catalog.operations import academic_year
from portal.catalog.workflow import OfferingTransitionRefused
from portal.extensions import db, login_manager
from portal.i18n import current_language
from portal.notifications import delivery
from portal.notifications.models import OutboxEmail
from portal.refusals import AdminError
from portal.safety import query_int
from portal.templating import format_day
from portal.timeutil import local_day, utcnow

# Reachable without being an administrator (the invited person has no password yet).
PUBLIC_ENDPOINTS = frozenset({"admin.accept_invite"})


@bp.before_request
def _require_admin():
    """Administrators only: others see nothing (404), anonymous visitors log in first."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not permissions.is_admin(current_user):
        abort(404)
    return None


@bp.after_request
def _no_store(response):
    """Staff pages carry personal data: never cached by the browser or a proxy."""
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Pragma", "no-cache")
    return response


def _page():
    return max(query_int("page", 1) or 1, 1)


def _per_page():
    return int(current_app.config.get("PAGE_SIZE", 50))


def _field_error(form, error):
    """Show an operation's error next to its field (or above the form)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def _get_or_404(model, object_id):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


# Dashboard and exports -----------------------------------------------------------------


@bp.get("")
def dashboard():
    """Counts by city, track and status, seats, applications per day, demand, outbox.

    ``?refresh=1`` (the page's "recompute now" button) computes the figures now, then
    comes back to the plain address, so that reloading the page does not compute again.
    """
    filters = queries.ApplicationFilters.from_args(request.args)
    refresh = request.args.get("refresh") == "1"
    # The figures read every application (0.2 s at 100,000 on SQLite): the content is
    # rendered at most once per DASHBOARD_CACHE_SECONDS for each language and filter.
    key = f"admin-dashboard:{current_language()}:{json.dumps(filters.as_args(), sort_keys=True)}"
    content = cached_html(
        key,
        current_app.config["DASHBOARD_CACHE_SECONDS"],
        lambda: _dashboard_content(filters),
        refresh=refresh,
    )
    if refresh:
        flash(_("Les chiffres viennent d'être recalculés."), "success")
        return redirect(url_for("admin.dashboard", **filters.as_args()))
    return render_template("admin/dashboard.html", content=content)


def _dashboard_content(filters):
    """Compute the dashboard's figures for ``filters`` and render them."""
    selected = db.session.get(Offering, filters.offering) if filters.offering else None
    cities = {c.id: c for c in queries.all_cities()}
    tracks = {t.id: t for t in queries.all_tracks()}
    counts = queries.status_counts(filters)
    statuses = [s.value for s in Status]
    status_rows = sorted(
        (
            {
                "city": cities.get(city_id),
                "track": tracks.get(track_id),
                "counts": by_status,
                "total": sum(by_status.values()),
            }
            for (city_id, track_id), by_status in counts.items()
        ),
        key=lambda r: (r["city"].name if r["city"] else "", r["track"].code if r["track"] else ""),
    )
    status_totals = {s: sum(r["counts"].get(s, 0) for r in status_rows) for s in statuses}
    per_day = queries.applications_per_day(filters, offering=selected)
    # Days in the reader's format, as everywhere else (the data table gives them too).
    chart = charts.bar_chart([(format_day(day), n) for day, n in per_day]) if per_day else None
    offerings, applications_by_offering = queries.offerings_with_seats(filters)
    return render_template(
        "admin/_dashboard.html",
        filters=filters,
        filter_args=filters.as_args(),
        selected=selected,
        cities=cities,
        tracks=tracks,
        statuses=statuses,
        status_rows=status_rows,
        status_totals=status_totals,
        total=sum(status_totals.values()),
        per_day=per_day,
        per_day_total=sum(n for _day, n in per_day),
        per_day_peak=max((n for _day, n in per_day), default=0),
        chart=chart,
        offerings=offerings,
        applications_by_offering=applications_by_offering,
        demand=queries.demand_ranking(track_id=filters.track),
        outbox=queries.outbox_counts(),
        computed_at=utcnow(),
        offering_choices=queries.offering_choices(),
        years=queries.academic_years(),
    )


def _audit_export(fmt, filters):
    """Record the export (with its row count) before any personal data leaves."""
    # End the read transaction opened by the login check, so that this one starts as a
    # write transaction on SQLite (no "database is locked" when upgrading later).
    db.session.commit()
    database.write_intent(True)
    try:
        rows = queries.count_applications(filters)
        exports.record_export(current_user, fmt, filters.as_args(), rows)
        db.session.commit()
    finally:
        database.write_intent(None)


def _export_name(ext):
    return f"candidatures-{utcnow():%Y%m%d-%H%M}.{ext}"


@bp.get("/export.csv")
def export_csv():
    """Applications matching the dashboard's filters, as CSV, streamed."""
    filters = queries.ApplicationFilters.from_args(request.args)
    _audit_export("csv", filters)
    response = Response(stream_with_context(exports.csv_chunks(filters)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{_export_name("csv")}"'
    return response


@bp.get("/export.xlsx")
def export_xlsx():
    """Applications matching the dashboard's filters, as an Excel workbook, streamed."""
    filters = queries.ApplicationFilters.from_args(request.args)
    _audit_export("xlsx", filters)
    spool = exports.xlsx_file(filters)
    size = spool.seek(0, 2)
    spool.seek(0)
    response = Response(
        exports.file_chunks(spool),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'attachment; filename="{_export_name("xlsx")}"'
    return response


# Cities and tracks ---------------------------------------------------------------------


def _region_choices():
    return [("", _("— Choisir —"))] + [(r.id, r.name) for r in queries.all_regions()]


@bp.get("/cities")
def cities():
    """Every city with its region and its offerings count."""
    return render_template("admin/cities.html", cities=queries.all_cities())


@bp.route("/cities/new", methods=["GET", "POST"])
def new_city():
    """Add a city (names in French, Arabic and English, and its region)."""
    form = CityForm()
    form.region_id.choices = _region_choices()
    if form.validate_on_submit():
        try:
            city = catalog.create_city(
                current_user,
                name_fr=form.name_fr.data,
                name_ar=form.name_ar.data,
                name_en=form.name_en.data,
                region_id=form.region_id.data,
            )
        except AdminError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("La ville %(name)s a été ajoutée.", name=city.name), "success")
            return redirect(url_for("admin.cities"))
    return render_template("admin/city_form.html", form=form, city=None)


@bp.route("/cities/<int:city_id>/edit", methods=["GET", "POST"])
def edit_city(city_id):
    """Change a city's names or region."""
    city = _get_or_404(City, city_id)
    form = CityForm(obj=city)
    form.region_id.choices = _region_choices()
    if form.validate_on_submit():
        catalog.update_city(
            current_user,
            city,
            name_fr=form.name_fr.data,
            name_ar=form.name_ar.data,
            name_en=form.name_en.data,
            region_id=form.region_id.data,
        )
        db.session.commit()
        flash(_("La ville %(name)s a été modifiée.", name=city.name), "success")
        return redirect(url_for("admin.cities"))
    return render_template("admin/city_form.html", form=form, city=city)


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
        try:
            track = catalog.create_track(current_user, code=form.code.data, **_track_values(form))
        except AdminError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("La formation %(code)s a été ajoutée.", code=track.code), "success")
            return redirect(url_for("admin.tracks"))
    return render_template("admin/track_form.html", form=form, track=None)


@bp.route("/tracks/<int:track_id>/edit", methods=["GET", "POST"])
def edit_track(track_id):
    """Change a track's titles, descriptions, domain and minimum education level."""
    track = _get_or_404(Track, track_id)
    form = TrackForm(obj=track)
    if form.validate_on_submit():
        try:
            catalog.update_track(current_user, track, **_track_values(form))
        except AdminError as error:
            db.session.rollback()
            db.session.refresh(track)
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("La formation %(code)s a été modifiée.", code=track.code), "success")
            return redirect(url_for("admin.tracks"))
    return render_template("admin/track_form.html", form=form, track=track)


# Offerings -----------------------------------------------------------------------------


@bp.get("/offerings")
def offerings():
    """Offerings, filtered by city, track, year and status, paginated."""
    page, filters = queries.offerings_page(request.args, _page(), _per_page())
    return render_template(
        "admin/offerings.html",
        page=page,
        filters=filters,
        counts=queries.applications_count_for([o.id for o in page.items]),
        cities=queries.all_cities(),
        tracks=queries.all_tracks(),
        years=queries.academic_years(),
        status_labels=OFFERING_STATUS_LABELS,
    )


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
        form.opens_on.data = today
        form.closes_on.data = today + timedelta(days=60)
    return form


@bp.route("/offerings/new", methods=["GET", "POST"])
def new_offering():
    """Open a track in a city for an academic year."""
    form = _new_offering_form()
    if form.validate_on_submit():
        try:
            offering = catalog.create_offering(
                current_user,
                track_id=form.track_id.data,
                city_id=form.city_id.data,
                academic_year=form.academic_year.data,
                seats=form.seats.data,
                opens_on=form.opens_on.data,
                closes_on=form.closes_on.data,
                course_starts_on=form.course_starts_on.data,
                status=form.status,
                reviewer_ids=form.reviewers.data,
            )
        except (AdminError, OfferingTransitionRefused) as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            if offering.status == "open":
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
    offering = _get_or_404(Offering, offering_id)
    form = OfferingEditForm(obj=offering, reviewer_choices=queries.reviewer_choices())
    if request.method == "GET":
        form.reviewers.data = [u.id for u in offering.reviewers]
        form.opens_on.data = local_day(offering.opens_at)
        form.closes_on.data = local_day(offering.closes_at)
        form.course_starts_on.data = offering.course_starts_on.date() if offering.course_starts_on else None
    if form.validate_on_submit():
        try:
            promoted = catalog.update_offering(
                current_user,
                offering,
                seats=form.seats.data,
                opens_on=form.opens_on.data,
                closes_on=form.closes_on.data,
                course_starts_on=form.course_starts_on.data,
                status=form.status.data,
                reviewer_ids=form.reviewers.data,
            )
        except (AdminError, OfferingTransitionRefused) as error:
            db.session.rollback()
            db.session.refresh(offering)
            _field_error(form, error)
        else:
            db.session.commit()
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
        status_labels=OFFERING_STATUS_LABELS,
    )


@bp.post("/offerings/<int:offering_id>/close")
def close_offering(offering_id):
    """Stop taking applications."""
    offering = _get_or_404(Offering, offering_id)
    try:
        catalog.close_offering(current_user, offering)
    except (AdminError, OfferingTransitionRefused) as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(_("La session est fermée."), "success")
    return redirect(url_for("admin.offering", offering_id=offering_id))


@bp.post("/offerings/<int:offering_id>/reopen")
def reopen_offering(offering_id):
    """Open the offering (again)."""
    offering = _get_or_404(Offering, offering_id)
    try:
        catalog.reopen_offering(current_user, offering)
    except (AdminError, OfferingTransitionRefused) as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(_("La session est ouverte."), "success")
    return redirect(url_for("admin.offering", offering_id=offering_id))


# Staff ---------------------------------------------------------------------------------


def _users_page(invite_form, status=200):
    q = queries.clean_text(request.args.get("q"), 254)
    role = request.args.get("role")
    role = role if role in ROLES else None
    page = queries.users_page(q, role, _page(), _per_page())
    args = {k: v for k, v in (("q", q), ("role", role)) if v}
    return (
        render_template(
            "admin/users.html",
            page=page,
            q=q,
            role=role,
            args=args,
            invite_form=invite_form,
            role_labels=ROLE_LABELS,
            role_form=RoleForm,
        ),
        status,
    )


@bp.get("/users")
def users():
    """Users, searchable by email or name and filterable by role; the invitation form."""
    return _users_page(InviteForm())


@bp.post("/users/invite")
def invite():
    """Invite a reviewer or an administrator: the account and an emailed link."""
    form = InviteForm()
    if form.validate_on_submit():
        wait = throttle.invitation.spend(form.email.data)
        if wait:
            return errors.too_many_attempts(wait)
        try:
            user = staff.invite_staff(current_user, form.email.data, form.role.data)
        except AdminError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Invitation envoyée à %(email)s.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return _users_page(form, status=422)


def _user_action(act, done_message):
    """Run ``act`` (one operation on a user), commit, flash the outcome; back to the users."""
    try:
        act()
    except AdminError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(done_message(), "success")
    return redirect(url_for("admin.users"))


@bp.get("/users/<int:user_id>/role")
def confirm_role_change(user_id):
    """Confirmation page of a role change chosen in the list: the person, the old and new role.

    Nothing changes here (it works without script): the page's button sends the POST below.
    """
    user = _get_or_404(User, user_id)
    role = request.args.get("role")
    if role not in ROLES:
        flash(_("Choisissez une valeur dans la liste."), "error")
        return redirect(url_for("admin.users"))
    if user.id == current_user.id:
        flash(_("Vous ne pouvez pas modifier votre propre rôle."), "error")
        return redirect(url_for("admin.users"))
    if role == user.role:
        flash(_("%(email)s a déjà le rôle %(role)s.", email=user.email, role=ROLE_LABELS[role]), "info")
        return redirect(url_for("admin.users"))
    return render_template(
        "admin/role_confirm.html",
        user=user,
        role=role,
        role_labels=ROLE_LABELS,
        assignments=len(user.reviewed_offerings) if user.role == "reviewer" else 0,
    )


@bp.post("/users/<int:user_id>/role")
def change_role(user_id):
    """Give a user another role (sent by the confirmation page)."""
    user = _get_or_404(User, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choisissez une valeur dans la liste."), "error")
        return redirect(url_for("admin.users"))
    return _user_action(
        lambda: staff.change_role(current_user, user, form.role.data),
        lambda: _("Rôle de %(email)s : %(role)s.", email=user.email, role=ROLE_LABELS[user.role]),
    )


@bp.post("/users/<int:user_id>/deactivate")
def deactivate_user(user_id):
    """Deactivate an account and end its sessions."""
    user = _get_or_404(User, user_id)
    return _user_action(
        lambda: staff.deactivate_user(current_user, user),
        lambda: _("Le compte %(email)s est désactivé.", email=user.email),
    )


@bp.post("/users/<int:user_id>/reset-two-factor")
def reset_second_factor(user_id):
    """Forget a staff member's authenticator: they enrol a new one at their next login."""
    user = _get_or_404(User, user_id)
    return _user_action(
        lambda: staff.reset_second_factor(current_user, user),
        lambda: _("La double authentification de %(email)s est réinitialisée.", email=user.email),
    )


@bp.post("/users/<int:user_id>/reactivate")
def reactivate_user(user_id):
    """Reactivate an account."""
    user = _get_or_404(User, user_id)
    return _user_action(
        lambda: staff.reactivate_user(current_user, user),
        lambda: _("Le compte %(email)s est réactivé.", email=user.email),
    )


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token):
    """The invited staff member chooses a password (no login needed: the link is the proof)."""
    user = read_invite_token(token)
    if user is None:
        return render_template("admin/accept_invite.html", form=None), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            staff.accept_invite(user, form.password.data)
        except AdminError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Votre mot de passe est enregistré. Vous pouvez maintenant vous connecter."), "success")
            return redirect(url_for("auth.login"))
    return render_template("admin/accept_invite.html", form=form, user=user)


# Outbox and audit ----------------------------------------------------------------------


OUTBOX_TABS = ("pending", "sent", "failed")


@bp.get("/outbox")
def outbox():
    """Emails pending, sent or failed, with the error of the last attempt."""
    status = request.args.get("status")
    status = status if status in OUTBOX_TABS else "pending"
    return render_template(
        "admin/outbox.html",
        page=queries.outbox_page(status, _page(), _per_page()),
        status=status,
        tabs=OUTBOX_TABS,
        counts=queries.outbox_counts(),
    )


@bp.post("/outbox/<int:email_id>/retry")
def retry_email(email_id):
    """Queue a failed email again."""
    email = _get_or_404(OutboxEmail, email_id)
    try:
        delivery.retry_email(current_user, email)
    except AdminError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(_("Le courriel sera renvoyé."), "success")
    return redirect(url_for("admin.outbox", status="failed"))


@bp.get("/audit")
def audit():
    """The audit log, filterable, newest first (append-only: nothing here edits it)."""
    filters = queries.AuditFilters.from_args(request.args)
    actions, object_types = queries.audit_vocabulary()
    return render_template(
        "admin/audit.html",
        page=queries.audit_page(filters, _page(), _per_page()),
        filters=filters,
        args=filters.as_args(),
        actions=actions,
        object_types=object_types,
        audit=audit_labels,
    )
