"""Applicant pages: applying, the dashboard, an application's timeline, documents, actions."""

from flask import abort, current_app, flash, redirect, render_template, send_from_directory, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from portal import permissions
from portal.applications import bp
from portal.applications.forms import ApplicationForm
from portal.applications.models import Application, Document, StatusChange, own_application
from portal.applications.operations import (
    ALREADY_APPLIED,
    AlreadyApplied,
    apply_outlooks_of_rows,
    dashboard_applications,
    eligibility_problem,
    existing_application,
    submit_application,
)
from portal.applications.workflow import transition, waitlist_rank
from portal.associations import membership
from portal.audit import personal_data_viewed
from portal.catalog.models import Offering
from portal.catalog.views import open_offering_rows
from portal.certificates.operations import certificate_of
from portal.demand.operations import my_interests
from portal.extensions import db
from portal.i18n import gettext as _
from portal.safety import takes_files
from portal.transaction import attempt
from portal.vocabulary import ApplicationStatus, DocumentKind, OfferingStatus

# Statuses whose note is the reviewer's message to the applicant (the others carry none).
DECISIONS_WITH_MESSAGE = frozenset(ApplicationStatus.DECISIONS)
# Built once: ``Session.get`` with these options builds and keys a new statement on every
# call, which made each lookup cost about a third more (0.9 against 0.7 ms, in one process).
_OFFERING_WITH_TRACK_AND_CITY = (
    select(Offering)
    .options(joinedload(Offering.track), joinedload(Offering.city))
    .where(Offering.id == bindparam("offering_id"))
)
OPEN_OFFERINGS_SHOWN = 6


def _applicant_or_404():
    """The logged-in applicant (with a profile); anybody else gets a 404."""
    user = current_user._get_current_object()
    if not permissions.can_apply(user) or user.profile is None:
        abort(404)
    # The user itself, not the proxy: pages read it many times.
    return user


def _own_application_or_404(reference):
    """The logged-in user's own application ``reference``; any other one is a 404."""
    application = own_application(current_user.id, reference)
    if application is None:
        abort(404)
    return application


@bp.route("/apply/<int:offering_id>", methods=["GET", "POST"])
@login_required
@takes_files
def apply(offering_id):
    """Apply to an offering: the form, the rules checked by the operation, then the timeline."""
    applicant = _applicant_or_404()
    # Track and city in the same read: the rules and the acknowledgement email use both.
    offering = db.session.scalar(_OFFERING_WITH_TRACK_AND_CITY, {"offering_id": offering_id})
    if offering is None or offering.status == OfferingStatus.DRAFT:
        abort(404)
    form = ApplicationForm()
    # A valid submission is checked against an existing application by the operation (a
    # second identical query here would only repeat it); any other request is here.
    submitting = form.validate_on_submit()
    if not submitting:
        existing = existing_application(applicant, offering)
        if existing is not None:
            flash(str(ALREADY_APPLIED), AlreadyApplied.category)
            return redirect(url_for("applications.detail", reference=existing.reference))

    status = 200
    problem = None
    if submitting:
        outcome = attempt(
            submit_application,
            applicant,
            offering,
            {"motivation": form.motivation.data, "expected_benefit": form.expected_benefit.data},
            form.uploads(),
            form=form,
            fields={DocumentKind.CIN: "cin_copy"},
            others=None,
        )
        if isinstance(outcome.error, AlreadyApplied):
            # A double click: the application made a moment ago is shown instead of the form.
            flash(str(outcome.error.message), outcome.error.category)
            return redirect(url_for("applications.detail", reference=outcome.error.application.reference))
        if outcome.ok:
            application = outcome.value
            message = _(
                "Votre candidature est déposée sous la référence %(reference)s. "
                "Un accusé de réception vous a été envoyé par courriel.",
                reference=application.reference,
            )
            # The reference is isolated so it reads left to right inside Arabic text.
            isolated = Markup("<bdi>{}</bdi>").format(application.reference)
            flash(escape(message).replace(escape(application.reference), isolated), "success")
            return redirect(url_for("applications.detail", reference=application.reference))
        status = 422
        if outcome.error.field is None:
            # A submission rule of the whole form (eligibility): shown where the page shows it.
            problem = outcome.error.message
    else:
        if form.is_submitted():
            status = 422
        problem = eligibility_problem(applicant, offering)
    return render_template("applications/apply.html", form=form, offering=offering, problem=problem), status


