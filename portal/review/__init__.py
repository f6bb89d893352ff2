"""Reviewers: their queue, reviews and decisions."""

from flask import Blueprint

bp = Blueprint("review", __name__)
