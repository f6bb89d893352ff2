"""Every stored vocabulary of the portal, defined once: values, labels, badges and groups.

Each class is a ``StrEnum``: a member compares equal to the string stored in the database,
so queries, forms and templates use the members, never the bare strings. A member carries
its translated label (lazy, resolved in the reader's language), and where it is shown as a
badge its Bootstrap colour and a symbol. The groups (``ApplicationStatus.FINAL``, ...) are
frozensets set on the class below it. The transition tables stay in the workflows; a test
checks that the groups agree with them, and another that the database's CHECK constraints
(added by a migration) list exactly these values.

This module sits below every feature: it imports nothing of the portal.
"""

import enum

from sqlalchemy import CheckConstraint, column

from portal.i18n import lazy_gettext as _l


class Vocabulary(enum.StrEnum):
    """A stored value with its translated label (base of every vocabulary below)."""

    def __new__(cls, value, *details):
        member = str.__new__(cls, value)
        member._value_ = value
        return member

    def __init__(self, value, label, *details):
        self.label = label

    @classmethod
    def values(cls):
        """The stored values, in the order of definition."""
        return tuple(member.value for member in cls)

    @classmethod
    def choices(cls, members=None):
        """``(value, label)`` pairs for a form's select, in the order of definition."""
        return [(member.value, member.label) for member in (cls if members is None else members)]

    @classmethod
    def label_of(cls, value):
        """The label of a stored value, or the value itself when unknown (newer or older data)."""
        try:
            return cls(value).label
        except ValueError:
            return value


class ApplicationStatus(Vocabulary):
    """Where an application stands (the table of transitions is in applications/workflow.py)."""

    # The symbols are plain text characters (DejaVu Sans has them all), not emoji, which
    # computers without an emoji font draw as empty boxes; with them a badge never relies
    # on colour alone.
    SUBMITTED = "submitted", _l("Déposée"), "secondary", "●"
    UNDER_REVIEW = "under_review", _l("En cours d'examen"), "info", "◐"
    ACCEPTED = "accepted", _l("Acceptée"), "success", "✓"
    WAITLISTED = "waitlisted", _l("Liste d'attente"), "warning", "⋯"
    REJECTED = "rejected", _l("Non retenue"), "danger", "✕"
    CONFIRMED = "confirmed", _l("Place confirmée"), "success", "✔"
    WITHDRAWN = "withdrawn", _l("Retirée"), "dark", "↩"
    EXPIRED = "expired", _l("Expirée"), "dark", "⊘"
    COMPLETED = "completed", _l("Formation achevée"), "primary", "★"
    NOT_COMPLETED = "not_completed", _l("Formation non achevée"), "dark", "○"

    def __init__(self, value, label, badge, symbol):
        super().__init__(value, label)
        self.badge = badge
        self.symbol = symbol


_A = ApplicationStatus
# No next status (the workflow's table agrees: tests/unit/test_vocabulary.py).
_A.FINAL = frozenset({_A.REJECTED, _A.WITHDRAWN, _A.EXPIRED, _A.COMPLETED, _A.NOT_COMPLETED})
# Counted against MAX_ACTIVE_APPLICATIONS; released when the applicant leaves.
_A.ACTIVE = frozenset(_A) - _A.FINAL
# Hold one of the offering's seats. The cohort's outcome keeps the seat it used: recording
# completion frees nothing, so no one is promoted into a course that has already started.
_A.SEAT_HOLDING = frozenset({_A.ACCEPTED, _A.CONFIRMED, _A.COMPLETED, _A.NOT_COMPLETED})
# The outcome of a participant of the cohort (recorded after the course starts).
_A.OUTCOMES = (_A.COMPLETED, _A.NOT_COMPLETED)
# Accepted at some point: still holding the seat, or having held it (the reach's
# acceptance rate counts these among the decided applications).
_A.ACCEPTED_OR_LATER = frozenset({_A.ACCEPTED, _A.CONFIRMED, _A.EXPIRED, _A.COMPLETED, _A.NOT_COMPLETED})
# The decisions a reviewer takes on an application, in the order of the buttons.
_A.DECISIONS = (_A.ACCEPTED, _A.WAITLISTED, _A.REJECTED)
# Still waiting for a reviewer's decision.
_A.UNDECIDED = frozenset({_A.SUBMITTED, _A.UNDER_REVIEW})
# A decision sets ``decided_at``.
_A.DECIDED = frozenset(_A.DECISIONS)
# The reviewer's decision buttons: what taking the decision is called, and its colour.
_A.ACCEPTED.action_label, _A.ACCEPTED.button = _l("Accepter"), "btn-success"
_A.WAITLISTED.action_label, _A.WAITLISTED.button = _l("Mettre sur liste d'attente"), "btn-warning"
_A.REJECTED.action_label, _A.REJECTED.button = _l("Ne pas retenir"), "btn-outline-danger"


