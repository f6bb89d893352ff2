"""Personal data (law 09-08): access (download), erasure, retention purge, audit of staff views."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)

from portal.privacy import views  # noqa: E402, F401
