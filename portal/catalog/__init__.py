"""The catalogue: regions, cities, tracks, offerings, and the public pages."""

from flask import Blueprint

bp = Blueprint("catalog", __name__)
