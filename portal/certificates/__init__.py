"""Certificates of completion: issued to participants who completed a track, rendered as PDF
in French or Arabic, and verifiable by anyone at ``/verify/<number>``.

The package defines the blueprint; ``portal.certificates.views`` puts the routes on it
(the application registers that module, so this package imports no view: no circle).
"""

from flask import Blueprint

bp = Blueprint("certificates", __name__)
