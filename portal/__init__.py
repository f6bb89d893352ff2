"""The Association Training Portal: application factory."""

import logging
import os
import secrets
from pathlib import Path

from flask import Flask

from portal.config import CNDP_PLACEHOLDER, OWASP_MIN_MEMORY_KIB, OWASP_MIN_TIME_COST, Config

ROOT = Path(__file__).resolve().parent.parent

# Files one request may carry: the application form's membership attestation and CIN copy.
UPLOADS_PER_REQUEST = 2


def create_app(config=None):
    """Create the application: configuration layers, extensions, blueprints, errors, CLI."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    configure(app, config)
    register_host_check(app)
    register_proxy_fix(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security(app)
    register_template_helpers(app)
    register_static_files(app)
    register_commands(app)
    return app


def configure(app, config=None):
    """Apply the configuration layers and fill in the paths under ``instance/``."""
    app.config.from_object(Config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAL")
    if config:
        app.config.update(config)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'portal.db'}"
    if not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        # Explicit engine options win over the pool defaults.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["DATABASE_POOL_OPTIONS"],
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    # Statement parameters hold personal data (emails, CINs, phones): an engine error's
    # message, and so any log of it, shows the SQL without them, on every database.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        "hide_parameters": True,
    }
    if app.config["MAX_CONTENT_LENGTH"] is None:
        app.config["MAX_CONTENT_LENGTH"] = (
            UPLOADS_PER_REQUEST * app.config["MAX_UPLOAD_BYTES"] + app.config["MAX_FORM_BYTES"]
        )
    app.config["UPLOAD_FOLDER"] = app.config["UPLOAD_FOLDER"] or str(instance / "uploads")
    app.config["MAIL_FILE_FOLDER"] = app.config["MAIL_FILE_FOLDER"] or str(instance / "mail")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = app.config["BABEL_TRANSLATION_DIRECTORIES"] or str(
        ROOT / "translations"
    )
    if not app.config["SECRET_KEY"]:
        if app.config["PRODUCTION"]:
            raise RuntimeError("PORTAL_SECRET_KEY must be set in production")
        app.config["SECRET_KEY"] = _development_secret(instance)
    _configure_totp_keys(app, instance)
    if app.config["PRODUCTION"] and app.config.get("CNDP_DECLARATION") in (None, "", CNDP_PLACEHOLDER):
        # The privacy notice of a live portal must give the real declaration (law 09-08).
        raise RuntimeError("PORTAL_CNDP_DECLARATION must be set in production (the CNDP's receipt number)")
    if (
        app.config["PASSWORD_HASH_TIME_COST"] < OWASP_MIN_TIME_COST
        or app.config["PASSWORD_HASH_MEMORY_KIB"] < OWASP_MIN_MEMORY_KIB
    ):
        raise RuntimeError("PORTAL_PASSWORD_HASH_* below OWASP's argon2id minimum (2 passes, 19 MiB)")
    if app.config["PRODUCTION"]:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
    if not app.debug:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _development_secret(instance):
    """Read, or create on first run, the development secret key in ``instance/``."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _configure_totp_keys(app, instance):
    """Check TOTP_ENCRYPTION_KEYS and make it a list; in development, generate one key."""
    from portal.auth import totp_secrets

    try:
        keys = totp_secrets.parse_keys(app.config.get("TOTP_ENCRYPTION_KEYS"))
    except ValueError as error:
        raise RuntimeError(str(error)) from None
    if not keys:
        if app.config["PRODUCTION"]:
            raise RuntimeError("PORTAL_TOTP_ENCRYPTION_KEYS must be set in production")
        keys = [_development_totp_key(instance, totp_secrets.generate_key)]
    app.config["TOTP_ENCRYPTION_KEYS"] = keys


def _development_totp_key(instance, generate):
    """Read, or create on first run, the development key of the TOTP secrets in ``instance/``."""
    path = instance / "totp_key"
    if not path.exists():
        # Written aside then linked into place: two processes starting at once agree on one key.
        draft = instance / f".totp_key.{os.getpid()}"
        draft.write_text(generate())
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def register_host_check(app):
    """Answer an unusable Host header with the 400 page (installed inside ProxyFix)."""
    from portal import security

    security.install_host_check(app)


def register_proxy_fix(app):
    """Trust X-Forwarded-* from PROXY_FIX_X_FOR reverse proxies (none by default)."""
    hops = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app):
    """Bind the extensions to the application."""
    import portal.models  # noqa: F401 - every table in the metadata (Alembic, tests)
    from portal import database, i18n, transaction
    from portal.extensions import babel, cache, csrf, db, login_manager, mail, migrate

    db.init_app(app)
    database.init_app(app)
    # Before any other after-request hook, so that the request's one commit runs last.
    transaction.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.install_template_gettext(app)
    cache.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    from portal.i18n import lazy_gettext as _l

    login_manager.login_message = _l("Veuillez vous connecter pour accéder à cette page.")

    from portal.auth.sessions import CookieSessions, load_user

    login_manager.user_loader(load_user)
    app.session_interface = CookieSessions()


def register_blueprints(app):
    """Register one blueprint per feature.

    Each is taken from the feature's ``views`` module, which puts the routes on it: the
    package defines the blueprint and does not import its views (no import circle).
    """
    from portal.admin.views import bp as admin_bp
    from portal.applications.views import bp as applications_bp
    from portal.associations.views import bp as associations_bp
    from portal.auth.views import account_bp
    from portal.auth.views import bp as auth_bp
    from portal.catalog.views import bp as catalog_bp
    from portal.certificates.views import bp as certificates_bp
    from portal.demand.views import bp as demand_bp
    from portal.privacy.views import bp as privacy_bp
    from portal.reach.views import bp as reach_bp
    from portal.review.views import bp as review_bp

    app.register_blueprint(catalog_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(account_bp)
    app.register_blueprint(applications_bp)
    app.register_blueprint(review_bp, url_prefix="/review")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(demand_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(associations_bp)
    app.register_blueprint(reach_bp)
    app.register_blueprint(certificates_bp)


def register_errorhandlers(app):
    """Render error pages inside the layout; roll back a failed transaction first."""
    from portal import errors

    errors.init_app(app)


def register_security(app):
    """Security headers on every response and a request log without personal data."""
    from portal import indexing, safety, security

    security.init_app(app)
    safety.init_app(app)
    indexing.init_app(app)


def register_template_helpers(app):
    """Globals and filters available to every template."""
    from portal import templating

    templating.init_app(app)


def register_static_files(app):
    """Fingerprinted static URLs; compressed, long-cached static files (portal/assets.py)."""
    from portal import assets

    assets.init_app(app)


def register_commands(app):
    """Add the ``flask --app portal`` commands."""
    from portal import cli

    cli.init_app(app)
