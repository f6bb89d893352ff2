"""Default configuration.

Layers, each overriding the previous one: the class below, ``instance/config.py``,
environment variables ``PORTAL_<KEY>`` and finally the mapping given to ``create_app``
(tests). Nothing secret has a default here: in development a secret key and a key that
encrypts the TOTP secrets are generated into ``instance/`` on first run; in production
(``PORTAL_PRODUCTION=true``) a missing one stops the application, and so does the
placeholder CNDP declaration number.
"""

from datetime import timedelta

# What the privacy notice shows until the real number of the CNDP's receipt (law 09-08
# declaration) is configured: production refuses to start with it.
CNDP_PLACEHOLDER = "D-XXX/2026"

# OWASP's argon2id minimum (ASVS 2.4.1): create_app refuses password hash settings below it.
OWASP_MIN_TIME_COST = 2
OWASP_MIN_MEMORY_KIB = 19 * 1024


class Config:
    """Settings shared by every environment; override per deployment."""

    # Production mode: SECRET_KEY, TOTP_ENCRYPTION_KEYS and CNDP_DECLARATION required,
    # secure __Host- cookies, HSTS. SECRET_KEY signs sessions and emailed links; None in
    # development: generated into instance/secret_key.
    PRODUCTION = False
    SECRET_KEY = None
    # None means "a SQLite file in instance/"; create_app fills it in. Engine options are
    # passed to SQLAlchemy (create_app adds hide_parameters, and the pool for PostgreSQL).
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # Connection pool of each worker process for a server database (PostgreSQL); merged
    # under SQLALCHEMY_ENGINE_OPTIONS by create_app, never applied to SQLite. Pre-ping
    # replaces connections the server or a proxy dropped (restart, idle timeout).
    DATABASE_POOL_OPTIONS = {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 5,
        "pool_timeout": 10,
        "pool_recycle": 1800,
    }
    # How long a SQLite connection waits for another's write lock before giving up.
    SQLITE_BUSY_TIMEOUT_MS = 15000
    # SQLite's page cache per connection, in KiB (portal/database.py).
    SQLITE_CACHE_KIB = 32 * 1024

    # Number of reverse proxies in front of the application that set X-Forwarded-For,
    # -Proto and -Host (1 behind nginx). 0: the headers are ignored, as a client could forge them.
    PROXY_FIX_X_FOR = 0

    # Public address used in emailed links (https in production).
    BASE_URL = "http://127.0.0.1:5000"
    # Languages, French first (the source and default); dates in Moroccan time.
    LANGUAGES = ("fr", "ar", "en")
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Africa/Casablanca"
    # Where the compiled catalogues are; None: translations/ beside portal/ (create_app).
    BABEL_TRANSLATION_DIRECTORIES = None

    # argon2id cost of password hashes (portal/auth/passwords.py): 3 passes over 64 MiB,
    # above OWASP's minimum (2 passes, 19 MiB), which create_app refuses to go below.
    PASSWORD_HASH_TIME_COST = 3
    PASSWORD_HASH_MEMORY_KIB = 64 * 1024

    # Programme rules.
    MAX_ACTIVE_APPLICATIONS = 2
    CONFIRMATION_DAYS = 7
    # Default, for new offerings, of the seats the members of one association may hold.
    MAX_SEATS_PER_ASSOCIATION = 2
    MIN_AGE_YEARS = 18
    PRIVACY_NOTICE_VERSION = "2026-09"
    # Number of the declaration to the CNDP, on /privacy; required in production.
    CNDP_DECLARATION = CNDP_PLACEHOLDER
    # Law 09-08 retention: applications of offerings closed longer ago are anonymised
    # by ``flask --app portal privacy purge`` (shown in the privacy notice).
    RETENTION_MONTHS = 24
    PRIVACY_CONTACT = "donnees-personnelles@formation-associations.ma"

    # Uploads: each file at most MAX_UPLOAD_BYTES (the form's help, its error and the 413
    # page say so, whatever the value). MAX_CONTENT_LENGTH, the largest body of the upload
    # form, is derived from it by create_app when left None: two files plus MAX_FORM_BYTES
    # of texts; anything bigger is refused with the 413 page.
    MAX_UPLOAD_BYTES = 5 * 1024 * 1024
    MAX_CONTENT_LENGTH = None
    # Every other request (forms without files, and text parts of the upload form) is far
    # smaller: its body is refused above MAX_FORM_BYTES with the 413 page before it is read.
    # The largest form, a track with three descriptions of 5,000 characters, stays under
    # it even in Arabic (six bytes per letter once URL-encoded).
    MAX_FORM_BYTES = 256 * 1024
    # Flask's limit of one text part of a multipart body (the upload form's texts).
    MAX_FORM_MEMORY_SIZE = 256 * 1024
    UPLOAD_FOLDER = None  # instance/uploads

    # Signed links.
    CONFIRM_TOKEN_MAX_AGE = int(timedelta(days=3).total_seconds())
    RESET_TOKEN_MAX_AGE = int(timedelta(hours=1).total_seconds())
    # Staff invitation links (portal/auth/invitations.py).
    INVITE_TOKEN_MAX_AGE = int(timedelta(days=7).total_seconds())

    # Email. Without MAIL_SERVER, messages are written as .eml files in MAIL_FILE_FOLDER.
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "Portail Formation Associations <no-reply@formation-associations.ma>"
    MAIL_FILE_FOLDER = None  # instance/mail
    MAIL_TIMEOUT = 10
    OUTBOX_BATCH_SIZE = 50
    OUTBOX_MAX_ATTEMPTS = 8
    OUTBOX_BACKOFF_SECONDS = 30
    OUTBOX_BACKOFF_CAP_SECONDS = 3600
    # A row claimed by a worker that died is handed out again after this long.
    OUTBOX_CLAIM_TIMEOUT_SECONDS = 600
    WORKER_INTERVAL_SECONDS = 5

    # Throttles (portal/auth/throttle.py, with the ``limits`` library): counts kept in
    # RATELIMIT_STORAGE_URI, Redis in production (PORTAL_RATELIMIT_STORAGE_URI) so every
    # worker and host shares them; RATELIMIT_STORAGE_OPTIONS are passed to that storage.
    # RATELIMIT_ENABLED = False turns every throttle off (tests, benchmark).
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STORAGE_OPTIONS = {}
    RATELIMIT_ENABLED = True
    # Failed guesses allowed in a moving window before answering 429 (ASVS 2.2.1), counted
    # in RATELIMIT_STORAGE_URI: per account (known or not) and per client address.
    LOGIN_ACCOUNT_LIMIT = "10 per 15 minutes"
    LOGIN_ADDRESS_LIMIT = "50 per 15 minutes"
    # Wrong second-factor codes per account.
    TWO_FACTOR_ACCOUNT_LIMIT = "10 per 15 minutes"
    # Forms that send an account email or hash a password count every request they accept,
    # in the same storage: per target address, for all of them together and whether it has
    # an account or not (confirmation, reset and invitation links, "account exists"
    # notices), and per client address for each form.
    ACCOUNT_EMAIL_TARGET_LIMIT = "3 per hour"
    REGISTER_ADDRESS_LIMIT = "10 per 15 minutes"
    FORGOT_ADDRESS_LIMIT = "10 per 15 minutes"
    CONFIRM_RESEND_ADDRESS_LIMIT = "10 per 15 minutes"
    INVITE_ADDRESS_LIMIT = "30 per hour"
    # Searches of the register of associations per client address (a live list asks at each
    # pause in typing; enough for that, too few to copy the register).
    ASSOCIATION_SEARCH_ADDRESS_LIMIT = "60 per minute"
    # Public lookups: certificate numbers checked at /verify per client address (a person
    # scanning a few certificates never meets it; a script trying numbers soon does).
    VERIFY_ADDRESS_LIMIT = "60 per 15 minutes"

    # Second factor (TOTP): reviewers and administrators must enrol an authenticator app
    # and pass it at each login before any staff page opens (ASVS 4.3.1).
    STAFF_TWO_FACTOR_REQUIRED = True
    # The account name authenticator apps show next to the codes.
    TOTP_ISSUER = "Formation Associations"
    # Fernet keys that encrypt the TOTP secrets at rest (portal.auth.totp_secrets): a list,
    # or one text of keys separated by commas. The first encrypts, all decrypt (rotation).
    # Generated into instance/totp_key in development; required in production.
    TOTP_ENCRYPTION_KEYS = None

    # Server-side sessions (ASVS 3.3.2): a login ends after this long without a request,
    # and in any case this long after it started.
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12

    # Cookies.
    # "__Host-session" in production (create_app): Secure, no Domain, path /.
    SESSION_COOKIE_NAME = "session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # No "remember me": logins never set Flask-Login's remember cookie, and one sent
    # anyway is useless without a live server-side session.
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # CSRF tokens on every form (Flask-WTF); only tests turn them off.
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 3600 * 4

    # Rows per page of the long lists (review queue, users, audit trail).
    PAGE_SIZE = 50

    # Static files (portal/assets.py). Fingerprinted names are cached for a year; a file
    # requested under its plain name, this many seconds.
    STATIC_MAX_AGE = 3600
    # flask digest compile (make run/serve/test) writes gzip and brotli copies of each file.
    FLASK_STATIC_DIGEST_COMPRESSION = ["gzip", "brotli"]

    # Cache (Flask-Caching) of what many requests would compute alike: each worker keeps
    # its own in memory by default; several workers or hosts share one with
    # PORTAL_CACHE_TYPE=RedisCache and PORTAL_CACHE_REDIS_URL=redis://host:6379/1.
    CACHE_TYPE = "SimpleCache"
    CACHE_DEFAULT_TIMEOUT = 60
    CACHE_KEY_PREFIX = "portal:"
    # Public pages for visitors (home, catalogue, a track) are rendered once per language,
    # address and state of the open offerings (any change of seats, or an offering opened
    # or closed, renders them again), and at least this often. 0 turns it off.
    VISITOR_PAGE_CACHE_SECONDS = 30
