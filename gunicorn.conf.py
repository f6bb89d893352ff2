"""gunicorn settings for the portal: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Everything is read from the environment so one file serves every machine:

- ``PORT`` (default 8000) and ``HOST`` (default 127.0.0.1: the portal sits behind a
  reverse proxy on the same machine; set ``HOST=0.0.0.0`` when the proxy is elsewhere);
- ``WEB_CONCURRENCY``: worker processes, default 2 × CPU cores + 1;
- ``GUNICORN_THREADS``: threads per worker (default 1, sync workers; above 1 gunicorn uses
  its threaded worker — keep the database pool size at least as large);
- ``GUNICORN_TIMEOUT`` (default 30 s), ``GUNICORN_LOG_LEVEL`` (default info);
- ``FORWARDED_ALLOW_IPS``: addresses of the proxies whose X-Forwarded-Proto gunicorn
  trusts (default the loopback). The application itself trusts X-Forwarded-For/-Proto/-Host
  only with ``PORTAL_PROXY_FIX_X_FOR=<number of proxies>`` (werkzeug's ProxyFix, installed
  by ``create_app``): set it to 1 behind nginx, leave it at 0 when clients reach gunicorn
  directly, or they could forge their address and dodge the rate limits.

The application's own settings come from ``PORTAL_*`` variables (see README.md).
"""

import multiprocessing
import os


def _cpu_count():
    """CPU cores this process may run on (honours container and affinity limits)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return multiprocessing.cpu_count()


def _int_env(name, default):
    """An integer environment variable, or ``default`` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def default_workers(cores=None):
    """The worker count gunicorn recommends: 2 × cores + 1."""
    return 2 * (cores or _cpu_count()) + 1


wsgi_app = "wsgi:app"
bind = [f"{os.environ.get('HOST') or '127.0.0.1'}:{_int_env('PORT', 8000)}"]
workers = _int_env("WEB_CONCURRENCY", default_workers())
threads = _int_env("GUNICORN_THREADS", 1)
timeout = _int_env("GUNICORN_TIMEOUT", 30)
graceful_timeout = 20
keepalive = 5
# GUNICORN_MAX_REQUESTS=N replaces a worker after about N requests (with jitter, so they
# do not all restart together), should a slow memory growth ever show; off by default.
max_requests = _int_env("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max(max_requests // 10, 1) if max_requests else 0

# gunicorn's access log is off: the application writes one line per request itself, with
# the request id, the path without its query string and secret tokens masked, never
# personal data. gunicorn's own access line would log the full URL, query string included.
accesslog = None
errorlog = "-"
# Should the access log be turned on (--access-logfile), or an error line quote a request
# (an invalid request line, say), tokens of emailed links and query strings are masked.
logger_class = "portal.logmask.GunicornLogger"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
capture_output = True

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn 23 already sends "Server: gunicorn" without its version; behind nginx, set
# ``server_tokens off`` so nginx does not add its own.
# Request line and header limits: nginx sends small headers; uploads are bodies.
limit_request_line = 8190
limit_request_fields = 100
