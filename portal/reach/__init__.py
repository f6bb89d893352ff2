"""The programme's reach: associations reached and actors trained, by region, city and track.

The figures are computed here (``queries``) for the administrators' reach screen
(``portal.admin.reach``) and for the public page ``/programme`` (``views``), which shows
them aggregated, with small counts suppressed (``disclosure``).
"""

from flask import Blueprint

bp = Blueprint("reach", __name__)
