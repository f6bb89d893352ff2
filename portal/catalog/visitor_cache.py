"""Public pages rendered once for every visitor who asks for the same thing.

At a deadline thousands of visitors open the catalogue: the page only depends on the
language, the address (filters) and the open offerings, so it is rendered once per
language, address and *state* of the open offerings, and served from the cache until
that state changes or ``VISITOR_PAGE_CACHE_SECONDS`` pass. The state is one small
aggregate query (how many offerings are open, their seats and seats held, the newest
one, how many take applications at this moment): accepting, confirming or withdrawing
an application, opening or closing an offering, or a window opening or ending (the
deadline passing at midnight), renders the pages again at once. Edits that leave it
unchanged (a track's description) show within the cache duration.

Only anonymous visitors without a pending flash message are served from the cache: a
logged-in page carries the user's menu and a CSRF token.
"""

import hashlib
from functools import wraps

from flask import current_app, request, session
from flask_login import current_user
from sqlalchemy import DateTime, bindparam, case, func, select

from portal.caching import cached_html
from portal.catalog.models import Offering, in_window, is_open
from portal.extensions import db
from portal.i18n import current_language
from portal.timeutil import utcnow

# Built once from the catalogue's definitions of an open offering and of its window;
# the typed parameter lets each database compare the moment as it stores it.
_NOW = bindparam("now", type_=DateTime())
_STATE = select(
    func.count(Offering.id),
    func.coalesce(func.sum(Offering.seats), 0),
    func.coalesce(func.sum(Offering.seats_held), 0),
    func.coalesce(func.max(Offering.id), 0),
    func.coalesce(func.sum(case((in_window(_NOW), 1), else_=0)), 0),
).where(is_open())


def open_offerings_state():
    """A short string that changes whenever the open offerings, their seats or their windows change."""
    row = db.session.execute(_STATE, {"now": utcnow()}).one()
    return "-".join(str(value) for value in row)


def _cacheable():
    return not current_user.is_authenticated and "_flashes" not in session


def visitor_page(view):
    """Serve ``view``'s HTML to anonymous visitors from the cache (see the module)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        seconds = current_app.config["VISITOR_PAGE_CACHE_SECONDS"]
        if not seconds or not _cacheable():
            return view(*args, **kwargs)
        # The address is hashed: a key stays short whatever the query string holds.
        address = hashlib.sha256(request.full_path.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        key = f"visitor-page:{current_language()}:{open_offerings_state()}:{address}"
        return cached_html(key, seconds, lambda: view(*args, **kwargs))

    return wrapper
