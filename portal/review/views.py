"""Reviewer pages."""

from flask import abort
from flask_login import current_user, login_required

from portal import permissions
from portal.review import bp


@bp.get("")
@login_required
def queue():
    """The reviewer's queue (built in the reviewer issue)."""
    if not permissions.is_staff(current_user):
        abort(404)
    abort(404)
