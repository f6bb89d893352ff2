"""Template globals and filters: language direction, status labels, permissions, dates."""

from datetime import datetime
from functools import lru_cache

from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal as babel_format_decimal
from flask import current_app
from flask_babel import format_datetime, gettext, ngettext, to_user_timezone
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from portal import permissions
from portal.i18n import current_language, is_rtl, isolate_text

LANGUAGE_NAMES = {"fr": "Français", "ar": "العربية", "en": "English"}

STATUS_LABELS = {
    "submitted": _l("Déposée"),
    "under_review": _l("En cours d'examen"),
    "accepted": _l("Acceptée"),
    "waitlisted": _l("Liste d'attente"),
    "rejected": _l("Non retenue"),
    "confirmed": _l("Place confirmée"),
    "withdrawn": _l("Retirée"),
    "expired": _l("Expirée"),
}

# Bootstrap colour and an icon-like symbol, so the badge never relies on colour alone. The
# symbols are plain text characters (DejaVu Sans has them all), not emoji, which computers
# without an emoji font draw as empty boxes.
STATUS_STYLES = {
    "submitted": ("secondary", "●"),
    "under_review": ("info", "◐"),
    "accepted": ("success", "✓"),
    "waitlisted": ("warning", "⋯"),
    "rejected": ("danger", "✕"),
    "confirmed": ("success", "✔"),
    "withdrawn": ("dark", "↩"),
    "expired": ("dark", "⊘"),
}

DOMAIN_LABELS = {"digital": _l("Numérique et IA"), "management": _l("Gestion")}

EDUCATION_LABELS = {
    "none": _l("Sans diplôme"),
    "primary": _l("Primaire"),
    "secondary": _l("Collège / secondaire"),
    "baccalaureate": _l("Baccalauréat"),
    "bac2": _l("Bac + 2 (DTS, DEUG…)"),
    "licence": _l("Licence (Bac + 3)"),
    "master": _l("Master ou plus"),
}

ASSOCIATION_FIELDS = {
    "social": _l("Action sociale"),
    "education": _l("Éducation et alphabétisation"),
    "health": _l("Santé"),
    "environment": _l("Environnement"),
    "culture": _l("Culture, sport et loisirs"),
    "women": _l("Droits des femmes"),
    "youth": _l("Jeunesse"),
    "disability": _l("Handicap"),
    "rural": _l("Développement local et rural"),
    "rights": _l("Droits humains et citoyenneté"),
    "other": _l("Autre"),
}


# Labels and formatted values depend only on the language (and the value): a page of
# fifty rows asks for the same few of them again and again.
_labels = {}


def status_label(status):
    """Translated label of an application status, in the language being rendered."""
    label = STATUS_LABELS.get(status)
    if label is None:
        return status
    key = (current_language(), status)
    try:
        return _labels[key]
    except KeyError:
        text = _labels[key] = str(label)
        return text


def status_badge(status):
    """A status badge: colour, a symbol and the label, so it never relies on colour alone."""
    key = ("badge", current_language(), status)
    try:
        return _labels[key]
    except KeyError:
        colour, symbol = STATUS_STYLES.get(status, ("secondary", "•"))
        badge = _labels[key] = Markup(
            '<span class="badge text-bg-{} status-badge" data-status="{}"><span aria-hidden="true">{}</span> {}</span>'
        ).format(colour, status, symbol, status_label(status))
        return badge


@lru_cache(maxsize=4096)
def _format_day(day, fmt, language):
    return babel_format_date(day, fmt, locale=language)


def format_day(value, fmt="medium"):
    """A date, or the local (portal time zone) date of a UTC datetime, in the current language."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = to_user_timezone(value).date()
    return _format_day(value, fmt, current_language())


@lru_cache(maxsize=1024)
def _format_score(value, language):
    return babel_format_decimal(value, format="#,##0.0", locale=language)


def format_score(value):
    """A mean review score with one decimal, in the current language's digits and separator."""
    return _format_score(value, current_language())


@lru_cache(maxsize=256)
def _format_size_number(value, fmt, language):
    return babel_format_decimal(value, format=fmt, locale=language)


def format_file_size(size):
    """A file's size for people, in the current language: bytes, then KB and MB.

    One decimal below 10 (``1,5 Ko``), none above (``320 Ko``), and never 0 for a file
    that is not empty: below 1 KB the bytes are counted.
    """
    if size is None:
        return ""
    if size < 1024:
        return ngettext("%(num)d octet", "%(num)d octets", size)
    value, unit = size / 1024, "KB"
    if value >= 1023.5:
        value, unit = size / (1024 * 1024), "MB"
    number = _format_size_number(round(value, 1), "#,##0.#" if value < 10 else "#,##0", current_language())
    return gettext("%(size)s Ko", size=number) if unit == "KB" else gettext("%(size)s Mo", size=number)


def ltr(value):
    """``value`` (a code, a year) in ``<bdi dir="ltr">``, so it never reads backwards in Arabic."""
    if value in (None, ""):
        return ""
    return Markup('<bdi dir="ltr">{}</bdi>').format(value)


def init_app(app):
    """Register globals and filters."""
    app.jinja_env.globals.update(
        current_language=current_language,
        is_rtl=is_rtl,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        STATUS_STYLES=STATUS_STYLES,
        DOMAIN_LABELS=DOMAIN_LABELS,
        EDUCATION_LABELS=EDUCATION_LABELS,
        ASSOCIATION_FIELDS=ASSOCIATION_FIELDS,
        can=permissions,
        status_badge=status_badge,
        format_score=format_score,
    )
    app.jinja_env.filters.update(
        status_label=status_label,
        ltr=ltr,
        ltr_text=isolate_text,
        date=format_day,
        filesize=format_file_size,
        datetime=lambda value, fmt="medium": format_datetime(value, fmt) if value else "",
    )

    @app.context_processor
    def _config_values():
        return {"config_languages": current_app.config["LANGUAGES"]}
