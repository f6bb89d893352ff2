"""The reviewer journey: the application page, reviews, decisions and their emails."""

import re

import pytest
from sqlalchemy import func, select

from portal.applications.models import Application, Document, StatusChange
from portal.audit import AuditEvent
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.review.models import Review
from tests import factories
from tests.helpers import message_text


def _fresh(application):
    db.session.expire_all()
    return db.session.get(Application, application.id)


def _review_data(motivation=4, engagement=3, fit=5, recommendation="accept", comment="Très bon dossier."):
    return {
        "score_motivation": str(motivation),
        "score_engagement": str(engagement),
        "score_fit": str(fit),
        "recommendation": recommendation,
        "comment": comment,
    }


@pytest.fixture
def setting(app, client):
    """An offering with one assigned reviewer (logged in) and one submitted application."""
    offering = factories.offering(seats=2)
    reviewer = factories.reviewer(offering)
    applicant = factories.user(
        email="salma@example.org",
        profile={"first_name": "Salma", "last_name": "Bennani", "cin": "AB123456", "phone": "+212612345678"},
    )
    application = factories.application(
        applicant, offering, motivation="Je veux numériser notre association."
    )
    db.session.commit()
    assert factories.login(client, reviewer).status_code == 302
    return offering, reviewer, application


def test_whole_reviewer_journey_through_the_forms_with_emails_on_smtp(setting, client, deliver, smtp_server):
    offering, reviewer, application = setting
    ref = application.reference

    # The queue lists the application; its page shows the whole file.
    queue = client.get("/review")
    assert queue.status_code == 200
    assert ref in queue.text
    page = client.get(f"/review/applications/{ref}")
    assert page.status_code == 200
    for expected in (
        "Salma",
        "Bennani",
        "AB123456",
        "+212612345678",
        "salma@example.org",
        "numériser notre association",
    ):
        assert expected in page.text
    assert 'name="score_motivation"' in page.text and 'value="accepted"' in page.text

    # A review missing its scores is refused next to the fields, keeping the comment.
    bad = client.post(
        f"/review/applications/{ref}", data={"recommendation": "accept", "comment": "Garde-moi"}
    )
    assert bad.status_code == 422
    assert "Notez ce critère de 0 à 5." in bad.text
    assert "Garde-moi" in bad.text
    assert 'aria-describedby="score_motivation-error"' in bad.text
    assert _fresh(application).status == "submitted"

    # The first review moves the application under review and emails the applicant.
    saved = client.post(
        f"/review/applications/{ref}", data=_review_data(4, 3, 5, comment="Motivation claire.")
    )
    assert saved.status_code == 302
    application = _fresh(application)
    assert application.status == "under_review"
    assert application.mean_score == pytest.approx(12.0)
    page = client.get(f"/review/applications/{ref}")
    assert "Motivation claire." in page.text
    assert "Modifier mon évaluation" in page.text

    # Editing keeps one review per reviewer; the mean follows.
    client.post(f"/review/applications/{ref}", data=_review_data(5, 5, 5, comment="Revu à la hausse."))
    assert db.session.scalar(select(func.count()).select_from(Review)) == 1
    assert _fresh(application).mean_score == pytest.approx(15.0)

    # Accept with a message: the seat is taken, the message goes to the applicant.
    version = _fresh(application).version
    decided = client.post(
        f"/review/applications/{ref}/decide",
        data={"decision": "accepted", "message": "Bienvenue dans la promotion !", "version": str(version)},
    )
    assert decided.status_code == 302
    application = _fresh(application)
    assert application.status == "accepted"
    assert application.confirmation_deadline is not None
    assert application.offering.seats_held == 1
    last = application.history[-1]
    assert (last.from_status, last.to_status, last.actor_id, last.note) == (
        "under_review",
        "accepted",
        reviewer.id,
        "Bienvenue dans la promotion !",
    )
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "decision")).all()
    assert [(a.object_id, a.before, a.after, a.actor_id) for a in audit] == [
        (ref, {"status": "under_review"}, {"status": "accepted"}, reviewer.id)
    ]

    # Reviews are closed once decided.
    late = client.post(f"/review/applications/{ref}", data=_review_data(0, 0, 0), follow_redirects=True)
    assert "ne peut plus être évaluée" in late.text
    assert _fresh(application).mean_score == pytest.approx(15.0)

    # Both emails reach the SMTP server, in French, the decision's message included.
    deliver()
    messages = smtp_server.wait_for(2)
    to_applicant = smtp_server.to("salma@example.org")
    assert len(messages) == 2 and len(to_applicant) == 2
    subjects = [m["Subject"] for m in to_applicant]
    assert any("en cours d'examen" in s for s in subjects)
    accepted = next(m for m in to_applicant if "Bonne nouvelle" in m["Subject"])
    assert "Bienvenue dans la promotion !" in message_text(accepted)
    assert f"/me/applications/{ref}" in message_text(accepted)
    # Reviewer comments and scores never reach the applicant.
    for message in to_applicant:
        assert "Revu à la hausse" not in message_text(message)


