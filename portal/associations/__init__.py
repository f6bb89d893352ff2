"""The register of associations: the programme's unit, shared by the applicants who belong to it."""

from flask import Blueprint

bp = Blueprint("associations", __name__)
