"""Administration screens, one module per screen, sharing this blueprint.

Every route of this blueprint requires an active administrator (others get 404,
anonymous visitors the login page), except the invitation page, which an invited
staff member opens before having a password. The screens are imported by
``portal.admin.views`` (which the application registers), not here: a screen imports
this package for ``bp``, so this package importing the screens would be a circle.
"""

from flask import Blueprint, abort, current_app, request
from flask_login import current_user

from portal import permissions
from portal.extensions import db, login_manager
from portal.safety import query_int

bp = Blueprint("admin", __name__)

# Reachable without being an administrator (the invited person has no password yet).
PUBLIC_ENDPOINTS = frozenset({"admin.accept_invite"})


@bp.before_request
def _require_admin():
    """Administrators only: others see nothing (404), anonymous visitors log in first."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not permissions.is_admin(current_user):
        abort(404)
    return None


@bp.after_request
def _no_store(response):
    """Staff pages carry personal data: never cached by the browser or a proxy."""
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Pragma", "no-cache")
    return response


def page_number():
    """The 1-based page number asked for in the query string (1 when absent or wrong)."""
    return max(query_int("page", 1) or 1, 1)


def page_size():
    """How many rows a list page shows (PAGE_SIZE)."""
    return int(current_app.config.get("PAGE_SIZE", 50))


def get_or_404(model, object_id):
    """The object of ``model`` with ``object_id``, or 404."""
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj
