"""Static files: fingerprinted URLs, precompressed copies and far-future caching.

Two well-kept libraries share the work, each doing what it is known for:

- Flask-Static-Digest (``flask digest compile``, run by ``make run``, ``make serve`` and
  ``make test``) writes beside every file of ``static/`` a copy named after its MD5
  (``css/portal-<md5>.css``), gzip and brotli versions of both, and ``cache_manifest.json``;
  here every ``url_for('static', filename=...)`` is rewritten through that manifest, so
  templates need nothing special;
- WhiteNoise, WSGI middleware in front of the application in every mode but debug (Flask's
  server, gunicorn, tests), answers ``/static/`` itself: it picks the ``.br`` or ``.gz`` copy the
  client accepts, sends ``Cache-Control: max-age=<a year>, immutable`` for fingerprinted
  names (their content can never change) and a short lifetime for the others.

Behind nginx, ``/static/`` is served by nginx from the same files (docs/deploy.md).

Why these two: WhiteNoise is the common choice for serving static files from a Python WSGI
application (maintained for a decade, released this year) and does it without per-request
work: files are compressed once, ahead of time, at the best levels. Flask-Static-Digest is
small and does only what WhiteNoise leaves to frameworks (its fingerprinting storage is
Django's). Compressing on the fly (Flask-Compress) would cost CPU on every request and would
compress pages too, which carry a CSRF token beside text taken from the address (BREACH);
webassets (Flask-Assets) is a whole build pipeline the portal does not need.
"""

import hashlib
import logging
import re
from pathlib import Path

from flask_static_digest import FlaskStaticDigest
from whitenoise import WhiteNoise

log = logging.getLogger(__name__)

# The names flask digest compile gives: "<name>-<32 hex digits of MD5>.<extension>".
FINGERPRINTED = re.compile(r"-[0-9a-f]{32}\.[A-Za-z0-9]+$")


class StaticFiles(WhiteNoise):
    """WhiteNoise with a year of lifetime for fingerprinted files (its default is ten)."""

    FOREVER = 365 * 24 * 60 * 60


def is_fingerprinted(_path, url):
    """Whether a static URL names a fingerprinted copy, whose content never changes."""
    return bool(FINGERPRINTED.search(url))


def init_app(app):
    """Rewrite static URLs to their fingerprinted names and serve static files with WhiteNoise."""
    if app.debug:
        # flask run --debug: the files change under the developer's hands; Flask's own static
        # route serves them as they are at each request, under their plain names.
        return
    digest = FlaskStaticDigest(app)
    manifest, stale = current_entries(app.static_folder, digest.manifests.get("static", {}))

    @app.url_defaults
    def _fingerprinted_static_url(endpoint, values):
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]

    static_files = StaticFiles(
        app.wsgi_app,
        root=app.static_folder,
        prefix=app.static_url_path,
        max_age=app.config["STATIC_MAX_AGE"],
        immutable_file_test=is_fingerprinted,
        # Same-origin pages only use them.
        allow_all_origins=False,
        add_headers_function=_static_headers,
    )
    for name in stale:
        # Its .gz and .br copies are of the old content: Flask's static route sends the file.
        static_files.files.pop(f"{app.static_url_path}/{name}", None)
    app.wsgi_app = static_files


def _static_headers(headers, _path, _url):
    """What the application's own responses carry and WhiteNoise's would not."""
    headers["X-Content-Type-Options"] = "nosniff"


def current_entries(folder, manifest):
    """The manifest's entries whose fingerprint still matches the file, and the stale names.

    A file edited since ``flask digest compile`` (without ``make``) keeps its plain URL, so
    a page never points at an outdated copy; the log says to compile again.
    """
    current = {}
    stale = []
    for name, fingerprinted in manifest.items():
        source = Path(folder, name)
        try:
            md5 = hashlib.md5(source.read_bytes(), usedforsecurity=False).hexdigest()
        except OSError:
            continue
        if fingerprinted.endswith(f"-{md5}{source.suffix}") and Path(folder, fingerprinted).is_file():
            current[name] = fingerprinted
        else:
            stale.append(name)
    if stale:
        log.warning(
            "%d static file(s) changed since 'flask digest compile' are served under their plain "
            "names (run make run, make serve or make test, or flask --app portal digest compile): %s",
            len(stale),
            ", ".join(sorted(stale)[:5]),
        )
    return current, stale
