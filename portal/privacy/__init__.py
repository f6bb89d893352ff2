"""Personal data (law 09-08): access (download), erasure, retention purge."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)
