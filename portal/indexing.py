"""What search engines may index: the public pages, and nothing else."""

from flask import request

# The pages written for visitors, each with its own description (templates). Every other
# response — a private page, a form reached from an email, an export, a document, an error —
# asks search engines not to index it, even should a crawler ever reach it; a new public
# page is added here once it has a description.
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
    """Send ``X-Robots-Tag: noindex`` on every response but the public pages'."""

    @app.after_request
    def _robots(response):
        if request.endpoint not in INDEXABLE_ENDPOINTS:
            response.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
        return response
