"""The dashboard's table rows as markup, built in Python: one string per row.

In Jinja each row of the demand table was some fifteen escaped outputs, the seats table's
nine, the status table's a dozen: the larger part of rendering the page. Here the labels
and the links' fixed parts are read once per page, each name is escaped once, and a row
is one f-string of escaped values (numbers need none). The markup is the one the
template had.
"""

from markupsafe import Markup

from portal.i18n import gettext as _
from portal.templating import escape_text


class _Escaped(dict):
    """Escaped text of each value asked for, escaped once per page."""

    def __missing__(self, value):
        text = self[value] = escape_text(value)
        return text


def status_rows(rows):
    """The ``<tr>`` of each ``(city, code, [(status, n)], total)`` of the status table."""
    parts = []
    for city, code, cells, total in rows:
        counts = "".join(f'<td class="text-end" data-status="{status}">{n}</td>' for status, n in cells)
        parts.append(
            "\n        <tr>\n"
            f'          <th scope="row">{escape_text(city)}</th>\n'
            f'          <td><bdi class="text-nowrap">{escape_text(code)}</bdi></td>\n'
            f"          {counts}\n"
            f'          <td class="text-end fw-semibold">{total}</td>\n'
            "        </tr>\n        "
        )
    return Markup("".join(parts))  # noqa: S704 - every value escaped above


def seats_rows(rows, offering_url):
    """The ``<tr>`` of each row of the seats table (see ``dashboard._dashboard_content``)."""
    label_year, label_status = escape_text(_("Année")), escape_text(_("Statut"))
    label_applications, label_seats = escape_text(_("Candidatures")), escape_text(_("Places"))
    label_held, label_left = escape_text(_("Attribuées")), escape_text(_("Restantes"))
    offering_url = escape_text(offering_url)
    text = _Escaped()
    parts = []
    for offering_id, code, city, year, status, applications, seats, held, left in rows:
        parts.append(
            "\n        <tr>\n"
            f'          <th scope="row"><a href="{offering_url}{offering_id}"><bdi class="text-nowrap">'
            f"{text[code]}</bdi> — {text[city]}</a></th>\n"
            f'          <td data-label="{label_year}"><span class="text-nowrap">{text[year]}</span></td>\n'
            f'          <td data-label="{label_status}">{text[status]}</td>\n'
            f'          <td class="text-end" data-label="{label_applications}">{applications}</td>\n'
            f'          <td class="text-end" data-label="{label_seats}">{seats}</td>\n'
            f'          <td class="text-end" data-label="{label_held}">{held}</td>\n'
            f'          <td class="text-end" data-label="{label_left}">{left}</td>\n'
            "        </tr>\n        "
        )
    return Markup("".join(parts))  # noqa: S704 - every value escaped above


def demand_rows(rows, offering_url, new_offering_url):
    """The ``<tr>`` of each row of the demand ranking (see ``dashboard._demand``)."""
    label_track, label_region = escape_text(_("Formation")), escape_text(_("Région"))
    label_demands, label_residents = escape_text(_("Demandes")), escape_text(_("Candidats résidents"))
    see, open_one = escape_text(_("Voir la session prévue")), escape_text(_("Ouvrir une session ici"))
    offering_url, new_offering_url = escape_text(offering_url), escape_text(new_offering_url)
    text = _Escaped()
    parts = []
    for code, title, city_id, city, region, interests, residents, planned, track_id in rows:
        code, city = text[code], text[city]
        if planned:
            action = (
                f'<a class="btn btn-sm btn-outline-secondary" href="{offering_url}{planned}">{see}'
                f'<span class="visually-hidden"> — {code}, {city}</span></a>'
            )
        else:
            action = (
                f'<a class="btn btn-sm btn-outline-primary" href="{new_offering_url}?track={track_id}'
                f'&amp;city={city_id}">{open_one}<span class="visually-hidden"> — {code}, {city}</span></a>'
            )
        parts.append(
            "\n        <tr>\n"
            f'          <td data-label="{label_track}"><bdi class="text-nowrap">{code}</bdi>'
            f' <span class="d-none d-md-inline">— {text[title]}</span></td>\n'
            f'          <th scope="row">{city}</th>\n'
            f'          <td class="d-none d-md-table-cell" data-label="{label_region}">{text[region]}</td>\n'
            f'          <td class="text-end" data-label="{label_demands}">{interests}</td>\n'
            f'          <td class="text-end" data-label="{label_residents}">{residents}</td>\n'
            f'          <td class="action-cell">{action}</td>\n'
            "        </tr>\n        "
        )
    return Markup("".join(parts))  # noqa: S704 - every value escaped above
