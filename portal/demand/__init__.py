"""Demand: applicants say where they want a track opened (interests)."""

from flask import Blueprint

bp = Blueprint("demand", __name__)

from portal.demand import views  # noqa: E402, F401
