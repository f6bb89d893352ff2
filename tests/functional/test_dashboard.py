"""The applicant's dashboard, an application's page, its documents and the applicant's actions."""

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.applications.models import Application, Document
from portal.applications.workflow import transition
from portal.extensions import db
from portal.review.models import Review
from tests import factories
from tests.helpers import message_text, page_text
from tests.samples import PDF

NOW = datetime(2026, 10, 15, 10, 0)


def with_document(application, app, content=PDF):
    """Attach a stored membership document to ``application``."""
    from pathlib import Path

    folder = Path(app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{application.id:032x}.pdf"
    (folder / name).write_bytes(content)
    doc = Document(
        application=application,
        kind="membership",
        original_name="attestation.pdf",
        stored_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256="0" * 64,
    )
    db.session.add(doc)
    db.session.flush()
    return doc


def urls(application, doc):
    """The applicant's URLs of one application."""
    base = f"/me/applications/{application.reference}"
    return {
        "detail": base,
        "document": f"{base}/documents/{doc.id}",
        "withdraw": base + "/withdraw",
        "confirm": base + "/confirm",
    }


# Dashboard -------------------------------------------------------------------------------


def test_dashboard_lists_applications_with_status_and_next_step(app, client, clock):
    clock.set(NOW)
    applicant = factories.user()
    applied = factories.offering()
    accepted = factories.application(applicant, applied, status="accepted")
    waitlist_offering = factories.offering()
    factories.application(factories.user(), waitlist_offering, status="waitlisted", mean_score=12.0)
    waitlisted = factories.application(applicant, waitlist_offering, status="waitlisted", mean_score=9.0)
    other_open = factories.offering()
    factories.login(client, applicant)

    response = client.get("/me")
    assert response.status_code == 200
    text = page_text(response)
    for application in (accepted, waitlisted):
        assert application.reference in text
        assert application.offering.track.title_fr in text
        assert application.offering.city.name_fr in text
    assert 'data-status="accepted"' in text and "Acceptée" in text
    assert 'data-status="waitlisted"' in text
    assert "confirmez votre place avant le" in text
    assert "Vous êtes en position 2 sur la liste d'attente." in text
    # Open offerings, without those already applied to; with two active applications the
    # applicant has reached the limit, and is told so instead of being offered the button.
    assert (
        f'<li class="list-group-item d-flex flex-wrap gap-2 justify-content-between align-items-center" data-offering="{other_open.id}"'
        in text
    )
    assert f"/apply/{other_open.id}" not in text
    assert "Vous avez déjà 2 candidatures en cours pour l'année" in text
    assert f"/apply/{applied.id}" not in text
    assert 'id="unconfirmed-banner"' not in text
    client.post(f"/me/applications/{waitlisted.reference}/withdraw")
    text = page_text(client.get("/me"))
    assert f"/apply/{other_open.id}" in text


def test_unconfirmed_applicant_sees_a_banner(app, client):
    factories.login(client, factories.user(email_confirmed_at=None))
    text = page_text(client.get("/me"))
    assert 'id="unconfirmed-banner"' in text
    assert "n'est pas encore confirmée" in text


@pytest.mark.parametrize(("role", "target"), [("reviewer", "/review"), ("admin", "/admin")])
def test_staff_are_sent_to_their_own_area(app, client, role, target):
    factories.login(client, factories.user(role=role))
    response = client.get("/me")
    assert response.status_code == 302
    assert response.location == target


def test_dashboard_requires_login(app, client):
    response = client.get("/me")
    assert response.status_code == 302 and "/auth/login" in response.location


def test_dashboard_query_count_does_not_grow_with_applications(app, client, query_counter):
    applicant = factories.user()
    factories.application(applicant, status="submitted")
    factories.offering()
    factories.login(client, applicant)
    client.get("/me")
    with query_counter() as few:
        assert client.get("/me").status_code == 200
    for status in ("under_review", "accepted", "rejected", "withdrawn", "confirmed"):
        factories.application(applicant, status=status)
        factories.offering()
    with query_counter() as many:
        assert client.get("/me").status_code == 200
    assert many.count == few.count


# An application's page -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "may_confirm", "may_withdraw"),
    [
        ("submitted", False, True),
        ("under_review", False, True),
        ("waitlisted", False, True),
        ("accepted", True, True),
        ("confirmed", False, True),
        ("rejected", False, False),
        ("withdrawn", False, False),
        ("expired", False, False),
    ],
)
def test_buttons_follow_the_permissions(app, client, status, may_confirm, may_withdraw):
    applicant = factories.user()
    application = factories.application(applicant, status=status)
    factories.login(client, applicant)
    text = page_text(client.get(f"/me/applications/{application.reference}"))
    assert f'data-status="{status}"' in text
    assert (f'action="/me/applications/{application.reference}/confirm"' in text) is may_confirm
    assert (f'action="/me/applications/{application.reference}/withdraw"' in text) is may_withdraw
    if may_withdraw:
        assert re.search(r'<form[^>]+/withdraw"[^>]*data-confirm="[^"]+"', text)


