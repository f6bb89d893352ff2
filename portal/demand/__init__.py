"""Demand: applicants say where they want a track opened (interests)."""

from flask import Blueprint

bp = Blueprint("demand", __name__)