def test_mean_score_is_the_mean_of_the_reviewers_totals(setting, client):
    offering, reviewer, application = setting
    second = factories.reviewer(offering)
    db.session.commit()
    client.post(f"/review/applications/{application.reference}", data=_review_data(4, 4, 4))  # 12
    other = client.application.test_client()
    factories.login(other, second)
    other.post(f"/review/applications/{application.reference}", data=_review_data(1, 2, 3))  # 6
    application = _fresh(application)
    assert application.mean_score == pytest.approx(9.0)
    # One status change after the submission: the second review does not move it again.
    assert [c.to_status for c in application.history] == ["submitted", "under_review"]
    page = client.get(f"/review/applications/{application.reference}")
    assert page.text.count('data-reviewer="') == 2
    assert "9,0" in page.text  # French decimal comma


@pytest.mark.parametrize(
    ("decision", "subject", "status"),
    [
        ("waitlisted", "liste d'attente", "waitlisted"),
        ("rejected", "Réponse à votre candidature", "rejected"),
    ],
)
def test_waitlist_and_reject_send_their_email_with_the_message(
    setting, client, deliver, smtp_server, decision, subject, status
):
    _, _, application = setting
    response = client.post(
        f"/review/applications/{application.reference}/decide",
        data={
            "decision": decision,
            "message": "Merci pour votre engagement.",
            "version": str(application.version),
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Décision enregistrée" in response.text
    assert _fresh(application).status == status
    deliver()
    [message] = smtp_server.wait_for(1)
    assert subject in message["Subject"]
    assert "Merci pour votre engagement." in message_text(message)
    if decision == "waitlisted":
        assert "rang sur la liste d'attente : 1" in message_text(message)


def test_decision_buttons_follow_the_transition_table(setting, client):
    offering, _, application = setting
    page = client.get(f"/review/applications/{application.reference}").text
    assert re.findall(r'name="decision" value="(\w+)"', page) == ["accepted", "waitlisted", "rejected"]

    waitlisted = factories.application(offering_=offering, status="waitlisted")
    confirmed = factories.application(offering_=offering, status="confirmed")
    db.session.commit()
    page = client.get(f"/review/applications/{waitlisted.reference}").text
    assert re.findall(r'name="decision" value="(\w+)"', page) == ["accepted", "rejected"]
    page = client.get(f"/review/applications/{confirmed.reference}").text
    assert re.findall(r'name="decision" value="(\w+)"', page) == []
    assert "Aucune décision n'est possible" in page

    # Forging a decision the table forbids is refused cleanly.
    forged = client.post(
        f"/review/applications/{confirmed.reference}/decide",
        data={"decision": "rejected", "version": str(confirmed.version)},
        follow_redirects=True,
    )
    assert forged.status_code == 200
    assert "pas possible" in forged.text
    assert _fresh(confirmed).status == "confirmed"


def test_a_stale_version_is_refused_with_a_changed_meanwhile_message(setting, client):
    _, _, application = setting
    seen = application.version
    # Someone else wait-lists it first.
    client.post(
        f"/review/applications/{application.reference}/decide",
        data={"decision": "waitlisted", "version": str(seen)},
    )
    response = client.post(
        f"/review/applications/{application.reference}/decide",
        data={"decision": "accepted", "version": str(seen)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "modifiée entre-temps" in response.text
    application = _fresh(application)
    assert application.status == "waitlisted"
    assert application.offering.seats_held == 0


def test_junk_decisions_and_versions_never_give_a_500(setting, client):
    _, _, application = setting
    url = f"/review/applications/{application.reference}/decide"
    for data in (
        {"decision": "confirmed", "version": "1"},
        {"decision": "withdrawn"},
        {"decision": "accepted", "version": "abc"},
        {"decision": "", "message": "x" * 5000},
        {},
    ):
        response = client.post(url, data=data, follow_redirects=True)
        assert response.status_code == 200, data
    assert _fresh(application).status == "submitted"
    assert (
        client.post(
            f"/review/applications/{application.reference}", data={"score_motivation": "9"}
        ).status_code
        == 422
    )
    assert (
        client.post(f"/review/applications/{application.reference}", data={"score_fit": "x"}).status_code
        == 422
    )
    assert db.session.scalar(select(func.count()).select_from(Review)) == 0


def test_accepting_when_full_offers_the_waitlist_and_its_button_works(setting, client, deliver, smtp_server):
    offering, _, application = setting
    factories.application(offering_=offering, status="accepted")
    factories.application(offering_=offering, status="confirmed")
    db.session.commit()
    ref = application.reference
    changes = db.session.scalar(select(func.count()).select_from(StatusChange))

    refused = client.post(
        f"/review/applications/{ref}/decide",
        data={"decision": "accepted", "version": str(application.version)},
    )
    assert refused.status_code == 302
    assert "full=1" in refused.headers["Location"]
    page = client.get(refused.headers["Location"])
    assert "Toutes les places de cette session sont attribuées" in page.text
    assert 'id="offer-waitlist"' in page.text
    application = _fresh(application)
    assert application.status == "submitted"
    assert application.offering.seats_held == 2
    assert db.session.scalar(select(func.count()).select_from(StatusChange)) == changes

    # The offered button wait-lists it.
    version = re.search(r'id="offer-waitlist".*?name="version" value="(\d+)"', page.text, re.S).group(1)
    client.post(f"/review/applications/{ref}/decide", data={"decision": "waitlisted", "version": version})
    assert _fresh(application).status == "waitlisted"
    deliver()
    [message] = smtp_server.wait_for(1)
    assert "liste d'attente" in message["Subject"]


def test_documents_download_for_assigned_reviewers_and_admins_only(setting, client, app):
    offering, _, application = setting
    from pathlib import Path

    folder = Path(app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "0123456789abcdef0123456789abcdef.pdf").write_bytes(b"%PDF-1.4 membership")
    doc = Document(
        application=application,
        kind="membership",
        original_name="attestation.pdf",
        stored_name="0123456789abcdef0123456789abcdef.pdf",
        content_type="application/pdf",
        size=19,
        sha256="0" * 64,
    )
    db.session.add(doc)
    outsider = factories.reviewer(factories.offering())
    admin = factories.user(role="admin")
    db.session.commit()

    page = client.get(f"/review/applications/{application.reference}").text
    url = f"/review/applications/{application.reference}/documents/{doc.id}"
    assert url in page
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == b"%PDF-1.4 membership"
    assert "attachment" in response.headers["Content-Disposition"]

    # The id of a document of another application does not work under this reference.
    other = factories.application(offering_=offering)
    db.session.commit()
    assert client.get(f"/review/applications/{other.reference}/documents/{doc.id}").status_code == 404

    for user, expected in ((outsider, 404), (admin, 200), (application.applicant, 404)):
        c = app.test_client()
        factories.login(c, user)
        assert c.get(url).status_code == expected, user.role


def test_concurrent_double_submit_of_a_review_keeps_one_row(setting, client):
    """Saving twice (e.g. a double click) updates the same row, never a second one."""
    _, reviewer, application = setting
    for comment in ("premier", "second"):
        assert (
            client.post(
                f"/review/applications/{application.reference}", data=_review_data(comment=comment)
            ).status_code
            == 302
        )
    rows = db.session.scalars(select(Review).where(Review.application_id == application.id)).all()
    assert [(r.reviewer_id, r.comment) for r in rows] == [(reviewer.id, "second")]


def test_outbox_rows_are_written_in_the_transaction_of_the_decision(setting, client):
    _, _, application = setting
    client.post(
        f"/review/applications/{application.reference}/decide",
        data={"decision": "rejected", "version": str(application.version)},
    )
    rows = db.session.scalars(select(OutboxEmail)).all()
    assert [(r.template, r.to_address) for r in rows] == [("status_rejected", "salma@example.org")]


def test_application_page_query_count_does_not_grow_with_reviews_and_history(setting, client, query_counter):
    offering, _, application = setting
    ref = application.reference
    client.post(f"/review/applications/{ref}", data=_review_data())
    client.get(f"/review/applications/{ref}")
    with query_counter() as small:
        client.get(f"/review/applications/{ref}")
    for _ in range(4):
        other = client.application.test_client()
        factories.login(other, factories.reviewer(offering))
        db.session.commit()
        other.post(f"/review/applications/{ref}", data=_review_data(comment="Encore un avis."))
    with query_counter() as big:
        page = client.get(f"/review/applications/{ref}")
    assert page.text.count('data-reviewer="') == 5
    assert big.count == small.count, big.statements


@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_nobody_examines_or_decides_on_their_own_application(app, client, role):
    from portal.applications import workflow
    from portal.review import operations

    offering = factories.offering(seats=2)
    staff = factories.reviewer(offering) if role == "reviewer" else factories.user(role="admin")
    # Their application from before they were staff (or made directly), beside another one.
    own = factories.application(staff, offering)
    other = factories.application(factories.user(), offering)
    db.session.commit()
    own_ref, other_ref = own.reference, other.reference
    assert factories.login(client, staff).status_code == 302

    queue = client.get("/review").text
    assert f"/review/applications/{other_ref}" in queue and f"/review/applications/{own_ref}" not in queue
    assert f"/review/applications/{own_ref}" not in client.get(f"/review?q={own_ref}").text
    assert client.get(f"/review/applications/{own_ref}").status_code == 404
    response = client.post(f"/review/applications/{own_ref}/decide", data={"decision": "accepted"})
    assert response.status_code == 404
    client.post("/review/decide", data={"decision": "accepted", "references": [own_ref, other_ref]})
    assert _fresh(own).status == "submitted" and _fresh(other).status == "accepted"

    # The workflow refuses it whatever the path (page, bulk, command line, code).
    own, staff = _fresh(own), db.session.merge(staff)
    with pytest.raises(workflow.NotAllowed):
        operations.decide(staff, own, "accepted")
    with pytest.raises(workflow.NotAllowed):
        workflow.transition(own, "accepted", staff)
    db.session.rollback()
    assert _fresh(own).status == "submitted"
