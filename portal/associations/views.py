"""The register's public search: applicants find their association by name, number or city.

Registration is anonymous, so the search is public; it is throttled per client address
and shows at most a few entries, with only their names, number and city.
"""

from flask import jsonify, make_response, render_template, request, url_for

from portal import errors
from portal.associations import bp, queries
from portal.auth import throttle
from portal.i18n import current_language
from portal.vocabulary import AssociationState

# The forms a result leads back to (pre-filled with the entry chosen).
TARGETS = {"register": "auth.register", "profile": "account.profile"}


def entry_summary(association):
    """What the search shows of an entry (and what fills a form's fields when chosen)."""
    city = association.city
    return {
        "id": association.id,
        "name": association.name_fr,
        "name_ar": association.name_ar,
        "number": association.registration_number,
        "city": city.name if city else None,
        "city_id": association.city_id,
        "field": association.field,
        # Checked by an administrator (else shown as "to verify").
        "checked": association.state == AssociationState.VERIFIED,
    }


def _wants_json():
    """Whether the client (the page's script) asked for JSON rather than a page."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.get("/associations/search")
def search():
    """Entries matching ``q``: a page to pick from, or JSON for the search box's live list."""
    wait = throttle.association_search.spend()
    if wait:
        return errors.too_many_attempts(wait)
    q = queries.clean_query(request.args.get("q"))
    target = request.args.get("for")
    if target not in TARGETS:
        target = "register"
    results = queries.search(q)
    if _wants_json():
        response = jsonify(
            query=q,
            language=current_language(),
            results=[entry_summary(a) for a in results],
        )
    else:
        response = render_template(
            "associations/search.html",
            q=q,
            results=results,
            searched=len(q) >= queries.MIN_QUERY,
            target=target,
            target_url=url_for(TARGETS[target]),
        )
    response = make_response(response)
    # One URL, two answers: caches must key them by what was asked for.
    response.vary.add("Accept")
    return response