class CompletionReason(Vocabulary):
    """Why a participant of the cohort did not complete the training."""

    NEVER_CAME = "never_came", _l("Ne s'est jamais présenté(e)")
    DROPPED_OUT = "dropped_out", _l("A abandonné en cours de formation")
    EXCLUDED = "excluded", _l("Exclu(e) de la formation")


class OfferingStatus(Vocabulary):
    """Whether an offering takes applications (its table is in catalog/workflow.py)."""

    DRAFT = "draft", _l("Brouillon")
    OPEN = "open", _l("Ouverte")
    CLOSED = "closed", _l("Fermée")


# The statuses a new offering may be created in (it starts as a draft, then opens).
OfferingStatus.INITIAL = frozenset({OfferingStatus.DRAFT, OfferingStatus.OPEN})


class OutboxStatus(Vocabulary):
    """Where an email stands in the outbox."""

    PENDING = "pending", _l("En attente"), _l("En attente")
    SENDING = "sending", _l("En cours d'envoi"), _l("En cours d'envoi")
    SENT = "sent", _l("Envoyé"), _l("Envoyés")
    FAILED = "failed", _l("En échec"), _l("En échec")

    def __init__(self, value, label, tab_label):
        super().__init__(value, label)
        # The heading of the outbox screen's tab, which counts emails (plural).
        self.tab_label = tab_label


# Waiting for the worker (a claimed email whose worker died is sent again).
OutboxStatus.QUEUED = frozenset({OutboxStatus.PENDING, OutboxStatus.SENDING})
# The outbox screen's tabs; the "pending" tab also lists the emails being sent.
OutboxStatus.TABS = (OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.FAILED)


class Role(Vocabulary):
    """What a user is in the portal."""

    APPLICANT = "applicant", _l("Candidat")
    REVIEWER = "reviewer", _l("Évaluateur")
    ADMIN = "admin", _l("Administrateur")


# The roles of the programme's staff (invited, never registered).
Role.STAFF = (Role.REVIEWER, Role.ADMIN)


class Recommendation(Vocabulary):
    """A reviewer's recommendation in a review."""

    ACCEPT = "accept", _l("Accepter"), _l("accepter")
    WAITLIST = "waitlist", _l("Liste d'attente"), _l("liste d'attente")
    REJECT = "reject", _l("Ne pas retenir"), _l("ne pas retenir")

    def __init__(self, value, label, inline_label):
        super().__init__(value, label)
        # Written inside a sentence ("Recommandation : accepter").
        self.inline_label = inline_label


class EducationLevel(Vocabulary):
    """An applicant's education level, and a track's minimum, from lowest to highest."""

    NONE = "none", _l("Sans diplôme")
    PRIMARY = "primary", _l("Primaire")
    SECONDARY = "secondary", _l("Collège / secondaire")
    BACCALAUREATE = "baccalaureate", _l("Baccalauréat")
    BAC2 = "bac2", _l("Bac + 2 (DTS, DEUG…)")
    LICENCE = "licence", _l("Licence (Bac + 3)")
    MASTER = "master", _l("Master ou plus")

    @property
    def rank(self):
        """Position from the lowest level (0): a track's minimum is compared by it."""
        return list(EducationLevel).index(self)

    @classmethod
    def rank_of(cls, value):
        """The rank of a stored value, -1 when it is not a level."""
        try:
            return cls(value).rank
        except ValueError:
            return -1


