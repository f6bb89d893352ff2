"""The queue's table rows as markup, built in Python: one string per row.

A page holds fifty rows of seven cells; in Jinja each row was some forty-five escaped
outputs passed up through three generators, about a third of the page's CPU. Here the
labels, badges, links' fixed parts and offering names are read once per page, and a row
is one f-string of escaped values. The markup is the one the template had, to the byte.
"""

from markupsafe import Markup

from portal.i18n import gettext as _
from portal.i18n import isolate_text
from portal.review.forms import SORT_LABELS
from portal.templating import (
    endorsement_badge,
    escape_text,
    format_score,
    per_language,
    status_badge,
    status_badges,
    status_label,
)
from portal.vocabulary import ApplicationStatus


def offering_names(offerings):
    """Each offering's name in the rows (its code and localised city), by id."""
    # Escaped here, then marked safe: ``Markup.format`` cost more than a whole row.
    return {
        o.id: Markup(f'<bdi class="text-nowrap">{escape_text(o.code)}</bdi> · {escape_text(o.city)}')  # noqa: S704
        for o in offerings
    }


def seats_rows(offerings, offering_names, waitlist_counts, cohort_url):
    """The ``<tr>`` of each of the user's offerings in the seats table (escaped markup).

    ``cohort_url`` is the cohort page's URL before and after the offering's id.
    """
    cohort_text = escape_text(_("Cohorte et résultats"))
    label_year, label_seats = escape_text(_("Année")), escape_text(_("Places"))
    label_held, label_left = escape_text(_("Attribuées")), escape_text(_("Restantes"))
    label_waitlist = escape_text(_("Liste d'attente"))
    before, after = (escape_text(part) for part in cohort_url)
    parts = []
    for o in offerings:
        name = offering_names[o.id]
        parts.append(
            f'\n        <tr data-offering="{o.id}">\n'
            f'          <th scope="row" class="card-title-cell">{name} '
            f'<span class="d-block small fw-normal text-secondary">{escape_text(o.title)}</span>\n'
            f'            <a href="{before}{o.id}{after}" class="d-inline-block small fw-normal cohort-link">'
            f'{cohort_text}<span class="visually-hidden"> — {name}</span></a></th>\n'
            f'          <td data-label="{label_year}"><span class="text-nowrap">{escape_text(o.academic_year)}</span></td>\n'
            f'          <td class="text-end" data-label="{label_seats}">{o.seats}</td>'
            f'<td class="text-end seats-held" data-label="{label_held}">{o.seats_held}</td>\n'
            f'          <td class="text-end seats-left" data-label="{label_left}">{o.seats_left}</td>'
            f'<td class="text-end" data-label="{label_waitlist}">{waitlist_counts.get(o.id, 0)}</td>\n'
            "        </tr>"
        )
    # Each value escaped above, the labels and the URL's parts too.
    return Markup("".join(parts))  # noqa: S704


