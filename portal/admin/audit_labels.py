"""The audit log in the reader's language: one label per action, object type and field.

Events keep their codes in the database (filters and the personal data export rely on
them); only their display goes through here. A code with no label is shown as it is,
so an event written by a newer version never breaks the page.
"""

from datetime import date, datetime

from portal.i18n import gettext, isolate_text
from portal.i18n import lazy_gettext as _l
from portal.templating import format_day, format_day_time, listing, status_label
from portal.vocabulary import (
    AssociationField,
    AssociationState,
    CompletionReason,
    Domain,
    EducationLevel,
    Endorsement,
    OfferingStatus,
    OutboxStatus,
    Role,
)

ACTION_LABELS = {
    "city_created": _l("Ville ajoutée"),
    "city_changed": _l("Ville modifiée"),
    "track_created": _l("Formation ajoutée"),
    "track_changed": _l("Formation modifiée"),
    "offering_created": _l("Session créée"),
    "offering_changed": _l("Session modifiée"),
    "offering_opened": _l("Session ouverte"),
    "offering_closed": _l("Session fermée"),
    "offering_drafted": _l("Session remise en brouillon"),
    "seats_changed": _l("Nombre de places modifié"),
    "reviewers_changed": _l("Évaluateurs modifiés"),
    "user_invited": _l("Compte du personnel invité"),
    "invite_accepted": _l("Invitation acceptée"),
    "role_changed": _l("Rôle modifié"),
    "user_deactivated": _l("Compte désactivé"),
    "user_reactivated": _l("Compte réactivé"),
    "two_factor_reset": _l("Double authentification réinitialisée"),
    "email_retried": _l("Courriel renvoyé"),
    "export": _l("Export des candidatures"),
    "reach_export": _l("Export de la portée du programme"),
    "decision": _l("Décision sur une candidature"),
    "outcome_recorded": _l("Résultat de la formation enregistré"),
    "application_promoted": _l("Candidature acceptée depuis la liste d'attente"),
    "application_expired": _l("Place non confirmée à temps"),
    "application_withdrawn": _l("Candidature retirée par le système"),
    "application_moved": _l("Statut de candidature modifié par le système"),
    "view_personal_data": _l("Consultation de données personnelles"),
    "association_changed": _l("Association modifiée"),
    "association_verified": _l("Association vérifiée"),
    "associations_merged": _l("Associations fusionnées"),
    "referent_added": _l("Référent d'association nommé"),
    "referent_removed": _l("Référent d'association retiré"),
    "membership_decided": _l("Adhésion confirmée ou non par un référent"),
    "certificate_revoked": _l("Certificat révoqué"),
}

# "%(id)s" is the object's number (or the application's reference).
OBJECT_LABELS = {
    "city": _l("Ville n° %(id)s"),
    "track": _l("Formation n° %(id)s"),
    "offering": _l("Session n° %(id)s"),
    "user": _l("Compte n° %(id)s"),
    "application": _l("Candidature n° %(id)s"),
    "document": _l("Document n° %(id)s"),
    "outbox_email": _l("Courriel n° %(id)s"),
    "association": _l("Association n° %(id)s"),
    "association_membership": _l("Adhésion n° %(id)s"),
    "certificate": _l("Certificat n° %(id)s"),
}

# Object types as filter choices, and for the events that have no object number.
OBJECT_TYPE_LABELS = {
    "city": _l("Ville"),
    "track": _l("Formation"),
    "offering": _l("Session"),
    "user": _l("Compte"),
    "application": _l("Candidature"),
    "applications": _l("Candidatures"),
    "reach": _l("Portée du programme"),
    "document": _l("Document"),
    "outbox_email": _l("Courriel"),
    "association": _l("Association"),
    "association_membership": _l("Adhésion"),
    "certificate": _l("Certificat"),
}

