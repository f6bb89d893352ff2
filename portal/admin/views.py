"""Administration pages."""

from flask import abort
from flask_login import current_user, login_required

from portal import permissions
from portal.admin import bp


@bp.get("")
@login_required
def dashboard():
    """The administrators' dashboard (built in the administration issue)."""
    if not permissions.is_admin(current_user):
        abort(404)
    abort(404)
