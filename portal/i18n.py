"""Language helpers shared by every feature: the locale of a request, localized columns."""

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user


def select_locale():
    """Pick the request's language: the account's, then the visitor's choice, then the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # Worker and CLI: emails choose their language explicitly with force_locale.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language():
    """Two-letter code of the language being rendered (``fr`` outside a request)."""
    try:
        return str(get_locale() or "fr")[:2]
    except RuntimeError:
        return "fr"


def is_rtl(language=None):
    """Whether ``language`` (default: the current one) is written right to left."""
    return (language or current_language()) == "ar"


class Localized:
    """Mixin for models with ``<field>_fr``, ``<field>_ar``, ``<field>_en`` columns."""

    def localized(self, field, language=None):
        """The value of ``field`` in ``language`` (current one by default), French as fallback."""
        language = language or current_language()
        return getattr(self, f"{field}_{language}", None) or getattr(self, f"{field}_fr")
