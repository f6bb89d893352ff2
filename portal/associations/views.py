"""The register's pages: the public search by which applicants find their association, and a
referent's page of the members who say they belong, to endorse or decline.

Registration is anonymous, so the search is public; it is throttled per client address
and shows at most a few entries, with only their names, number and city.
"""

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from portal import errors, permissions
from portal.associations import bp, membership, queries
from portal.associations.models import Membership
from portal.auth import throttle
from portal.extensions import db
from portal.i18n import current_language
from portal.i18n import gettext as _
from portal.safety import MAX_ID, query_int
from portal.transaction import attempt
from portal.vocabulary import AssociationState, Endorsement

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


def _page_number():
    """The 1-based page asked for in the query string (1 when absent or wrong)."""
    return max(query_int("page", 1) or 1, 1)


@bp.get("/me/association")
@login_required
def members():
    """The members of the associations the account refers for, pending first (others: 404)."""
    associations = membership.referred_associations(current_user)
    if not associations:
        abort(404)
    page = membership.members_page(associations, _page_number(), int(current_app.config.get("PAGE_SIZE", 50)))
    return render_template("associations/members.html", page=page, associations=associations)


@bp.post("/me/association/members/<int:membership_id>")
@login_required
def decide(membership_id):
    """Endorse or decline one member's claim; back to the page it was sent from."""
    claim = db.session.get(Membership, membership_id) if membership_id <= MAX_ID else None
    if claim is None or not permissions.is_referent_of(current_user, claim.association):
        abort(404)
    outcome = attempt(membership.decide, current_user, claim, request.form.get("decision"), category="error")
    if outcome.ok:
        name = claim.user.display_name
        if claim.state == Endorsement.ENDORSED:
            flash(_("L'adhésion de %(name)s est confirmée.", name=name), "success")
        else:
            flash(_("L'adhésion de %(name)s n'est pas confirmée.", name=name), "success")
    page = request.form.get("page", type=int)
    return redirect(url_for("associations.members", page=page if page and 1 < page <= MAX_ID else None))
