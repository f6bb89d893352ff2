"""The audit log screen, filterable, newest first (append-only: nothing here edits it)."""

from flask import render_template, request

from portal.admin import audit_labels, bp, page_number, page_size, queries


@bp.get("/audit")
def audit():
    """The audit log, filterable, newest first (append-only: nothing here edits it)."""
    filters = queries.AuditFilters.from_args(request.args)
    actions, object_types = queries.audit_vocabulary()
    return render_template(
        "admin/audit.html",
        page=queries.audit_page(filters, page_number(), page_size()),
        filters=filters,
        args=filters.as_args(),
        actions=actions,
        object_types=object_types,
        audit=audit_labels,
    )
