"""One definition per vocabulary: the groups agree with the transition tables, and no bare
value of a vocabulary is written anywhere else in portal/ or templates/."""

import re
from pathlib import Path

import pytest

from portal.applications.states import TRANSITIONS
from portal.catalog.workflow import OFFERING_TRANSITIONS
from portal.vocabulary import (
    ALL,
    ApplicationStatus,
    EducationLevel,
    OfferingStatus,
    OutboxStatus,
    Recommendation,
    Role,
)

ROOT = Path(__file__).resolve().parents[2]
A = ApplicationStatus


def test_the_application_table_covers_every_status():
    assert set(TRANSITIONS) == set(A)


def test_final_statuses_are_those_with_no_next_status():
    assert {status for status, nexts in TRANSITIONS.items() if not nexts} == A.FINAL
    assert set(A) - A.FINAL == A.ACTIVE


def test_seat_holding_statuses_are_a_decision_a_confirmation_or_the_outcome_of_a_confirmed_seat():
    # Active ones, and the cohort's outcomes, reached only from a confirmed seat.
    assert A.SEAT_HOLDING - set(A.OUTCOMES) == {A.ACCEPTED, A.CONFIRMED} <= A.ACTIVE
    assert {A.CONFIRMED} == {source for source, nexts in TRANSITIONS.items() if nexts & set(A.OUTCOMES)}


def test_decisions_are_the_moves_out_of_an_undecided_status():
    for status in A.UNDECIDED:
        assert set(A.DECISIONS) <= TRANSITIONS[status]
    assert set(A.DECISIONS) == A.DECIDED
    assert all(d.button and d.action_label for d in A.DECISIONS)


def test_the_offering_table_covers_every_status_and_new_ones_start_in_an_initial_status():
    assert set(OFFERING_TRANSITIONS) == set(OfferingStatus)
    assert set(OfferingStatus) >= OfferingStatus.INITIAL


def test_outbox_groups():
    assert {OutboxStatus.PENDING, OutboxStatus.SENDING} == OutboxStatus.QUEUED
    assert set(OutboxStatus.TABS) | OutboxStatus.QUEUED == set(OutboxStatus)


def test_staff_roles():
    assert set(Role.STAFF) == set(Role) - {Role.APPLICANT}


@pytest.mark.parametrize("vocabulary", ALL, ids=[v.__name__ for v in ALL])
def test_members_equal_their_stored_string_and_carry_a_label(vocabulary):
    for member in vocabulary:
        assert member == member.value and str(member) == member.value and f"{member}" == member.value
        assert isinstance(member.value, str) and len(member.value) <= 16
        assert str(member.label)
    assert vocabulary.label_of("not-a-value") == "not-a-value"


def test_application_statuses_are_badges():
    for status in A:
        assert status.badge and status.symbol


def test_education_levels_are_ranked_from_the_lowest():
    assert [level.rank for level in EducationLevel] == list(range(len(EducationLevel)))
    assert EducationLevel.rank_of("licence") > EducationLevel.rank_of("baccalaureate")
    assert EducationLevel.rank_of("unknown") == -1


def test_recommendations_have_a_label_to_write_inside_a_sentence():
    assert all(str(r.inline_label) for r in Recommendation)


# --- No bare value outside portal/vocabulary.py and the migrations -----------------------

# Every value, quoted exactly ('waitlisted' or "waitlisted"), except "cin": the document
# kind shares its name with the profile's CIN field, its inputs and its data export key.
VALUES = sorted({member.value for vocabulary in ALL for member in vocabulary} - {"cin"})
QUOTED = re.compile(r"""(["'])(""" + "|".join(re.escape(v) for v in VALUES) + r""")\1""")

# Quoted words that are also ordinary identifiers, each with why it is not the vocabulary.
# Matched on the whole stripped line, so that a new use of the same word is still caught.
NOT_VOCABULARY = {
    # The admin blueprint's name, not the role.
    ("portal/admin/__init__.py", 'bp = Blueprint("admin", __name__)'),
    # A comment naming the buttons of the new-offering form (values from OfferingStatus).
    (
        "portal/admin/forms.py",
        '# The button clicked, "open" (open now) or "draft" (save as a draft): no default, the',
    ),
    # Bootstrap's "secondary" colour for a status that is not one, not the education level.
    ("portal/templating.py", 'colour, symbol = "secondary", "•"'),
    # The bulk decision report's list of refused applications, not an outbox status.
    ("portal/review/views.py", '"failed": [[why, refs] for why, refs in reasons.items()],'),
    (
        "portal/review/views.py",
        'report["failed"] = [(ref, why) for why, refs in report.get("failed", []) for ref in refs]',
    ),
    # Content-Security-Policy keywords.
    ("portal/security.py", "\"object-src 'none'\","),
    ("portal/security.py", "\"frame-ancestors 'none'\","),
    # The HTML accept attribute of the file input, not a recommendation.
    (
        "portal/applications/forms.py",
        'field_flags = {"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}',
    ),
    # The anchor of the privacy notice's section on the person's rights.
    ("templates/catalog/privacy.html", '<ul id="rights">'),
}


def _sources():
    for path in sorted((ROOT / "portal").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative == "portal/vocabulary.py" or "/migrations/" in relative:
            continue
        yield relative, path
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.suffix in (".html", ".txt"):
            yield path.relative_to(ROOT).as_posix(), path


def test_no_bare_vocabulary_value_outside_its_definition():
    found = []
    for relative, path in _sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if QUOTED.search(line) and (relative, line.strip()) not in NOT_VOCABULARY:
                found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, "bare vocabulary values (use portal/vocabulary.py):\n" + "\n".join(found)


def test_the_exclusions_still_exist():
    """An exclusion whose line is gone would silently excuse a future line like it."""
    lines = {
        (relative, line.strip()) for relative, path in _sources() for line in path.read_text().splitlines()
    }
    assert lines >= NOT_VOCABULARY
