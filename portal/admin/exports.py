"""Exports of applications (CSV and XLSX), streamed so memory stays flat as rows grow.

Rows are read as plain tuples in batches (``yield_per``), never as ORM objects, and
written out batch by batch: the CSV as a generator of text chunks, the XLSX with
openpyxl's write-only mode (rows go to a temporary file) saved into a spooled
temporary file that is then streamed. Text cells that a spreadsheet would read as a
formula are made inert: in the CSV with a leading ``'``, in the workbook as text cells
with Excel's quote prefix, so that "+212…" still shows as typed.
"""

import csv
import io
import tempfile
from datetime import UTC, date, datetime

from flask_babel import get_timezone
from sqlalchemy.orm import aliased

from portal.applications.models import Application
from portal.audit import record
from portal.auth.models import ApplicantProfile, User
from portal.catalog.models import City, Offering, Track
from portal.extensions import db
from portal.i18n import current_language
from portal.i18n import lazy_gettext as _l
from portal.templating import status_label
from portal.vocabulary import AssociationField, EducationLevel

BATCH = 1000
CHUNK = 64 * 1024
# Small: beyond it the workbook goes to disk, so memory does not grow with the export.
SPOOL_MAX = 256 * 1024
# A spreadsheet evaluates cells starting with these; tab and CR too (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = (
    _l("Référence"),
    _l("Statut"),
    _l("Date de dépôt"),
    _l("Code formation"),
    _l("Formation"),
    _l("Ville"),
    _l("Nom"),
    _l("Prénom"),
    _l("Nom (arabe)"),
    _l("Prénom (arabe)"),
    _l("CIN"),
    _l("Date de naissance"),
    _l("Téléphone"),
    _l("Courriel"),
    _l("Niveau d'études"),
    _l("Association"),
    _l("N° de récépissé"),
    _l("Ville de l'association"),
    _l("Domaine d'action"),
    _l("Rôle dans l'association"),
    _l("Années d'engagement"),
    _l("Note moyenne"),
)


def neutralise(value):
    """A text cell made inert: prefixed with ``'`` when it starts like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def export_statement(filters):
    """SELECT of the exported columns (plain values, no ORM objects), oldest first."""
    from portal.admin.queries import filtered_applications

    language = current_language()
    association_city = aliased(City)
    return (
        filtered_applications(
            filters,
            Application.reference,
            Application.status,
            Application.submitted_at,
            Track.code,
            getattr(Track, f"title_{language}", Track.title_fr),
            getattr(City, f"name_{language}", City.name_fr),
            ApplicantProfile.last_name,
            ApplicantProfile.first_name,
            ApplicantProfile.last_name_ar,
            ApplicantProfile.first_name_ar,
            ApplicantProfile.cin,
            ApplicantProfile.birth_date,
            ApplicantProfile.phone,
            User.email,
            ApplicantProfile.education_level,
            ApplicantProfile.association_name,
            ApplicantProfile.association_registration,
            getattr(association_city, f"name_{language}", association_city.name_fr),
            ApplicantProfile.association_field,
            ApplicantProfile.association_role,
            ApplicantProfile.association_years,
            Application.mean_score,
        )
        .join(Track, Track.id == Offering.track_id)
        .join(City, City.id == Offering.city_id)
        .join(User, User.id == Application.applicant_id)
        .outerjoin(ApplicantProfile, ApplicantProfile.user_id == User.id)
        .outerjoin(association_city, association_city.id == ApplicantProfile.association_city_id)
        .order_by(Application.id)
        .execution_options(yield_per=BATCH)
    )


def _rows(filters):
    """Each exported row as a list of Python values (datetimes in the portal's time zone)."""
    # Translated labels, resolved once per export rather than once per row.
    education = {level.value: str(level.label) for level in EducationLevel}
    fields = {field.value: str(field.label) for field in AssociationField}
    statuses = {}
    # The portal's time zone, looked up once: Flask-Babel's to_user_timezone() looks it up
    # again for every one of the 100,000 rows.
    local = get_timezone()
    result = db.session.execute(export_statement(filters))
    for batch in result.partitions():
        for row in batch:
            row = list(row)
            status = row[1]
            if status not in statuses:
                statuses[status] = str(status_label(status))
            row[1] = statuses[status]
            if row[2]:
                moment = local.normalize(row[2].replace(tzinfo=UTC).astimezone(local))
                row[2] = moment.replace(tzinfo=None, microsecond=0)
            row[14] = education.get(row[14], row[14])
            row[18] = fields.get(row[18], row[18])
            if row[21] is not None:
                row[21] = round(row[21], 2)
            yield row


def header():
    """The translated column titles."""
    return [str(c) for c in COLUMNS]


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def csv_chunks(filters):
    """The CSV export as a generator of text chunks (UTF-8 BOM first, for spreadsheets)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header())
    for count, row in enumerate(_rows(filters), start=1):
        writer.writerow([_csv_value(v) for v in row])
        if count % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def text_cell(sheet, value):
    """A workbook value; text that starts like a formula becomes a quote-prefixed text cell.

    The cell shows exactly what was typed ("+212 6…", not "'+212 6…") and stays text when
    someone edits it in Excel; openpyxl alone would store a text starting with ``=`` as a
    formula, hence the explicit text type.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def xlsx_file(filters):
    """The XLSX export written into a spooled temporary file, positioned at its start.

    Rows are appended as plain values (openpyxl reuses one cell per row), but for texts
    that start like a formula (see ``text_cell``).
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(_l("Candidatures")))
    sheet.append(header())
    for row in _rows(filters):
        sheet.append([text_cell(sheet, value) for value in row])
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX)  # noqa: SIM115 - closed by the stream
    workbook.save(spool)
    spool.seek(0)
    return spool


def file_chunks(spool):
    """Read a file in chunks and close it at the end (or when the client goes away)."""
    try:
        while True:
            chunk = spool.read(CHUNK)
            if not chunk:
                break
            yield chunk
    finally:
        spool.close()


def record_export(actor, fmt, filters, rows):
    """Audit an export of applicants' personal data; flush."""
    record(actor, "export", "applications", None, after={"format": fmt, "filters": filters, "rows": rows})
    db.session.flush()
