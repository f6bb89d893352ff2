"""The programme's reach: per year and region, then per city and per track; chart and exports.

The figures and their definitions are in ``portal.reach.queries``; administrators see
them exact (the public page ``/programme`` withholds small counts).
"""

import csv
import io
import tempfile

from flask import Response, render_template, request
from flask_babel import format_percent
from flask_login import current_user

from portal import database
from portal.admin import bp, charts, exports
from portal.audit import record
from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import is_rtl
from portal.i18n import lazy_gettext as _l
from portal.reach import queries
from portal.reach.views import selected_year
from portal.timeutil import utcnow

# The chart's two series (the data table beside it gives every figure).
ACTORS_COLOUR = "#0b5a3c"
ASSOCIATIONS_COLOUR = "#8a5a00"

COLUMNS = (
    _l("Niveau"),
    _l("Région"),
    _l("Ville"),
    _l("Formation"),
    _l("Associations touchées"),
    _l("Acteurs formés"),
    _l("Candidatures"),
    _l("Candidatures décidées"),
    _l("Candidatures acceptées"),
    _l("Taux d'acceptation"),
    _l("Résultats enregistrés"),
    _l("Formations achevées"),
    _l("Taux d'achèvement"),
    _l("Demande non satisfaite"),
)


def reach_table(year):
    """The year's figures arranged for the screen and the exports: total, then region blocks.

    Each block is ``{"region", "figures", "cities": [(city, Figures)], "tracks": [(track, Figures)]}``;
    every region is there (the twelve of the chart), its cities and tracks only where
    something was counted.
    """
    reach = queries.reach(year)
    cities = queries.cities()
    tracks = queries.tracks()
    blocks = []
    for region in queries.regions():
        region_cities = sorted(
            (
                (cities[city_id], figures)
                for (region_id, city_id), figures in reach.levels["city"].items()
                if region_id == region.id and city_id in cities and not figures.empty
            ),
            key=lambda pair: pair[0].name,
        )
        region_tracks = [
            (track, reach.get("region_track", region.id, track.id))
            for track in tracks
            if not reach.get("region_track", region.id, track.id).empty
        ]
        blocks.append(
            {
                "region": region,
                "figures": reach.get("region", region.id),
                "cities": region_cities,
                "tracks": region_tracks,
            }
        )
    return reach, blocks


def _rate(value):
    return "" if value is None else format_percent(value, "#,##0.0 %")


def _figures_cells(figures):
    return [
        figures.associations,
        figures.actors,
        figures.applications,
        figures.decided,
        figures.accepted,
        _rate(figures.acceptance_rate),
        figures.outcomes,
        figures.completed,
        _rate(figures.completion_rate),
        figures.demand,
    ]


def export_rows(reach, blocks):
    """The table as rows of plain values (the columns of COLUMNS), whole programme first."""
    rows = [[_("Ensemble du programme"), "", "", "", *_figures_cells(reach.total)]]
    for block in blocks:
        region = block["region"].name
        rows.append([_("Région"), region, "", "", *_figures_cells(block["figures"])])
        rows += [[_("Ville"), region, city.name, "", *_figures_cells(f)] for city, f in block["cities"]]
        rows += [[_("Formation"), region, "", track.code, *_figures_cells(f)] for track, f in block["tracks"]]
    return rows


@bp.get("/reach")
def reach():
    """Associations reached, actors trained, rates and unmet demand, by region, city and track."""
    years = queries.years()
    year = selected_year(request.args, years)
    totals, blocks = reach_table(year)
    series = [(_("Acteurs formés"), ACTORS_COLOUR), (_("Associations touchées"), ASSOCIATIONS_COLOUR)]
    chart = charts.region_bars(
        [(b["region"].name, (b["figures"].actors, b["figures"].associations)) for b in blocks],
        rtl=is_rtl(),
    )
    return render_template(
        "admin/reach.html",
        year=year,
        years=years,
        total=totals.total,
        blocks=blocks,
        chart=chart,
        series=series,
        rate=_rate,
    )


def _audit_export(fmt, year, rows):
    """Record the export before it leaves (its own commit, as the applications' exports)."""
    db.session.commit()
    database.write_intent(True)
    try:
        record(current_user, "reach_export", "reach", None, after={"format": fmt, "year": year, "rows": rows})
        db.session.commit()
    finally:
        database.write_intent(None)


def _export(fmt):
    years = queries.years()
    year = selected_year(request.args, years)
    rows = export_rows(*reach_table(year))
    _audit_export(fmt, year, len(rows))
    return year, [str(c) for c in COLUMNS], rows


def _file_name(year, ext):
    return f"portee-{year}-{utcnow():%Y%m%d-%H%M}.{ext}"


@bp.get("/reach.csv")
def reach_csv():
    """The reach table of the year as CSV (names made inert for spreadsheets)."""
    year, header, rows = _export("csv")
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([exports.neutralise(value) for value in row] for row in rows)
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{_file_name(year, "csv")}"'
    return response


@bp.get("/reach.xlsx")
def reach_xlsx():
    """The reach table of the year as an Excel workbook (names stay text, never formulas)."""
    from openpyxl import Workbook

    year, header, rows = _export("xlsx")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(_l("Portée")))
    sheet.append(header)
    for row in rows:
        sheet.append([exports.text_cell(sheet, value) for value in row])
    with tempfile.SpooledTemporaryFile() as spool:
        workbook.save(spool)
        spool.seek(0)
        content = spool.read()
    response = Response(content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="{_file_name(year, "xlsx")}"'
    return response
