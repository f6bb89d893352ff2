"""The outbox screen: emails pending, sent or failed, and sending a failed one again."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.admin import bp, get_or_404, page_number, page_size, queries
from portal.i18n import gettext as _
from portal.notifications import delivery
from portal.notifications.models import OutboxEmail
from portal.transaction import attempt
from portal.vocabulary import OutboxStatus


@bp.get("/outbox")
def outbox():
    """Emails pending, sent or failed, with the error of the last attempt."""
    status = request.args.get("status")
    status = status if status in OutboxStatus.TABS else OutboxStatus.PENDING.value
    return render_template(
        "admin/outbox.html",
        page=queries.outbox_page(status, page_number(), page_size()),
        status=status,
        tabs=OutboxStatus.TABS,
        counts=queries.outbox_counts(),
    )


@bp.post("/outbox/<int:email_id>/retry")
def retry_email(email_id):
    """Queue a failed email again."""
    email = get_or_404(OutboxEmail, email_id)
    if attempt(delivery.retry_email, current_user, email).ok:
        flash(_("Le courriel sera renvoyé."), "success")
    return redirect(url_for("admin.outbox", status=OutboxStatus.FAILED.value))
