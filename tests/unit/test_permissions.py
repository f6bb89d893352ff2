"""Who may do what in the review area: permission functions and the 404s they produce."""

import pytest
from sqlalchemy import func, select

from portal import permissions
from portal.applications.models import Application, Document
from portal.applications.states import TRANSITIONS
from portal.extensions import db
from portal.review.models import Review
from portal.vocabulary import ApplicationStatus
from tests import factories

S = ApplicationStatus

# The table of DESIGN.md §3, written out independently of the code.
EXPECTED_TABLE = {
    "submitted": {"under_review", "accepted", "waitlisted", "rejected", "withdrawn"},
    "under_review": {"accepted", "waitlisted", "rejected", "withdrawn"},
    "waitlisted": {"accepted", "rejected", "withdrawn"},
    "accepted": {"confirmed", "expired", "withdrawn"},
    "confirmed": {"withdrawn", "completed", "not_completed"},
    "rejected": set(),
    "withdrawn": set(),
    "expired": set(),
    "completed": set(),
    "not_completed": set(),
}


def test_transition_table_is_the_designed_one_and_made_of_frozensets():
    assert {s.value: {t.value for t in nexts} for s, nexts in TRANSITIONS.items()} == EXPECTED_TABLE
    assert all(isinstance(nexts, frozenset) for nexts in TRANSITIONS.values())


@pytest.fixture
def world(app):
    """Offerings A and B, a reviewer of each, an admin, and an application on each."""
    a, b = factories.offering(), factories.offering()
    reviewer_a, reviewer_b = factories.reviewer(a), factories.reviewer(b)
    admin = factories.user(role="admin")
    app_a = factories.application(offering_=a)
    app_b = factories.application(offering_=b)
    db.session.commit()
    return {
        "a": a,
        "b": b,
        "reviewer_a": reviewer_a,
        "reviewer_b": reviewer_b,
        "admin": admin,
        "app_a": app_a,
        "app_b": app_b,
    }


@pytest.mark.parametrize("status", [s.value for s in ApplicationStatus])
def test_decision_buttons_are_derived_from_the_table(world, status):
    application = factories.application(offering_=world["a"], status=status)
    expected = [s for s in (S.ACCEPTED, S.WAITLISTED, S.REJECTED) if s in TRANSITIONS[S(status)]]
    assert permissions.decisions_for(world["reviewer_a"], application) == expected
    assert permissions.decisions_for(world["admin"], application) == expected
    assert permissions.decisions_for(world["reviewer_b"], application) == []
    assert permissions.decisions_for(application.applicant, application) == []
    assert permissions.can_review(world["reviewer_a"], application) is (
        status in ("submitted", "under_review")
    )


def test_permission_functions_combine_role_assignment_and_activity(world):
    app_a, ra, rb, admin = world["app_a"], world["reviewer_a"], world["reviewer_b"], world["admin"]
    applicant = app_a.applicant
    assert permissions.can_examine(ra, app_a) and permissions.can_examine(admin, app_a)
    assert not permissions.can_examine(rb, app_a)
    assert not permissions.can_examine(applicant, app_a)
    assert permissions.can_view_application(applicant, app_a)
    assert permissions.can_use_queue(ra) and permissions.can_use_queue(admin)
    assert not permissions.can_use_queue(applicant)
    assert not permissions.can_transition(ra, app_a, "withdrawn")  # the applicant's move only
    assert not permissions.can_transition(applicant, app_a, "accepted")
    ra.active = False
    assert not permissions.can_examine(ra, app_a)
    assert not permissions.can_review(ra, app_a)
    assert permissions.decisions_for(ra, app_a) == []