def test_timeline_shows_decision_messages_but_never_reviews_or_reviewers(app, client):
    offering = factories.offering()
    reviewer = factories.reviewer(offering, email="relecteur.secret@ofppt.ma")
    applicant = factories.user()
    application = factories.application(applicant, offering)
    db.session.add(
        Review(
            application=application,
            reviewer=reviewer,
            score_motivation=4,
            score_engagement=3,
            score_fit=5,
            recommendation="reject",
            comment="Commentaire interne du relecteur",
        )
    )
    transition(application, "under_review", reviewer, note="Note interne de passage en examen")
    transition(
        application, "rejected", reviewer, note="Votre association ne remplit pas la condition d'ancienneté."
    )
    factories.login(client, applicant)

    text = page_text(client.get(f"/me/applications/{application.reference}"))
    assert [m for m in re.findall(r'<li class="list-group-item" data-status="(\w+)"', text)] == [
        "submitted",
        "under_review",
        "rejected",
    ]
    assert "Votre association ne remplit pas la condition d'ancienneté." in text
    assert "Note interne de passage en examen" not in text
    assert "Commentaire interne du relecteur" not in text
    assert "relecteur.secret@ofppt.ma" not in text
    assert "recommendation" not in text.lower()


def test_accepted_page_shows_the_confirmation_deadline(app, client, clock):
    clock.set(NOW)
    applicant = factories.user()
    application = factories.application(applicant, status="accepted")
    factories.login(client, applicant)
    text = page_text(client.get(f"/me/applications/{application.reference}"))
    assert 'id="confirmation-deadline"' in text
    assert "Confirmez votre place avant le" in text
    assert "2026" in text.split('id="confirmation-deadline"')[1].split("</div>")[0]


# Confirming and withdrawing --------------------------------------------------------------


def test_confirm_seat_before_the_deadline(app, client, clock, smtp_server, deliver):
    clock.set(NOW)
    applicant = factories.user(email="confirm@example.org")
    application = factories.application(applicant, status="accepted")
    deadline, reference, applicant_id = application.confirmation_deadline, application.reference, applicant.id
    clock.set(deadline - timedelta(minutes=1))
    factories.login(client, applicant)
    response = client.post(f"/me/applications/{reference}/confirm")
    assert response.status_code == 302 and response.location == f"/me/applications/{reference}"
    assert "Votre place est confirmée." in page_text(client.get(response.location))
    application = db.session.scalars(select(Application)).one()
    assert application.status == "confirmed"
    last = application.history[-1]
    assert (last.from_status, last.to_status, last.actor_id) == ("accepted", "confirmed", applicant_id)
    assert application.offering.seats_held == 1
    assert deliver()[0] == 1
    [message] = smtp_server.wait_for(1)
    assert "confirm@example.org" in message["To"] and reference in message_text(message)