class Domain(Vocabulary):
    """The domain of a track."""

    DIGITAL = "digital", _l("Numérique et IA")
    MANAGEMENT = "management", _l("Gestion")


class AssociationField(Vocabulary):
    """The field of action of an applicant's association."""

    SOCIAL = "social", _l("Action sociale")
    EDUCATION = "education", _l("Éducation et alphabétisation")
    HEALTH = "health", _l("Santé")
    ENVIRONMENT = "environment", _l("Environnement")
    CULTURE = "culture", _l("Culture, sport et loisirs")
    WOMEN = "women", _l("Droits des femmes")
    YOUTH = "youth", _l("Jeunesse")
    DISABILITY = "disability", _l("Handicap")
    RURAL = "rural", _l("Développement local et rural")
    RIGHTS = "rights", _l("Droits humains et citoyenneté")
    OTHER = "other", _l("Autre")


class AssociationState(Vocabulary):
    """Whether an administrator has checked a register entry (a declared one waits)."""

    TO_VERIFY = "to_verify", _l("À vérifier")
    VERIFIED = "verified", _l("Vérifiée")


class Endorsement(Vocabulary):
    """Whether one of an association's referents vouches that an applicant is a member."""

    PENDING = "pending", _l("Adhésion en attente de confirmation"), "warning", "⋯"
    ENDORSED = "endorsed", _l("Adhésion confirmée par l'association"), "success", "✓"
    DECLINED = "declined", _l("Adhésion non confirmée par l'association"), "danger", "✕"

    def __init__(self, value, label, badge, symbol):
        super().__init__(value, label)
        self.badge = badge
        self.symbol = symbol


# The decisions a referent takes, in the order of the buttons, with what taking them is called.
Endorsement.DECISIONS = (Endorsement.ENDORSED, Endorsement.DECLINED)
Endorsement.ENDORSED.action_label, Endorsement.ENDORSED.button = _l("Confirmer l'adhésion"), "btn-success"
Endorsement.DECLINED.action_label, Endorsement.DECLINED.button = (
    _l("Ne pas confirmer"),
    "btn-outline-danger",
)


class DocumentKind(Vocabulary):
    """What an uploaded file of an application is (the membership attestation is required)."""

    MEMBERSHIP = "membership", _l("Attestation d'adhésion")
    CIN = "cin", _l("Copie de la CIN")


class CertificateLanguage(Vocabulary):
    """The language a certificate of completion is rendered in (the participant's choice)."""

    FR = "fr", _l("Français")
    AR = "ar", _l("Arabe")


def check_in(column_name, vocabulary, name):
    """A CHECK constraint keeping ``column_name`` within ``vocabulary`` (NULL passes, as in SQL)."""
    # The naming convention prefixes the name: ck_<table>_<name>, the same on both databases.
    return CheckConstraint(
        column(column_name).in_(vocabulary.values()),
        name=name,
        # Read by the test comparing the migrated database with the vocabularies.
        info={"column": column_name, "vocabulary": vocabulary},
    )


# Every vocabulary, for the templates (Jinja globals) and the tests. CertificateLanguage is
# left out: its values are the language codes ("fr", "ar"), which the portal quotes as
# locale codes everywhere (configuration, date patterns, templates), so the test that no
# status is written as a bare string would flag every one of them.
ALL = (
    ApplicationStatus,
    CompletionReason,
    OfferingStatus,
    OutboxStatus,
    Role,
    Recommendation,
    EducationLevel,
    Domain,
    AssociationField,
    AssociationState,
    Endorsement,
    DocumentKind,
)
