"""Small input-safety helpers shared by features, and the check every request goes through."""

import re
from urllib.parse import urlsplit

from flask import Request, abort, current_app, request
from werkzeug.exceptions import BadRequest
from wtforms.validators import StopValidation

from portal.i18n import lazy_gettext as _l


def takes_files(view):
    """Mark a view whose form carries files: its multipart requests may be MAX_CONTENT_LENGTH long.

    Put it under the route and login decorators (``functools.wraps`` carries the mark up).
    """
    view.takes_files = True
    return view


def accepts_files(req):
    """Whether ``req`` goes to a view marked ``takes_files``."""
    rule = req.url_rule
    view = current_app.view_functions.get(rule.endpoint) if rule is not None else None
    return bool(getattr(view, "takes_files", False))


class PortalRequest(Request):
    """Flask's request with a small body limit for everything but the uploads.

    A form without files never needs more than MAX_FORM_BYTES; a bigger body is refused
    with the 413 page before a byte of it is read or parsed. Only multipart requests to a
    view marked ``takes_files`` get the upload limit, MAX_CONTENT_LENGTH.
    """

    @property
    def max_content_length(self):
        """The limit of this request's body (a value set on the request wins)."""
        if self._max_content_length is not None:
            return self._max_content_length
        if not current_app:
            return super().max_content_length
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        if self.mimetype == "multipart/form-data" and accepts_files(self):
            return limit
        form_limit = current_app.config.get("MAX_FORM_BYTES")
        if form_limit is None:
            return limit
        return form_limit if limit is None else min(limit, form_limit)

    @max_content_length.setter
    def max_content_length(self, value):
        self._max_content_length = value


def safe_next(target):
    """``target`` when it is a relative path on this site, else None (no open redirect)."""
    if not target or not isinstance(target, str):
        return None
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# Largest id a route accepts: integer columns are 32-bit on PostgreSQL, and SQLite cannot
# even bind a number beyond 64 bits. A bigger one cannot name an object: 404.
MAX_ID = 2**31 - 1


class NulCharacter(BadRequest):
    """A text holding NUL was about to reach the database (answered with the 400 page).

    A 400 error, so that the error pages' handler (portal.errors) answers it like any other,
    rolling the transaction back first, without this module importing that one.
    """


def _texts():
    """What the client sent outside form values: path parameters, query, form keys, file names."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str):
            yield value
    for key, values in request.args.lists():
        yield key
        yield from values
    # Only a body werkzeug would parse has form keys or files (not a GET's empty one).
    if request.want_form_data_parsed:
        yield from request.form.keys()
        for upload in request.files.values():
            if upload.filename:
                yield upload.filename


def check_request():
    """Before every request: refuse NUL characters (400) and ids that cannot exist (404).

    PostgreSQL cannot store or even compare a text holding NUL, so one reaching a query
    would end in a 500, and no legitimate link, field name or file name carries one.
    Form values are left to their fields, which say "characters not allowed" next to
    the field; ``refuse_nul_parameters`` is the net under the ones that do not.
    """
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ID:
            abort(404)
    if any("\x00" in text for text in _texts()):
        abort(400)


def _has_nul(parameters):
    if isinstance(parameters, str):
        return "\x00" in parameters
    if isinstance(parameters, dict):
        return any(_has_nul(value) for value in parameters.values())
    if isinstance(parameters, (list, tuple)):
        return any(_has_nul(value) for value in parameters)
    return False


def refuse_nul_parameters(conn, cursor, statement, parameters, context, executemany):
    """SQLAlchemy hook: no statement runs with a NUL in its parameters, on any database.

    The same answer on SQLite (which would store it) as on PostgreSQL (which refuses it):
    NulCharacter, shown as the 400 page, and nothing written.
    """
    if _has_nul(parameters):
        raise NulCharacter("NUL character in a query parameter")


def init_app(app):
    """Install the request class, the request check and the database net."""
    from sqlalchemy import event

    from portal.extensions import db

    app.request_class = PortalRequest
    app.before_request(check_request)
    with app.app_context():
        engine = db.engine
    if not event.contains(engine, "before_cursor_execute", refuse_nul_parameters):
        event.listen(engine, "before_cursor_execute", refuse_nul_parameters)


def query_int(name, default=None):
    """An integer query-string argument, or ``default`` when absent, malformed or beyond any id."""
    value = request.args.get(name, type=int)
    return value if value is not None and abs(value) <= MAX_ID else default


def clamp_int(value):
    """WTForms filter: an integer beyond any column's range becomes just out of that range.

    The field's NumberRange then refuses it with its message; a number of hundreds of
    digits would otherwise crash NumberRange (float overflow) or the database driver.
    """
    if isinstance(value, int) and abs(value) > MAX_ID:
        return MAX_ID + 1 if value > 0 else -(MAX_ID + 1)
    return value


class MultilineText:
    """Validator: a multi-line free text without control characters (line breaks and tabs allowed).

    Format characters that mixed Arabic and French writing needs (RLM, LRM, ZWJ) are kept.
    """

    def __call__(self, form, field):
        value = field.data
        if isinstance(value, str) and _CONTROL_BUT_LINE_BREAKS.search(value):
            raise StopValidation(_l("Ce champ contient des caractères non autorisés."))


# Unicode's control characters (category Cc, a closed set: U+0000-U+001F and U+007F-U+009F)
# but tab, line feed and carriage return; one search instead of a lookup per character.
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