def test_confirm_seat_after_the_deadline_is_refused(app, client, clock):
    clock.set(NOW)
    applicant = factories.user()
    application = factories.application(applicant, status="accepted")
    reference = application.reference
    clock.set(application.confirmation_deadline + timedelta(minutes=1))
    factories.login(client, applicant)
    response = client.post(f"/me/applications/{reference}/confirm")
    assert response.status_code == 302
    assert "Le délai de confirmation de la place est dépassé." in page_text(client.get(response.location))
    application = db.session.scalars(select(Application)).one()
    assert application.status == "accepted"
    assert [c.to_status for c in application.history] == ["submitted", "accepted"]


def test_forbidden_action_is_a_message_not_an_error(app, client):
    applicant = factories.user()
    application = factories.application(applicant, status="rejected")
    factories.login(client, applicant)
    for action in ("withdraw", "confirm"):
        response = client.post(f"/me/applications/{application.reference}/{action}")
        assert response.status_code == 302
        assert "Cette action n'est pas possible pour cette candidature." in page_text(
            client.get(response.location)
        )
    assert db.session.scalars(select(Application)).one().status == "rejected"


def test_withdrawing_a_confirmed_seat_frees_it(app, client):
    applicant = factories.user()
    offering = factories.offering(seats=3)
    application = factories.application(applicant, offering, status="confirmed")
    assert offering.seats_held == 1
    factories.login(client, applicant)
    client.post(f"/me/applications/{application.reference}/withdraw")
    db.session.refresh(offering)
    assert offering.seats_held == 0
    assert db.session.scalars(select(Application)).one().status == "withdrawn"


# Who sees what ---------------------------------------------------------------------------


def test_another_applicant_gets_404_everywhere_and_changes_nothing(app, client):
    owner = factories.user()
    application = factories.application(owner, status="accepted")
    doc = with_document(application, app)
    paths = urls(application, doc)
    factories.login(client, factories.user())
    assert client.get(paths["detail"]).status_code == 404
    assert client.get(paths["document"]).status_code == 404
    assert client.post(paths["withdraw"]).status_code == 404
    assert client.post(paths["confirm"]).status_code == 404
    assert db.session.scalars(select(Application)).one().status == "accepted"
    # The owner, for comparison.
    client.post("/auth/logout")
    factories.login(client, owner)
    assert client.get(paths["detail"]).status_code == 200
    assert client.get(paths["document"]).data == PDF


def test_unknown_reference_or_document_of_another_application_is_404(app, client):
    owner = factories.user()
    mine = factories.application(owner)
    theirs = factories.application(factories.user())
    their_doc = with_document(theirs, app)
    factories.login(client, owner)
    assert client.get("/me/applications/APP-2026-999999").status_code == 404
    # A document id of someone else's application under my own reference.
    assert client.get(f"/me/applications/{mine.reference}/documents/{their_doc.id}").status_code == 404
    assert client.get(f"/me/applications/{theirs.reference}/documents/{their_doc.id}").status_code == 404


def test_documents_are_for_the_owner_assigned_reviewers_and_admins(app, client):
    offering = factories.offering()
    application = factories.application(factories.user(), offering)
    doc = with_document(application, app)
    paths = urls(application, doc)
    expectations = [
        (factories.reviewer(offering), 200),
        (factories.reviewer(factories.offering()), 404),
        (factories.user(role="admin"), 200),
    ]
    for user, status in expectations:
        factories.login(client, user)
        response = client.get(paths["document"])
        assert response.status_code == status
        if status == 200:
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Content-Disposition"].startswith("attachment")
        # The applicant's own page stays the applicant's.
        assert client.get(paths["detail"]).status_code == 404
        client.post("/auth/logout")


def test_application_pages_require_login(app, client):
    application = factories.application()
    doc = with_document(application, app)
    for name, path in urls(application, doc).items():
        response = client.post(path) if name in ("withdraw", "confirm") else client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.location