@bp.get("/me")
@login_required
def dashboard():
    """The applicant's applications and next steps, and offerings open to apply to."""
    user = current_user._get_current_object()  # the user, not the proxy: read several times here
    if permissions.is_admin(user):
        return redirect(url_for("admin.dashboard"))
    if permissions.is_staff(user):
        return redirect(url_for("review.queue"))
    applicant = _applicant_or_404()
    applications = dashboard_applications(applicant)
    ranks = {a.id: waitlist_rank(a) for a in applications if a.status == ApplicationStatus.WAITLISTED}
    offerings = open_offering_rows(exclude={a.offering_id for a in applications}, limit=OPEN_OFFERINGS_SHOWN)
    claim_name, claim_state, referent = membership.association_standing(applicant)
    return render_template(
        "applications/dashboard.html",
        applications=applications,
        ranks=ranks,
        offerings=offerings,
        outlooks=apply_outlooks_of_rows(applicant, offerings, rows=applications),
        my_interests=my_interests(applicant),
        claim_name=claim_name,
        claim_state=claim_state,
        referent=referent,
    )


@bp.get("/me/applications/<reference>")
@login_required
def detail(reference):
    """One of the applicant's applications: details, documents, timeline and actions."""
    application = _own_application_or_404(reference)
    history = db.session.scalars(
        select(StatusChange).where(StatusChange.application_id == application.id).order_by(StatusChange.id)
    ).all()
    rank = waitlist_rank(application) if application.status == ApplicationStatus.WAITLISTED else None
    # A completed participant downloads their certificate here (issued at the first download).
    completed = application.status == ApplicationStatus.COMPLETED
    return render_template(
        "applications/detail.html",
        application=application,
        history=history,
        rank=rank,
        completed=completed,
        certificate=certificate_of(application) if completed else None,
        decisions_with_message=DECISIONS_WITH_MESSAGE,
    )


def _act(reference, to, success):
    """Apply the applicant's own transition ``to``, flash the outcome and go back to the page."""
    application = _own_application_or_404(reference)
    if attempt(transition, application, to, current_user).ok:
        flash(success, "success")
    return redirect(url_for("applications.detail", reference=reference))


@bp.post("/me/applications/<reference>/withdraw")
@login_required
def withdraw(reference):
    """Withdraw the application (asked for confirmation on the page)."""
    return _act(
        reference,
        ApplicationStatus.WITHDRAWN,
        _("Votre candidature est retirée. Un courriel vous le confirme."),
    )


@bp.post("/me/applications/<reference>/confirm")
@login_required
def confirm(reference):
    """Confirm the seat offered, before the confirmation deadline."""
    return _act(
        reference, ApplicationStatus.CONFIRMED, _("Votre place est confirmée. Un courriel vous le confirme.")
    )


@bp.get("/me/applications/<reference>/documents/<int:document_id>")
@login_required
def document(reference, document_id):
    """Download a document of an application, for those allowed to see it."""
    doc = db.session.scalar(
        select(Document)
        .options(selectinload(Document.application))
        .join(Document.application)
        .where(Document.id == document_id, Application.reference == reference)
    )
    if doc is None or not permissions.can_view_document(current_user, doc):
        abort(404)
    if doc.application.applicant_id != current_user.id:
        # Staff seeing an applicant's document: recorded in the audit log.
        personal_data_viewed(current_user, "document", doc.id, {"application": reference})
    response = send_from_directory(
        current_app.config["UPLOAD_FOLDER"],
        doc.stored_name,
        as_attachment=True,
        download_name=doc.original_name,
        mimetype=doc.content_type,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
