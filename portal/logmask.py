"""Secrets out of every log line: signed tokens in paths and query strings are masked.

Used by the application's own request log, by the werkzeug server's access log (``make
run``, ``flask run``) and by gunicorn's access and error logs (``gunicorn.conf.py``): a
confirmation, reset or invitation link found in a log is a way into an account.
"""

import logging
import re

# The signed token of an emailed link is the path segment after these prefixes.
_TOKEN_SEGMENT = re.compile(r"(/(?:auth/confirm|auth/reset|admin/invite)/)(?!resend\b)[^/\s?#\"']+")
# A query string, up to the end of the URL in a log line (quote, space or end).
_QUERY = re.compile(r"\?[^\s\"']*")
MASK = "…"


def mask_path(path):
    """``path`` with token segments masked (the path of a request, without its query)."""
    return _TOKEN_SEGMENT.sub(rf"\g<1>{MASK}", path)


def mask_text(text):
    """A log line with token segments and query strings masked, wherever they appear."""
    return _QUERY.sub(f"?{MASK}", mask_path(text))


class MaskSecrets(logging.Filter):
    """Logging filter: the record's final message, masked (its arguments are merged in first)."""

    def filter(self, record):
        """Mask the message; never drop a record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        record.msg, record.args = mask_text(message), None
        return True


def install(logger):
    """Add the masking filter to ``logger`` (once)."""
    if not any(isinstance(f, MaskSecrets) for f in logger.filters):
        logger.addFilter(MaskSecrets())


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is not needed by make run nor by the tests
    _GunicornLogger = None

if _GunicornLogger is not None:

    class GunicornLogger(_GunicornLogger):
        """gunicorn's logger with its access and error logs masked (``logger_class``)."""

        def setup(self, cfg):
            """Set gunicorn's logs up, then mask them."""
            super().setup(cfg)
            install(self.error_log)
            install(self.access_log)
