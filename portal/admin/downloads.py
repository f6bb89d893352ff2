"""Exports of the applications matching the dashboard's filters (CSV and Excel), audited first."""

from flask import Response, request, stream_with_context
from flask_login import current_user

from portal import database
from portal.admin import bp, exports, queries
from portal.extensions import db
from portal.timeutil import utcnow


def _audit_export(fmt, filters):
    """Record the export (with its row count) before any personal data leaves.

    Its own commit, not the request's (``portal.transaction``): the response streams the
    rows after the view returns, and the record must be stored before the first of them.
    """
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