FIELD_LABELS = {
    # A certificate's number and the reason of its revocation.
    "number": _l("Numéro"),
    "reason": _l("Motif"),
    "name_fr": _l("Nom de la ville (français)"),
    "name_ar": _l("Nom de la ville (arabe)"),
    "name_en": _l("Nom de la ville (anglais)"),
    "region_id": _l("Région (n°)"),
    "code": _l("Code"),
    "domain": _l("Domaine"),
    "min_education": _l("Niveau minimum"),
    "title_fr": _l("Intitulé (français)"),
    "title_ar": _l("Intitulé (arabe)"),
    "title_en": _l("Intitulé (anglais)"),
    "description_fr": _l("Description (français)"),
    "description_ar": _l("Description (arabe)"),
    "description_en": _l("Description (anglais)"),
    "track_id": _l("Formation (n°)"),
    "city_id": _l("Ville (n°)"),
    "academic_year": _l("Année de formation"),
    "seats": _l("Places"),
    "opens_at": _l("Ouverture des candidatures"),
    "closes_at": _l("Clôture des candidatures"),
    "course_starts_on": _l("Début de la formation"),
    "status": _l("Statut"),
    "reviewers": _l("Évaluateurs (n°)"),
    "interested_notified": _l("Personnes intéressées prévenues"),
    "role": _l("Rôle"),
    "active": _l("Compte actif"),
    "enrolled": _l("Double authentification enregistrée"),
    "format": _l("Format"),
    "filters": _l("Filtres"),
    "rows": _l("Lignes"),
    "application": _l("Candidature"),
    # The export's filters (portal.admin.queries.ApplicationFilters).
    "offering": _l("Session (n°)"),
    "city": _l("Ville (n°)"),
    "track": _l("Formation (n°)"),
    "year": _l("Année de formation"),
    # An association of the register (name_fr and name_ar: see OBJECT_FIELD_LABELS).
    "registration_number": _l("Numéro du récépissé de dépôt"),
    "field": _l("Domaine d'action"),
    "founded_year": _l("Année de création"),
    "contact_email": _l("Email de contact"),
    "state": _l("État"),
    "merged": _l("Association fusionnée (n°)"),
    "members": _l("Membres déplacés (n° de profil)"),
    "completion_reason": _l("Motif de non-achèvement"),
    "referent": _l("Référent (n° de compte)"),
    "association": _l("Association (n°)"),
    "max_seats_per_association": _l("Places au plus par association"),
    "endorsement_required": _l("Adhésion confirmée exigée"),
}

# Fields whose name means something else on one kind of object (name_fr is a city's by default).
OBJECT_FIELD_LABELS = {
    "association": {
        "name_fr": _l("Nom de l'association (français)"),
        "name_ar": _l("Nom de l'association (arabe)"),
    },
}

_DATE_FIELDS = frozenset({"opens_at", "closes_at"})
_DAY_FIELDS = frozenset({"course_starts_on"})
_ISOLATED_FIELDS = frozenset({"code", "academic_year", "year", "application", "registration_number"})


def label(labels, code):
    """The translated label of ``code`` in ``labels``, or the code itself when it has none."""
    text = labels.get(code)
    return code if text is None else str(text)


def action_label(action):
    """An audit action in the reader's language."""
    return label(ACTION_LABELS, action)


def object_type_label(object_type):
    """An audit object type in the reader's language."""
    return label(OBJECT_TYPE_LABELS, object_type)


def target_label(event):
    """What the event is about: "Candidature n° 1", or the reference (kept left to right)."""
    if event.object_id is None:
        return object_type_label(event.object_type)
    pattern = OBJECT_LABELS.get(event.object_type)
    if pattern is None:
        return f"{event.object_type} #{event.object_id}"
    # A reference (APP-2026-000123) is already a name: no "n°" before it.
    if not event.object_id.isdigit():
        return f"{object_type_label(event.object_type)} {isolate_text(event.object_id)}"
    return str(pattern) % {"id": event.object_id}


def _moment(value, as_day):
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value
    if as_day:
        return format_day(parsed.date() if isinstance(parsed, datetime) else parsed)
    if isinstance(parsed, datetime):
        return format_day_time(parsed)
    return format_day(parsed) if isinstance(parsed, date) else value


def value_label(event, field, value):
    """A recorded value for people: labels for codes, dates in the reader's format."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("Oui") if value else gettext("Non")
    if field == "status":
        if event.object_type == "offering":
            return str(OfferingStatus.label_of(value))
        if event.object_type == "outbox_email":
            return str(OutboxStatus.label_of(value))
        return status_label(value)
    if field == "completion_reason":
        return str(CompletionReason.label_of(value))
    if field == "role":
        return str(Role.label_of(value))
    if field == "domain":
        return str(Domain.label_of(value))
    if field == "min_education":
        return str(EducationLevel.label_of(value))
    if field == "state" and event.object_type == "association":
        return str(AssociationState.label_of(value))
    if field == "state" and event.object_type == "association_membership":
        return str(Endorsement.label_of(value))
    if field == "field" and event.object_type == "association":
        return str(AssociationField.label_of(value))
    if field in _DATE_FIELDS or field in _DAY_FIELDS:
        return _moment(value, field in _DAY_FIELDS)
    if field == "format":
        return str(value).upper()
    if field in _ISOLATED_FIELDS:
        return isolate_text(value)
    if isinstance(value, dict):
        return listing(
            *[
                gettext("%(field)s : %(value)s", field=label(FIELD_LABELS, k), value=value_label(event, k, v))
                for k, v in value.items()
            ]
        )
    if isinstance(value, list | tuple):
        return listing(*(str(v) for v in value)) if value else "—"
    return value


def values_of(event, values):
    """The (label, value) pairs of an event's before or after values, in the reader's language."""
    labels = {**FIELD_LABELS, **OBJECT_FIELD_LABELS.get(event.object_type, {})}
    return [(label(labels, k), value_label(event, k, v)) for k, v in (values or {}).items()]