def _add_document(app, application):
    from pathlib import Path

    folder = Path(app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{application.id:032d}.pdf"
    (folder / stored).write_bytes(b"%PDF-1.4 secret")
    doc = Document(
        application=application,
        kind="cin",
        original_name="cin.pdf",
        stored_name=stored,
        content_type="application/pdf",
        size=15,
        sha256="0" * 64,
    )
    db.session.add(doc)
    db.session.commit()
    return doc


def test_reviewer_of_a_gets_404_for_everything_of_b_even_forged_posts(world, app, client):
    app_b = world["app_b"]
    doc = _add_document(app, app_b)
    ref = app_b.reference
    factories.login(client, world["reviewer_a"])

    assert client.get(f"/review/applications/{ref}").status_code == 404
    review = {"score_motivation": "5", "score_engagement": "5", "score_fit": "5", "recommendation": "accept"}
    assert client.post(f"/review/applications/{ref}", data=review).status_code == 404
    for decision in ("accepted", "waitlisted", "rejected"):
        forged = client.post(
            f"/review/applications/{ref}/decide", data={"decision": decision, "version": "1"}
        )
        assert forged.status_code == 404
    assert client.get(f"/review/applications/{ref}/documents/{doc.id}").status_code == 404
    assert client.get(f"/me/applications/{ref}/documents/{doc.id}").status_code == 404
    # Under the reference of an application they do review, B's document id is still 404.
    assert (
        client.get(f"/review/applications/{world['app_a'].reference}/documents/{doc.id}").status_code == 404
    )
    # Bulk: B's application is reported as not found and left alone.
    client.post("/review/decide", data={"references": [ref], "decision": "rejected"})
    db.session.expire_all()
    assert db.session.get(Application, app_b.id).status == "submitted"
    assert db.session.scalar(select(func.count()).select_from(Review)) == 0
    # An unknown reference looks exactly the same.
    assert client.get("/review/applications/APP-0000-000000").status_code == 404

    # The reviewer of B and an admin get in.
    for user in (world["reviewer_b"], world["admin"]):
        other = app.test_client()
        factories.login(other, user)
        assert other.get(f"/review/applications/{ref}").status_code == 200
        assert other.get(f"/review/applications/{ref}/documents/{doc.id}").status_code == 200


def test_applicants_get_404_on_every_review_url_even_for_their_own_application(world, client):
    app_a = world["app_a"]
    factories.login(client, app_a.applicant)
    ref = app_a.reference
    assert client.get("/review").status_code == 404
    assert client.get(f"/review/applications/{ref}").status_code == 404
    assert (
        client.post(
            f"/review/applications/{ref}",
            data={
                "score_motivation": "5",
                "score_engagement": "5",
                "score_fit": "5",
                "recommendation": "accept",
            },
        ).status_code
        == 404
    )
    assert client.post(f"/review/applications/{ref}/decide", data={"decision": "accepted"}).status_code == 404
    assert (
        client.post("/review/decide", data={"decision": "accepted", "references": [ref]}).status_code == 404
    )
    db.session.expire_all()
    assert db.session.get(Application, app_a.id).status == "submitted"


def test_unassigned_reviewer_has_an_empty_queue(world, app):
    loner = factories.user(role="reviewer")
    db.session.commit()
    client = app.test_client()
    factories.login(client, loner)
    page = client.get("/review")
    assert page.status_code == 200
    assert world["app_a"].reference not in page.text and world["app_b"].reference not in page.text
    assert client.get(f"/review/applications/{world['app_a'].reference}").status_code == 404


def test_applicant_pages_never_show_scores_reviews_or_comments(world, app, client):
    app_a = world["app_a"]
    ref = app_a.reference
    applicant = app_a.applicant
    factories.login(client, world["reviewer_a"])
    comment = "Zorglub-commentaire-confidentiel"
    client.post(
        f"/review/applications/{ref}",
        data={
            "score_motivation": "3",
            "score_engagement": "4",
            "score_fit": "2",
            "recommendation": "reject",
            "comment": comment,
        },
    )
    db.session.expire_all()
    assert db.session.get(Application, app_a.id).mean_score == pytest.approx(9.0)

    mine = app.test_client()
    factories.login(mine, applicant)
    for url in (f"/me/applications/{ref}", "/me"):
        page = mine.get(url)
        if page.status_code == 404 and url == "/me":
            continue
        assert page.status_code == 200, url
        assert comment not in page.text
        assert "/ 15" not in page.text and "9,0" not in page.text
        assert world["reviewer_a"].email not in page.text
    # The right of access (law 09-08) is another matter: the personal-data export gives the
    # person what reviewers wrote about them (tests/security/test_data_export.py).
    export = mine.get("/me/data.json").json
    (application,) = [a for a in export["applications"] if a["reference"] == ref]
    assert application["mean_score"] == pytest.approx(9.0)
    assert [r["comment"] for r in application["reviews"]] == [comment]
