"""Template globals and filters: language direction, status labels, permissions, dates."""

from flask import current_app
from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l

from portal import permissions
from portal.i18n import current_language, is_rtl

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

# Bootstrap colour and an icon-like symbol, so the badge never relies on colour alone.
STATUS_STYLES = {
    "submitted": ("secondary", "●"),
    "under_review": ("info", "◐"),
    "accepted": ("success", "✓"),
    "waitlisted": ("warning", "⏳"),
    "rejected": ("danger", "✕"),
    "confirmed": ("success", "✔"),
    "withdrawn": ("dark", "↩"),
    "expired": ("dark", "⌛"),
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


def status_label(status):
    """Translated label of an application status."""
    return STATUS_LABELS.get(status, status)


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
    )
    app.jinja_env.filters.update(
        status_label=status_label,
        date=lambda value, fmt="medium": format_date(value, fmt) if value else "",
        datetime=lambda value, fmt="medium": format_datetime(value, fmt) if value else "",
    )

    @app.context_processor
    def _config_values():
        return {"config_languages": current_app.config["LANGUAGES"]}
