"""A referent's page: the members who say they belong to their association, to endorse or decline."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import permissions
from portal.associations import bp, membership
from portal.associations.models import Membership
from portal.extensions import db
from portal.safety import MAX_ID, query_int
from portal.transaction import attempt
from portal.vocabulary import Endorsement


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
