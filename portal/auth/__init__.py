"""Accounts: registration, email confirmation, login and logout, password reset, profile."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
# The profile lives under /me with the applicant's other pages, outside the /auth prefix.
account_bp = Blueprint("account", __name__)

from portal.auth import sessions, views  # noqa: E402, F401

bp.before_app_request(sessions.forget_cached_user)
