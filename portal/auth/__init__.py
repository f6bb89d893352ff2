"""Accounts: registration, email confirmation, login and logout, password reset, profile,
server-side sessions, login throttling and the staff second factor."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
# The profile lives under /me with the applicant's other pages, outside the /auth prefix.
account_bp = Blueprint("account", __name__)