def queue_rows(queue, offering_names, detail_url, association_url, decidable, day):
    """The ``<tr>`` of each row of ``queue.page`` (escaped markup), in the page's order."""
    # Escaped like any value (an apostrophe becomes ``&#39;``: the same text in the browser).
    label_reference, label_candidate = escape_text(_("Référence")), escape_text(_("Candidat"))
    label_offering, label_submitted = escape_text(_("Session")), escape_text(_("Déposée le"))
    label_score, label_status = escape_text(_("Note moyenne")), escape_text(_("Statut"))
    association_title = escape_text(_("Les candidatures de cette association"))
    not_scored = escape_text(_("non évaluée"))
    # ``%`` on the plain translated text; the result is escaped like any value.
    select_text, seats_text = _("Sélectionner %(ref)s"), _("places détenues dans la session : %(n)s")
    detail_url, association_url = escape_text(detail_url), escape_text(association_url)
    badges = status_badges()
    # A page has a few distinct mean scores, each formatted once.
    scores = {}
    parts = []
    for a in queue.page.items:
        ref = escape_text(a.reference)
        if a.status in decidable:
            select = (
                '\n              <input class="form-check-input" type="checkbox" name="references"'
                f' value="{ref}" id="select-{ref}">\n'
                f'              <label class="visually-hidden" for="select-{ref}">'
                f"{escape_text(select_text % {'ref': a.reference})}</label>"
            )
        else:
            select = ""
        name = escape_text(a.email if a.first_name is None else f"{a.first_name} {a.last_name}")
        if a.association_id:
            held = escape_text(seats_text % {"n": a.association_seats_held or 0})
            badge = "" if a.endorsement is None else f" · {endorsement_badge(a.endorsement)}"
            association = (
                '\n              <span class="d-block small text-secondary association-cell">'
                f'<a href="{association_url}{escape_text(a.association_id)}" title="{association_title}">'
                f"{escape_text(a.association_name)}</a> · {held}{badge}</span>"
            )
        else:
            association = ""
        if a.mean_score is None:
            score = f'<span class="text-secondary">{not_scored}</span>'
        else:
            score = scores.get(a.mean_score)
            if score is None:
                score = scores[a.mean_score] = (
                    f'<span class="ltr">{escape_text(format_score(a.mean_score))}</span> / 15'
                )
        status = badges.get(a.status) or status_badge(a.status)
        parts.append(
            f'\n          <tr data-reference="{ref}">\n'
            f'            <td class="select-cell">{select}\n            </td>\n'
            f'            <td data-label="{label_reference}"><a href="{detail_url}{ref}">'
            f'<bdi class="text-nowrap">{ref}</bdi></a></td>\n'
            f'            <td data-label="{label_candidate}">{name}{association}</td>\n'
            f'            <td data-label="{label_offering}">{offering_names[a.offering_id]}</td>\n'
            f'            <td data-label="{label_submitted}">{escape_text(day(a.submitted_at))}</td>\n'
            f'            <td data-label="{label_score}">{score}</td>\n'
            f'            <td data-label="{label_status}">{status}</td>\n'
            "          </tr>\n        "
        )
    return Markup("".join(parts))  # noqa: S704 - every value escaped above


def _status_and_sort_choices():
    """The status and sort lists' choices, (value, label) escaped, in the language being rendered.

    The same for every reviewer: translated once per language.
    """

    def build():
        statuses = [("", escape_text(_("Tous les statuts")))]
        statuses += [(escape_text(s.value), escape_text(status_label(s))) for s in ApplicationStatus]
        return statuses, [(escape_text(key), escape_text(str(label))) for key, label in SORT_LABELS.items()]

    return per_language("queue_filter_choices", build)


def _options(choices, selected):
    """``<option>`` markup of escaped ``choices``, the one of value ``selected`` marked as wtforms does."""
    selected = escape_text(selected)
    return Markup(  # noqa: S704 - values and labels escaped by the callers
        "".join(
            f'<option selected value="{value}">{label}</option>'
            if value == selected
            else f'<option value="{value}">{label}</option>'
            for value, label in choices
        )
    )


def filter_options(offerings, filters):
    """The ``<option>``s of the queue's offering, status and sort lists, the filters applied selected.

    The markup of wtforms' ``Select`` widget, which took a tenth of the page's CPU for some
    thirty options. A value the queue ignored (another reviewer's offering, an unknown
    status) is not shown as chosen: "all" is, which is what the page applies.
    """
    statuses, sorts = _status_and_sort_choices()
    offering_choices = [("", escape_text(_("Toutes mes sessions")))] + [
        (str(o.id), escape_text(f"{isolate_text(o.code)} · {o.city} · {isolate_text(o.academic_year)}"))
        for o in offerings
    ]
    return {
        "offering": _options(offering_choices, str(filters.offering_id or "")),
        "status": _options(statuses, filters.status or ""),
        "sort": _options(sorts, filters.sort),
    }


def status_count_items(counts, status_url):
    """The ``<li>`` of each status above the list: its badge, its count, a link to its applications.

    ``status_url`` is the queue's URL for the status ``_status_``, put in for each status.
    """
    badges = status_badges()
    return Markup(  # noqa: S704 - badges are markup, URL parts escaped, counts integers
        "".join(
            f'\n    <li class="list-inline-item mb-1" data-status="{status}">\n'
            f'      <a href="{escape_text(status_url.replace("_status_", status))}" class="text-decoration-none">'
            f'{badges[status]} <span class="count">{counts.get(status, 0)}</span></a>\n'
            "    </li>"
            for status in ApplicationStatus
        )
    )
