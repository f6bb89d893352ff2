"""Reviewer pages: the queue, an application's review page, reviews, decisions and cohorts.

Thin views: form → permission check → one operation → redirect; the request commits. Applications
outside the user's offerings answer 404, whatever the method. Search terms are never
logged; the CIN search is a POST so the number stays out of URLs and access logs.
"""

from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_file, session, url_for
from flask_login import current_user, login_required

from portal import permissions
from portal.applications.models import Document
from portal.applications.workflow import SeatsFull, course_started
from portal.associations import membership
from portal.audit import personal_data_viewed
from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import ngettext
from portal.review import bp, operations, queries, rows
from portal.review.forms import (
    BulkDecisionForm,
    CinSearchForm,
    DecisionForm,
    OutcomeForm,
    QueueFilterForm,
    ReviewForm,
)
from portal.safety import query_int
from portal.templating import day_formatter, status_label, url_parts, url_prefix
from portal.timeutil import utcnow
from portal.transaction import attempt
from portal.vocabulary import ApplicationStatus

_BULK_RESULT_KEY = "review_bulk_result"
_COHORT_RESULT_KEY = "review_cohort_result"


def _require_staff():
    """404 for anyone without a queue (applicants, anonymous after login_required)."""
    if not permissions.can_use_queue(current_user):
        abort(404)


def _application_or_404(reference):
    """The application if the current user may examine it, else 404."""
    application = queries.application_by_reference(reference)
    if application is None or not permissions.can_examine(current_user, application):
        abort(404)
    return application


def _render_queue(filters, filter_form, cin_form, status=200):
    """Render the queue page for ``filters``."""
    result = queries.queue(current_user, filters)
    args = {
        k: v
        for k, v in {
            "offering": filters.offering_id,
            "status": filters.status,
            "q": filters.q,
            "association": filters.association_id,
            "sort": filters.sort,
        }.items()
        if v
    }
    return (
        render_template(
            "review/queue.html",
            queue=result,
            filters=filters,
            filter_form=filter_form,
            cin_form=cin_form,
            bulk_form=BulkDecisionForm(formdata=None),
            page_args=args,
            bulk_result=_expand(session.pop(_BULK_RESULT_KEY, None)),
            **_row_helpers(result, filters),
        ),
        status,
    )


def _row_helpers(result, filters):
    """The queue's rows, its offerings' seats, status counts and filter lists as markup.

    What they share is computed once per page: the offerings' names, the links' fixed
    parts (references and association ids are URL-safe), the statuses that get a checkbox
    and the dates' formatter.
    """
    names = rows.offering_names(result.offerings)
    # The links are built from parts made once (url_for costs some 15 µs a call).
    queue_url = url_for("review.queue")
    status_url = f"{queue_url}?status=_status_" + (
        f"&offering={filters.offering_id}" if filters.offering_id else ""
    )
    return {
        "filter_options": rows.filter_options(result.offerings, filters),
        "status_counts": rows.status_count_items(result.status_counts, status_url),
        "seats_rows": rows.seats_rows(
            result.offerings, names, result.waitlist_counts, url_parts("review.cohort", "offering_id")
        ),
        "queue_rows": rows.queue_rows(
            result,
            names,
            detail_url=url_prefix("review.detail", "reference"),
            association_url=f"{queue_url}?association=",
            decidable=permissions.decidable_statuses_in_queue(current_user),
            day=day_formatter(),
        ),
    }


@bp.get("")
@login_required
def queue():
    """The queue: applications of the user's offerings, filtered, searched, sorted, paged."""
    _require_staff()
    form = QueueFilterForm(request.args)
    status = request.args.get("status") or None
    if status not in set(ApplicationStatus):
        status = None
    q = (request.args.get("q") or "").strip()[:100] or None
    sort = request.args.get("sort") if request.args.get("sort") in queries.SORTS else queries.SORTS[0]
    filters = queries.QueueFilters(
        offering_id=form.offering.data,
        status=status,
        q=q,
        association_id=query_int("association"),
        sort=sort,
        page=max(query_int("page", 1) or 1, 1),
    )
    return _render_queue(filters, form, CinSearchForm(formdata=None))


@bp.post("/cin")
@login_required
def search_cin():
    """Exact CIN search (POST, never in a URL); shows the matching rows of the queue."""
    _require_staff()
    cin_form = CinSearchForm()
    filter_form = QueueFilterForm(formdata=None)
    if not cin_form.validate():
        return _render_queue(queries.QueueFilters(), filter_form, cin_form, status=422)
    if not cin_form.cin.data:
        # Nothing typed: the whole queue, as with the other (empty) filters.
        return redirect(url_for("review.queue"))
    filters = queries.QueueFilters(cin=cin_form.cin.data.strip().upper())
    return _render_queue(filters, filter_form, cin_form)


