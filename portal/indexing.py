"""What search engines may index: the public pages, and nothing else."""

from flask import request
from flask_login import current_user

# The pages written for visitors, each with its own description (templates). Every other
# response a visitor without a session can get — a form reached from an email, the redirect
# of a private page to the login, an error — asks search engines not to index it; a new
# public page is added here once it has a description.
INDEXABLE_ENDPOINTS = frozenset(
    {
        "catalog.home",
        "catalog.tracks",
        "catalog.track",
        "catalog.privacy",
        "auth.register",
        "auth.login",
    }
)


def init_app(app):
    """Send ``X-Robots-Tag: noindex`` on every response to a visitor but the public pages'."""

    @app.after_request
    def _robots(response):
        # A crawler has no session: it only ever gets what a visitor gets, so the pages of a
        # logged-in person (already ``Cache-Control: no-store``) need no header of their own,
        # and they stay valid, indexable-looking pages for the browser audits.
        if request.endpoint not in INDEXABLE_ENDPOINTS and not current_user.is_authenticated:
            response.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
        return response
