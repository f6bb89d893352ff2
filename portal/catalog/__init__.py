"""The catalogue: regions, cities, tracks, offerings, and the public pages."""

from flask import Blueprint

bp = Blueprint("catalog", __name__)

from portal.catalog import views  # noqa: E402, F401
