"""Applying, documents, the applicant's dashboard and the application workflow."""

from flask import Blueprint

bp = Blueprint("applications", __name__)
