"""Forms of the review area: queue filters, CIN search, review, decisions."""

import re

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Optional, Regexp

from portal.forms import max_length
from portal.i18n import lazy_gettext as _l
from portal.review.queries import SORTS
from portal.safety import MultilineText
from portal.vocabulary import ApplicationStatus, CompletionReason, Recommendation

SCORE_CHOICES = [(n, str(n)) for n in range(6)]
DECISION_VALUES = tuple(s.value for s in ApplicationStatus.DECISIONS)
OUTCOME_VALUES = tuple(s.value for s in ApplicationStatus.OUTCOMES)
SORT_LABELS = {
    "submitted_asc": _l("Dépôt : plus anciennes d'abord"),
    "submitted_desc": _l("Dépôt : plus récentes d'abord"),
    "score_desc": _l("Note moyenne : meilleures d'abord"),
    "score_asc": _l("Note moyenne : plus faibles d'abord"),
}


def _int_or_none(value):
    """Coerce a select value to int, empty meaning "any"."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class QueueFilterForm(FlaskForm):
    """GET filters of the queue (names and references only: no CIN in URLs).

    It parses the request; the lists' options are written by ``rows.filter_options``.
    """

    class Meta:
        csrf = False

    offering = SelectField(_l("Session"), coerce=_int_or_none, validate_choice=False)
    status = SelectField(_l("Statut"), validate_choice=False)
    q = StringField(_l("Nom ou référence"), validators=[max_length(100), Optional()])
    sort = SelectField(_l("Tri"), choices=[(s, SORT_LABELS[s]) for s in SORTS], validate_choice=False)


class CinSearchForm(FlaskForm):
    """Exact search by CIN, sent by POST so the number never appears in a URL or log.

    The field is optional, as every filter of the queue: sent empty, it clears the search.
    """

    cin = StringField(
        _l("Numéro de CIN"),
        # As at registration: spaces typed inside the number are not part of it.
        filters=[lambda value: re.sub(r"\s", "", value).upper() if value else value],
        validators=[
            max_length(8, _l("Une CIN compte au plus 8 caractères.")),
            Optional(),
            Regexp(r"^[A-Z]{1,2}\d{1,6}$", message=_l("Format de CIN invalide (ex. AB123456).")),
        ],
    )


class ReviewForm(FlaskForm):
    """A reviewer's rubric: three criteria 0–5, a recommendation and a comment."""

    score_motivation = RadioField(
        _l("Motivation"),
        choices=SCORE_CHOICES,
        coerce=int,
        validators=[InputRequired(_l("Notez ce critère de 0 à 5."))],
    )
    score_engagement = RadioField(
        _l("Engagement dans l'association"),
        choices=SCORE_CHOICES,
        coerce=int,
        validators=[InputRequired(_l("Notez ce critère de 0 à 5."))],
    )
    score_fit = RadioField(
        _l("Adéquation avec la formation"),
        choices=SCORE_CHOICES,
        coerce=int,
        validators=[InputRequired(_l("Notez ce critère de 0 à 5."))],
    )
    recommendation = RadioField(
        _l("Recommandation"),
        choices=Recommendation.choices(),
        validators=[InputRequired(_l("Choisissez une recommandation."))],
    )
    comment = TextAreaField(
        _l("Commentaire (réservé aux évaluateurs)"),
        validators=[max_length(4000, _l("4000 caractères au plus.")), Optional(), MultilineText()],
    )


class DecisionForm(FlaskForm):
    """A decision on one application, with the version the decider saw."""

    # An empty label, never shown: without one WTForms translates a default label, loading
    # its own catalogue from disk on every page of the queue.
    decision = HiddenField(
        "", validators=[max_length(32), AnyOf(DECISION_VALUES, message=_l("Décision inconnue."))]
    )
    message = TextAreaField(
        _l("Message au candidat (facultatif, joint à l'email)"),
        validators=[max_length(2000, _l("2000 caractères au plus.")), Optional(), MultilineText()],
    )
    version = IntegerField(validators=[Optional()])


class BulkDecisionForm(FlaskForm):
    """One decision for the rows selected in the queue (``references`` is read as a list)."""

    # An empty label, never shown: without one WTForms translates a default label, loading
    # its own catalogue from disk on every page of the queue.
    decision = HiddenField(
        "", validators=[max_length(32), AnyOf(DECISION_VALUES, message=_l("Décision inconnue."))]
    )
    message = TextAreaField(
        _l("Message aux candidats (facultatif, joint à l'email)"),
        validators=[max_length(2000, _l("2000 caractères au plus.")), Optional(), MultilineText()],
    )


class OutcomeForm(FlaskForm):
    """An outcome for one or several participants of a cohort (``references`` is read as a list).

    The reason is only parsed here: whether one is needed is the workflow's rule.
    """

    outcome = HiddenField(validators=[max_length(32), AnyOf(OUTCOME_VALUES, message=_l("Résultat inconnu."))])
    reason = SelectField(
        _l("Motif (si la formation n'est pas achevée)"),
        choices=[("", _l("— Choisir un motif —")), *CompletionReason.choices()],
        validate_choice=False,
        validators=[
            max_length(32),
            Optional(),
            AnyOf(CompletionReason.values(), message=_l("Motif inconnu.")),
        ],
    )
    page = IntegerField(validators=[Optional()])
