"""Language helpers shared by every feature: the locale of a request, localized columns."""

from contextlib import contextmanager

import flask_babel
from babel import Locale
from flask import current_app, g, has_app_context, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import LazyString, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import func

# The portal's own per-context copy of the locale being rendered, on ``flask.g``: set by
# ``select_locale`` (Flask-Babel calls it once per request) and by ``force_locale``, read
# by ``current_locale`` in one lookup. Flask-Babel's own copy is its private business.
_G_LOCALE = "portal_locale"
# Babel's locales by code: parsing one costs on every request, and they never change.
_locales = {}


def _locale(code):
    """The Babel locale of ``code``, parsed once per process."""
    try:
        return _locales[code]
    except KeyError:
        locale = _locales[code] = Locale.parse(code)
        return locale


def select_locale():
    """Pick the request's language: the one chosen in this visit, the account's, the browser's.

    A choice made with the language menu in this visit wins over the account's saved
    language (it is saved on the account too, at once or at the next login): someone who
    picked English before logging in keeps English through the login's second step.
    Flask-Babel calls it once per request (its locale selector); the choice is kept on
    ``g`` for ``current_locale``. Returns the parsed locale (Flask-Babel then takes it as is).
    """
    locale = _locale(_selected_language())
    setattr(g, _G_LOCALE, locale)
    return locale


def _selected_language():
    """The code ``select_locale`` picks (see there)."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # Worker and CLI: emails choose their language explicitly with force_locale.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


@contextmanager
def force_locale(code):
    """Render in ``code`` inside the block (emails in the reader's language), then go back.

    Flask-Babel's ``force_locale`` plus the portal's copy of the locale: code of the portal
    uses this one, so that ``current_locale`` (and the templates' gettext) follow it.
    """
    with flask_babel.force_locale(code):
        if not has_app_context():
            yield
            return
        saved = g.get(_G_LOCALE)
        setattr(g, _G_LOCALE, _locale(code))
        try:
            yield
        finally:
            if saved is None:
                g.pop(_G_LOCALE, None)
            else:
                setattr(g, _G_LOCALE, saved)


def remember_language(code, user=None):
    """Remember ``code`` as this visit's language, and as ``user``'s when given (flushes nothing)."""
    session["lang"] = code
    if user is not None and user.locale != code:
        user.locale = code


def chosen_language():
    """The language chosen with the menu in this visit, or None."""
    chosen = session.get("lang") if has_request_context() else None
    return chosen if chosen in current_app.config["LANGUAGES"] else None


def current_locale():
    """The Babel locale being rendered (None outside an application context).

    One lookup of the portal's copy on ``g`` (pages ask for it once per translated word or
    localized column); the first call of a request asks Flask-Babel, which calls
    ``select_locale``, which fills the copy.
    """
    # The application context read from Flask's context variable itself: through the
    # ``g`` proxy each of a page's dozens of calls cost several lookups more.
    context = _cv_app.get(None)
    if context is None:
        return None
    locale = getattr(context.g, _G_LOCALE, None)
    return locale if locale is not None else get_locale()


def current_language():
    """Two-letter code of the language being rendered (``fr`` outside a request)."""
    locale = current_locale()
    return locale.language if locale is not None else "fr"


# Flask-Babel's catalogues by language: the files do not change while the process runs.
_catalogues = {}


def translations():
    """The gettext catalogue of the language being rendered."""
    locale = current_locale()
    if locale is None:
        return get_translations()
    try:
        return _catalogues[locale.language]
    except KeyError:
        catalogue = _catalogues[locale.language] = get_translations()
        return catalogue


# The portal's gettext functions: Flask-Babel's, reading the catalogue in one lookup
# (``translations``) instead of three context lookups and a locale's string per call, which
# cost 7 µs each; a page translates dozens of labels and messages.


def gettext(string, **variables):
    """Flask-Babel's ``gettext``: ``string`` translated, ``%(name)s`` variables filled in."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular, plural, num, **variables):
    """Flask-Babel's ``ngettext``: the plural form for ``num``, which ``%(num)d`` reads too."""
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string, **variables):
    """Flask-Babel's ``lazy_gettext``: translated when used, in the language used then."""
    return LazyString(gettext, string, **variables)


def lazy_ngettext(singular, plural, num, **variables):
    """Flask-Babel's ``lazy_ngettext``: translated when used, in the language used then."""
    return LazyString(ngettext, singular, plural, num, **variables)


def install_template_gettext(app):
    """Give templates ``_``/``gettext``/``ngettext`` that read the catalogue in one lookup.

    Same behaviour as Flask-Babel's (Jinja's "newstyle" gettext: autoescaped, with
    ``%(name)s`` variables), without its three context lookups per call.
    """
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
    # ``gettext`` replaced by the portal's, which keeps the texts; ``_`` bound to it directly
    # (Jinja's looks ``gettext`` up in the context on every call).
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"] = _template_gettext


# Template texts, translated and formatted, by language, autoescaping and text: a page
# asks for some fifty, the same ones on every request. Templates translate literals only
# (a few thousand in all); past this many, a text is translated on each call rather than
# kept, should a template ever translate a value that varies.
_template_texts = {}
_MAX_TEMPLATE_TEXTS = 20_000


@pass_context
def _template_gettext(context, string, **variables):
    """Jinja's "newstyle" ``gettext`` (the wrapper ``install_gettext_callables`` makes), with
    the texts without variables kept once translated: 4.5 µs a call become 2.

    As Jinja's: Markup when the template autoescapes (its variables are escaped), and always
    a ``%`` format, so that ``%%`` reads ``%`` with or without variables.
    """
    autoescape = context.eval_ctx.autoescape
    if variables:
        text = translations().ugettext(string)
        # The catalogue's text is markup, as Jinja treats it; the variables get escaped.
        return (Markup(text) if autoescape else text) % variables  # noqa: S704
    key = (current_language(), autoescape, string)
    try:
        return _template_texts[key]
    except KeyError:
        pass
    text = translations().ugettext(string)
    text = (Markup(text) if autoescape else text) % {}  # noqa: S704 - the catalogue's markup, as in Jinja
    if len(_template_texts) < _MAX_TEMPLATE_TEXTS:
        _template_texts[key] = text
    return text


def is_rtl(language=None):
    """Whether ``language`` (default: the current one) is written right to left."""
    return (language or current_language()) == "ar"


class Localized:
    """Mixin for models with ``<field>_fr``, ``<field>_ar``, ``<field>_en`` columns."""

    def localized(self, field, language=None):
        """The value of ``field`` in ``language`` (current one by default), French as fallback."""
        language = language or current_language()
        return getattr(self, f"{field}_{language}", None) or getattr(self, f"{field}_fr")


def localized_column(model, field, language):
    """SQL: ``model``'s ``field`` in ``language``, French when empty (as ``Localized.localized``)."""
    french = getattr(model, f"{field}_fr")
    if language == "fr":
        return french
    return func.coalesce(func.nullif(getattr(model, f"{field}_{language}"), ""), french)


# Unicode's left-to-right isolate (LRI ... PDI): the plain-text twin of <bdi dir="ltr">.
_LRI, _PDI = "\u2066", "\u2069"


def isolate_text(value):
    """``value`` (a code, a year, a reference) isolated left to right inside any text.

    For plain text (select options, text emails, CSV-free labels) where ``<bdi>`` cannot go:
    in Arabic, "2026-2027" after Arabic words would otherwise read "2027-2026".
    """
    return f"{_LRI}{value}{_PDI}" if value not in (None, "") else ""
