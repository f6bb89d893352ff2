"""Reviewers: their queue, reviews and decisions."""

from flask import Blueprint

bp = Blueprint("review", __name__)

from portal.review import views  # noqa: E402, F401
