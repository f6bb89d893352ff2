"""Server-side sessions (ASVS 3.2, 3.3): one ``UserSession`` row per login.

The signed Flask cookie carries Flask-Login's ``<id>.<auth_version>`` and a random
session token; only the token's SHA-256 is stored. A request is logged in only while
the row exists, has been used within ``SESSION_IDLE_MINUTES`` and is younger than
``SESSION_ABSOLUTE_HOURS``. Deleting the row ends the session wherever its cookie is:
logout, password change or reset, deactivation. The row is loaded at the start of each
request (``load_request_session``), before the view touches the database, so that the
occasional write (``last_seen_at`` at most once a minute, removal of an expired row) is
committed on its own without sweeping in anything of the view.
"""

import hashlib
import secrets
from datetime import timedelta
from functools import cache

from flask import current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_user, logout_user
from sqlalchemy import and_, bindparam, delete, exists, select, update
from sqlalchemy.orm import joinedload

from portal import database
from portal.extensions import db
from portal.i18n import chosen_language
from portal.timeutil import utcnow

# Kept across a session reset: the visitor's language choice is not tied to an account.
_KEPT_ACROSS_LOGIN = ("lang",)
# Where the cookie keeps the session token.
TOKEN_KEY = "_sid"  # noqa: S105 - the name of a session key, not a secret


@cache
def _session_by_token():
    """The query of a session row by its token's hash, built once (it is run on every request).

    The user and their applicant profile (None for staff) come in the same query: the
    layout and most pages read both; so does whether the user refers for an association,
    which with the profile tells the user's ties (``permissions.tied_association_ids_of``).
    A statement built once also keeps its cache key.
    """
    from portal.associations.models import association_referent
    from portal.auth.models import User, UserSession

    refers = exists().where(association_referent.c.user_id == User.id)
    user = joinedload(UserSession.user)
    return (
        select(UserSession)
        .options(user.joinedload(User.profile), user.with_expression(User.refers_for_any, refers))
        .where(UserSession.token_hash == bindparam("token_hash"))
    )


# last_seen_at is written at most this often, not on every request.
TOUCH_INTERVAL = timedelta(minutes=1)


# Substrings of the User-Agent header, first match wins: Edge and Opera also announce
# "Chrome", and every Chromium-based browser also announces "Safari".
_BROWSERS = (
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
# iPhones and iPads also say "like Mac OS X"; Android also says "Linux".
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent):
    """A label like "Firefox · Android" for a User-Agent header; None when nothing is recognised.

    Only this short label is stored: the raw header identifies a device far more
    precisely than the user needs to recognise it.
    """
    user_agent = user_agent or ""
    parts = [
        next((name for marker, name in table if marker in user_agent), None)
        for table in (_BROWSERS, _SYSTEMS)
    ]
    return " · ".join(part for part in parts if part) or None


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per secret key.

    Flask builds it anew for each request, twice when the cookie is written: 2 % of a
    logged-in page's CPU. The key is compared on each call, so a changed key still counts.
    """

    def get_signing_serializer(self, app):
        """The serializer of the application's current secret key, kept while the key stays."""
        cached = getattr(self, "_serializer", None)
        if cached is None or cached[0] != app.secret_key:
            cached = self._serializer = (app.secret_key, super().get_signing_serializer(app))
        return cached[1]


def _token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _limits():
    config = current_app.config
    return (
        timedelta(minutes=float(config["SESSION_IDLE_MINUTES"])),
        timedelta(hours=float(config["SESSION_ABSOLUTE_HOURS"])),
    )


def is_expired(row, now=None):
    """Whether ``row`` is past its idle or absolute timeout."""
    now = now or utcnow()
    idle, absolute = _limits()
    return now - row.last_seen_at > idle or now - row.created_at > absolute


def _within_timeouts(now):
    """SQL condition: a session row still within its idle and absolute timeouts at ``now``."""
    from portal.auth.models import UserSession

    idle, absolute = _limits()
    return and_(UserSession.last_seen_at >= now - idle, UserSession.created_at >= now - absolute)


def seconds_left(row, now=None):
    """Whole seconds before ``row`` ends: at its idle timeout unless used again, or its absolute one."""
    now = now or utcnow()
    idle, absolute = _limits()
    left = min(row.last_seen_at + idle, row.created_at + absolute) - now
    return max(0, int(left.total_seconds()))


