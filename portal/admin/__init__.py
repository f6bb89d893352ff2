"""Administration: offerings in new cities, seats, staff, dashboard, exports, audit."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from portal.admin import views  # noqa: E402, F401