@bp.route("/applications/<reference>", methods=["GET", "POST"])
@login_required
def detail(reference):
    """An application's review page; POST saves the current user's review."""
    _require_staff()
    application = _application_or_404(reference)
    if request.method == "GET":
        personal_data_viewed(current_user, "application", application.id)
    existing = operations.own_review(current_user, application)
    form = ReviewForm(obj=existing) if request.method == "GET" else ReviewForm()
    if request.method == "POST":
        if not permissions.can_review(current_user, application):
            flash(_("Cette candidature ne peut plus être évaluée : une décision a été prise."), "warning")
            return redirect(url_for("review.detail", reference=reference))
        if form.validate():
            if attempt(operations.save_review, current_user, application, form.data, category="danger").ok:
                flash(_("Votre évaluation est enregistrée."), "success")
            return redirect(url_for("review.detail", reference=reference))
    status = 422 if request.method == "POST" else 200
    return _render_detail(application, form, existing, status)


def _render_detail(application, review_form, existing, status=200):
    """Render an application's review page."""
    decision_form = DecisionForm(formdata=None, version=application.version)
    profile = application.applicant.profile
    today = utcnow().date()
    seats = queries.association_seats([(application.offering_id, profile.association_id)] if profile else [])
    return (
        render_template(
            "review/detail.html",
            application=application,
            profile=profile,
            age=profile.age_on(today) if profile else None,
            association_seats=seats.get(
                (application.offering_id, profile.association_id if profile else None), 0
            ),
            reviews=queries.reviews_of(application),
            endorsement=membership.membership_of(application.applicant),
            review_form=review_form,
            own_review=existing,
            decision_form=decision_form,
            decisions=permissions.decisions_for(current_user, application),
            cohort_statuses=queries.COHORT_STATUSES,
            offer_waitlist=request.args.get("full") == "1"
            and ApplicationStatus.WAITLISTED in permissions.decisions_for(current_user, application),
        ),
        status,
    )


@bp.post("/applications/<reference>/decide")
@login_required
def decide(reference):
    """Accept, wait-list or reject one application (compare-and-set on its version)."""
    _require_staff()
    application = _application_or_404(reference)
    form = DecisionForm()
    if not form.validate():
        flash(_("Décision invalide. Veuillez réessayer."), "danger")
        return redirect(url_for("review.detail", reference=reference))
    outcome = attempt(
        operations.decide,
        current_user,
        application,
        form.decision.data,
        form.message.data,
        expected_version=form.version.data,
        others=None,
    )
    if isinstance(outcome.error, SeatsFull):
        # A warning, and the page comes back offering to wait-list the candidate instead.
        flash(str(outcome.error.message), "warning")
        return redirect(url_for("review.detail", reference=reference, full=1))
    if not outcome.ok:
        flash(str(outcome.error.message), "danger")
        return redirect(url_for("review.detail", reference=reference))
    flash(
        _(
            "Décision enregistrée : %(status)s. Le candidat est informé par email.",
            status=status_label(application.status),
        ),
        "success",
    )
    return redirect(url_for("review.detail", reference=reference))


@bp.post("/decide")
@login_required
def decide_many():
    """One decision on the rows selected in the queue; reports successes and refusals."""
    _require_staff()
    form = BulkDecisionForm()
    references = request.form.getlist("references")
    back = url_for("review.queue", **_safe_queue_args(request.form))
    refusal = _selection_refused(
        form,
        references,
        invalid=_("Décision invalide. Veuillez réessayer."),
        empty=_("Sélectionnez au moins une candidature."),
        too_many=ngettext(
            "Sélectionnez au plus %(num)d candidature à la fois.",
            "Sélectionnez au plus %(num)d candidatures à la fois.",
            operations.MAX_BULK,
        ),
    )
    if refusal:
        flash(*refusal)
        return redirect(back)
    result = operations.decide_many(current_user, references, form.decision.data, form.message.data)
    session[_BULK_RESULT_KEY] = _compact(result)
    if result.decided:
        flash(
            ngettext(
                "%(num)d décision enregistrée.",
                "%(num)d décisions enregistrées.",
                len(result.decided),
            ),
            "success",
        )
    return redirect(back)