def _commit_alone(statement):
    """Run one write in its own transaction (BEGIN IMMEDIATE on SQLite, even on a GET).

    Not left to the request's commit (``portal.transaction``): an expired session must
    stay deleted, and activity stay recorded, whatever the page answers, errors included.
    """
    db.session.rollback()
    token = database.write_intent(True)
    try:
        db.session.execute(statement)
        db.session.commit()
    finally:
        database._write_intent.reset(token)


def current_session():
    """The ``UserSession`` row of this request, or None (anonymous, expired or revoked)."""
    if "portal_session" in g:
        return g.portal_session
    from portal.auth.models import UserSession

    row = None
    token = session.get(TOKEN_KEY)
    if isinstance(token, str) and token:
        # The user comes in the same query: the loader then finds it in the identity map.
        row = db.session.scalar(_session_by_token(), {"token_hash": _token_hash(token)})
    if row is not None:
        now = utcnow()
        if is_expired(row, now):
            _commit_alone(delete(UserSession).where(UserSession.id == row.id))
            row = None
        elif now - row.last_seen_at >= TOUCH_INTERVAL:
            row = touch(row)
    g.portal_session = row
    return row


def touch(row):
    """Count this moment as activity of the session ``row`` (committed on its own)."""
    from portal.auth.models import UserSession

    now = utcnow()
    _commit_alone(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
    row = db.session.get(UserSession, row.id)
    g.portal_session = row
    return row


def load_user(user_id):
    """Flask-Login's user loader: the user of a live session row, or None when it was revoked."""

    user_part, _, version = str(user_id).partition(".")
    if not user_part.isdigit() or not version.isdigit():
        return None
    row = current_session()
    if row is None or row.user_id != int(user_part):
        return None
    # Loaded with the session row (``_session_by_token``): no lookup in the session's map.
    user = row.user
    if user is None or not user.active or user.auth_version != int(version):
        return None
    return user


def load_request_session():
    """Resolve the logged-in user first thing in the request (see the module docstring)."""
    # Nothing cached from an earlier request may stand in for this one's lookup.
    g.pop("portal_session", None)
    g.pop("_login_user", None)
    if request.endpoint == "static" or "_user_id" not in session:
        return
    current_user._get_current_object()


def _reset_session():
    """Empty the session (a new cookie value), keeping only harmless preferences."""
    kept = {key: session[key] for key in _KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)


def _delete_current_row():
    from portal.auth.models import UserSession

    token = session.get(TOKEN_KEY)
    if isinstance(token, str) and token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _token_hash(token)))


def start_session(user, second_factor=False):
    """Log ``user`` in on a fresh session row and a fresh cookie; flush (the view commits).

    Nothing from before the login survives: a session value planted by someone else
    (session fixation) never becomes a logged-in one. ``second_factor`` records that this
    login also passed the TOTP step.
    """
    from portal.auth.models import UserSession

    _delete_current_row()
    now = utcnow()
    # Expired rows of this user are of no use to anyone: tidy them up at each login.
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id, ~_within_timeouts(now)))
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        token_hash=_token_hash(token),
        created_at=now,
        last_seen_at=now,
        second_factor_at=now if second_factor else None,
        device=describe_device(request.headers.get("User-Agent")),
    )
    db.session.add(row)
    db.session.flush()
    # The language chosen in this visit, before logging in, becomes the account's.
    chosen = chosen_language()
    if chosen is not None and user.locale != chosen:
        user.locale = chosen
    _reset_session()
    session[TOKEN_KEY] = token
    g.portal_session = row
    # No "remember me": the login lasts as long as the session row and the browser session.
    return login_user(user, remember=False)


def end_session():
    """Log out: delete this session's row and forget everything the cookie held; flush."""
    _delete_current_row()
    db.session.flush()
    logout_user()
    _reset_session()
    g.pop("portal_session", None)


def active_sessions(user):
    """The sessions of ``user`` still within their timeouts, the most recently used first."""
    from portal.auth.models import UserSession

    return db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, _within_timeouts(utcnow()))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()


def end_other_sessions(user, session_id=None):
    """End the sessions of ``user`` but this request's (only ``session_id`` if given); flush.

    Returns how many ended: 0 when ``session_id`` is this session, another user's or gone.
    """
    from portal.auth.models import UserSession

    this = current_session()
    statement = delete(UserSession).where(UserSession.user_id == user.id)
    if this is not None:
        statement = statement.where(UserSession.id != this.id)
    if session_id is not None:
        statement = statement.where(UserSession.id == session_id)
    ended = db.session.execute(statement).rowcount
    db.session.flush()
    return ended


def end_all_sessions(user):
    """End every session of ``user`` (password change, deactivation); flush."""
    from portal.auth.models import UserSession

    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.session.flush()
