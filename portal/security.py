"""Response headers on every page, one log line per request without personal data, CSRF tokens."""

import logging
import re
import time
import uuid
from urllib.parse import urlsplit

from flask import abort, current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.sansio.utils import get_host

from portal import logmask

log = logging.getLogger("portal.request")

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # Bootstrap's components set inline styles from JavaScript; scripts stay strict.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def loggable_path(path):
    """The request path with secret tokens masked (query strings are never logged)."""
    return logmask.mask_path(path)


BAD_HOST = "portal.bad_host"


def host_is_valid(host):
    """Whether werkzeug can bind the URL map to ``host`` (every DNS label at most 63 characters...)."""
    try:
        host.lower().encode("idna")
    except UnicodeError:
        return False
    return True


class HostCheck:
    """WSGI middleware: a Host header werkzeug cannot bind to gets the portal's 400 page.

    Flask would answer such a request (a DNS label over 63 characters, say) with a bare
    500, as the error page itself cannot build a URL without a bound URL map. Here the
    request goes on with the host of BASE_URL and a mark, and the first check of the
    request answers 400 with the portal's page.
    """

    def __init__(self, wsgi_app, fallback_host):
        self.wsgi_app = wsgi_app
        self.fallback_host = fallback_host

    def __call__(self, environ, start_response):
        """Replace an unusable Host header and mark the request."""
        if not host_is_valid(
            get_host(
                environ.get("wsgi.url_scheme", "http"),
                environ.get("HTTP_HOST"),
                (environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT")),
            )
        ):
            environ = {**environ, "HTTP_HOST": self.fallback_host, BAD_HOST: True}
        return self.wsgi_app(environ, start_response)


# Signed CSRF tokens of the current minute, by secret key and session's raw token.
_signed_tokens = {}
_MINUTE = "minute"
# Flask-WTF's default name of the token, in the session, in ``g`` and in every form (the
# templates write it); the portal signs with the secret key (no WTF_CSRF_SECRET_KEY).
_CSRF_FIELD = "csrf_token"


def _reuse_signed_csrf_token():
    """Before a request of a session that has a CSRF token: its signed token, once a minute.

    Every page of a logged-in user carries the token (logout and language forms) and
    signing it (itsdangerous: JSON, HMAC, base64, a timestamp) costs some 3 % of such a
    page. The token is Flask-WTF's either way: the session's raw token signed with its salt
    and time; one signed earlier in the minute is accepted for the same
    ``WTF_CSRF_TIME_LIMIT`` (hours), less those seconds. Left in ``g``, where Flask-WTF's
    ``generate_csrf`` looks first, it is the one every form and the layout then use.
    A session without a raw token is left alone (a visitor's page stays cookie-free).
    """
    # ``in`` first: reading a session marks the response "Vary: Cookie", which a visitor's
    # cacheable page must not get for nothing.
    if _CSRF_FIELD not in session:
        return
    raw = session[_CSRF_FIELD]
    if not isinstance(raw, str) or not raw:
        return
    minute = int(time.time() // 60)
    if _signed_tokens.get(_MINUTE) != minute:
        # A new minute: the tokens of the last one are not handed out again.
        _signed_tokens.clear()
        _signed_tokens[_MINUTE] = minute
    key = (current_app.secret_key, raw)
    token = _signed_tokens.get(key)
    if token is None:
        token = _signed_tokens[key] = generate_csrf()
    else:
        setattr(g, _CSRF_FIELD, token)


def install_host_check(app):
    """Wrap the application in HostCheck (inside ProxyFix: the forwarded host is checked too)."""
    fallback = urlsplit(app.config.get("BASE_URL") or "").netloc or "localhost"
    app.wsgi_app = HostCheck(app.wsgi_app, fallback)


def init_app(app):
    """Install the header and logging hooks, and the reuse of signed CSRF tokens."""
    # werkzeug's access log (flask run, make run) logs full request lines: masked.
    logmask.install(logging.getLogger("werkzeug"))

    def _start():
        g.request_started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        if request.environ.get(BAD_HOST):
            abort(400)

    # First of all before-request hooks: a request refused by an earlier one (CSRF token
    # missing, say) still gets its id and its log line.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.before_request(_reuse_signed_csrf_token)

    defaults = [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if app.config["PRODUCTION"]:
        defaults.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    @app.after_request
    def _headers(response):
        headers = response.headers
        # A view may have set its own (a CSP for a PDF, say): only the missing ones are added,
        # with one look at the response's few headers rather than one per header.
        present = {key.lower() for key, _value in headers}
        headers.extend([(key, value) for key, value in defaults if key.lower() not in present])
        # Pages of a logged-in user carry personal data: never stored by browsers or proxies.
        if current_user and current_user.is_authenticated and not request.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        headers["X-Request-ID"] = g.get("request_id", "")
        return response

    @app.teardown_request
    def _log(_error=None):
        started = g.pop("request_started", None)
        if started is None or request.path.startswith("/static/"):
            return
        log.info(
            "%s %s %s %.1fms rid=%s",
            request.method,
            loggable_path(request.path),
            getattr(g, "response_status", "-"),
            (time.perf_counter() - started) * 1000,
            g.get("request_id", "-"),
        )

    @app.after_request
    def _remember_status(response):
        g.response_status = response.status_code
        return response