def _selection_refused(form, references, *, invalid, empty, too_many):
    """(message, category) refusing a bulk form before any row is touched, or None.

    The form invalid, no row selected, or more rows than one request may change
    (``operations.MAX_BULK``, which the operations enforce as well).
    """
    if not form.validate():
        return invalid, "danger"
    if not references:
        return empty, "warning"
    if len(references) > operations.MAX_BULK:
        return too_many, "warning"
    return None


def _compact(result):
    """The bulk report for the (cookie) session: failures grouped by reason, to stay small."""
    reasons = {}
    for reference, why in result.failed:
        reasons.setdefault(why, []).append(reference)
    return {
        "decision": result.decision,
        "decided": len(result.decided),
        "full": result.full,
        "failed": [[why, refs] for why, refs in reasons.items()],
    }


def _expand(report):
    """The bulk report as the template shows it: one (reference, reason) per failure."""
    if not report:
        return None
    report["failed"] = [(ref, why) for why, refs in report.get("failed", []) for ref in refs]
    return report


def _safe_queue_args(values):
    """The queue filters to go back to after a bulk decision (whitelisted keys only)."""
    keep = {}
    for key in ("offering", "status", "q", "association", "sort", "page"):
        value = values.get(f"back_{key}")
        if value:
            keep[key] = value[:100]
    return keep


def _cohort_offering_or_404(offering_id):
    """The offering if the current user may see its cohort, else 404."""
    offering = queries.offering_for_cohort(offering_id)
    if offering is None or not permissions.can_see_cohort(current_user, offering):
        abort(404)
    return offering


@bp.get("/offerings/<int:offering_id>/cohort")
@login_required
def cohort(offering_id):
    """An offering's cohort: its participants, and their outcome once the course has started."""
    _require_staff()
    offering = _cohort_offering_or_404(offering_id)
    page = max(query_int("page", 1) or 1, 1)
    return render_template(
        "review/cohort.html",
        offering=offering,
        cohort=queries.cohort(current_user, offering, page),
        cohort_statuses=queries.COHORT_STATUSES,
        recording_open=course_started(offering),
        form=OutcomeForm(formdata=None),
        result=_expand(session.pop(_COHORT_RESULT_KEY, None)),
    )


@bp.post("/offerings/<int:offering_id>/cohort")
@login_required
def record_outcomes(offering_id):
    """Record one outcome for the participants sent (one row's form, or the rows checked)."""
    _require_staff()
    offering = _cohort_offering_or_404(offering_id)
    form = OutcomeForm()
    references = request.form.getlist("references")
    page = form.page.data if form.page.data and form.page.data > 1 else None
    back = url_for("review.cohort", offering_id=offering.id, page=page)
    refusal = _selection_refused(
        form,
        references,
        invalid=_("Résultat invalide. Veuillez réessayer."),
        empty=_("Sélectionnez au moins un participant."),
        too_many=ngettext(
            "Sélectionnez au plus %(num)d participant à la fois.",
            "Sélectionnez au plus %(num)d participants à la fois.",
            operations.MAX_BULK,
        ),
    )
    if refusal:
        flash(*refusal)
        return redirect(back)
    result = operations.record_outcomes(
        current_user, offering, references, form.outcome.data, form.reason.data or None
    )
    session[_COHORT_RESULT_KEY] = _compact(result)
    if result.decided:
        flash(
            ngettext(
                "%(num)d résultat enregistré. Le participant est informé par email.",
                "%(num)d résultats enregistrés. Les participants sont informés par email.",
                len(result.decided),
            ),
            "success",
        )
    return redirect(back)


@bp.get("/applications/<reference>/documents/<int:document_id>")
@login_required
def document(reference, document_id):
    """Download a document of an application, for its reviewers and administrators only."""
    _require_staff()
    application = _application_or_404(reference)
    doc = db.session.get(Document, document_id)
    if (
        doc is None
        or doc.application_id != application.id
        or not permissions.can_download_as_staff(current_user, doc)
    ):
        abort(404)
    path = _document_path(doc)
    if path is None:
        abort(404)
    personal_data_viewed(current_user, "document", doc.id, {"application": application.reference})
    return send_file(
        path,
        mimetype=doc.content_type,
        as_attachment=True,
        download_name=doc.original_name,
        max_age=0,
    )


def _document_path(doc):
    """Where the uploaded file lives, or None when it is missing."""
    folder = Path(current_app.config["UPLOAD_FOLDER"]).resolve()
    path = (folder / doc.stored_name).resolve()
    if folder not in path.parents or not path.is_file():
        return None
    return path
