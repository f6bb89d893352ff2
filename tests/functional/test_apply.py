"""Applying through the real form: the whole journey, duplicates, who may apply."""

import re
import threading
from pathlib import Path

from sqlalchemy import func, select

from portal.applications.models import Application
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories
from tests.helpers import (
    BENEFIT,
    MOTIVATION,
    find_link,
    message_text,
    page_text,
    post_application,
    stored_files,
    submission_counts,
)
from tests.samples import PDF, PNG


def test_apply_journey_submit_receive_download_withdraw(app, client, smtp_server, deliver):
    offering = factories.offering(seats=25)
    for _ in range(3):
        factories.application(offering_=offering, status="accepted")
    applicant = factories.user(email="amina@example.org")
    factories.login(client, applicant)

    page = client.get(f"/apply/{offering.id}")
    assert page.status_code == 200
    text = page_text(page)
    assert offering.track.title_fr in text and offering.city.name_fr in text
    assert "22 / 25" in text
    assert 'enctype="multipart/form-data"' in text

    response = post_application(client, offering, cin=(PNG, "ma cin.PNG"))
    assert response.status_code == 302
    application = db.session.scalars(
        select(Application).where(Application.applicant_id == applicant.id)
    ).one()
    assert re.fullmatch(r"APP-\d{4}-\d{6}", application.reference)
    assert application.reference == f"APP-{application.submitted_at.year}-{application.id:06d}"
    assert response.location.endswith(f"/me/applications/{application.reference}")
    assert application.status == "submitted"
    assert application.motivation == MOTIVATION.strip() and application.expected_benefit == BENEFIT
    [first] = application.history
    assert (first.from_status, first.to_status, first.actor_id) == (None, "submitted", applicant.id)

    docs = {d.kind: d for d in application.documents}
    assert set(docs) == {"membership", "cin"}
    assert docs["membership"].content_type == "application/pdf"
    assert docs["membership"].original_name == "attestation.pdf"
    assert docs["cin"].content_type == "image/png" and docs["cin"].original_name == "ma_cin.png"
    for doc in docs.values():
        assert re.fullmatch(r"[0-9a-f]{32}\.(pdf|png)", doc.stored_name)
        assert "attestation" not in doc.stored_name
    assert stored_files(app) == sorted(d.stored_name for d in docs.values())
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert (folder / docs["membership"].stored_name).read_bytes() == PDF
    assert docs["membership"].size == len(PDF)

    detail = client.get(response.location)
    assert detail.status_code == 200
    assert application.reference in page_text(detail) and "Déposée" in page_text(detail)

    # The acknowledgement arrives on the SMTP server with the reference and the link.
    reference, membership_id, applicant_id = application.reference, docs["membership"].id, applicant.id
    assert deliver()[0] == 1  # (the delivery ends the session: reload what is needed after it)
    [message] = smtp_server.wait_for(1)
    assert "amina@example.org" in message["To"]
    assert reference in message["Subject"]
    assert reference in message_text(message)
    link = find_link(message, f"/me/applications/{reference}")
    assert client.get(link).status_code == 200

    download = client.get(f"/me/applications/{reference}/documents/{membership_id}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "attestation.pdf" in download.headers["Content-Disposition"]

    # Withdrawing goes through the workflow: status, history and an email.
    withdraw_page = page_text(client.get(link))
    assert f'action="/me/applications/{reference}/withdraw"' in withdraw_page
    assert "data-confirm=" in withdraw_page
    withdrawn = client.post(f"/me/applications/{reference}/withdraw")
    assert withdrawn.status_code == 302
    application = db.session.scalars(select(Application).where(Application.reference == reference)).one()
    assert application.status == "withdrawn"
    last = application.history[-1]
    assert (last.from_status, last.to_status, last.actor_id) == ("submitted", "withdrawn", applicant_id)
    smtp_server.clear()
    assert deliver()[0] == 1
    [notice] = smtp_server.wait_for(1)
    assert "amina@example.org" in notice["To"]
    assert reference in message_text(notice)
    after = page_text(client.get(link))
    assert "Retirée" in after
    assert f"/me/applications/{reference}/withdraw" not in after


def test_a_second_submission_to_the_same_offering_redirects_to_the_first(app, client):
    offering = factories.offering()
    applicant = factories.user()
    factories.login(client, applicant)
    first = post_application(client, offering)
    assert first.status_code == 302
    again = post_application(client, offering)
    assert again.status_code == 302
    assert again.location == first.location
    assert db.session.scalar(select(func.count()).select_from(Application)) == 1
    assert len(stored_files(app)) == 1
    shown = page_text(client.get(again.location))
    assert "Vous avez déjà postulé à cette session" in shown
    # The form page itself sends them to their application as well.
    assert client.get(f"/apply/{offering.id}").location == first.location


def test_simultaneous_double_submit_creates_one_application_and_no_error(app):
    offering = factories.offering()
    applicant = factories.user()
    db.session.commit()
    clients = [app.test_client() for _ in range(2)]
    for c in clients:
        factories.login(c, applicant)
    # The threads use ids only, and this test's transaction ends: on SQLite an open one
    # would hold the write lock.
    offering_id = offering.id
    db.session.commit()
    barrier = threading.Barrier(2)
    results = []

    def submit(c):
        with app.app_context():
            barrier.wait()
            results.append(post_application(c, offering_id))
            db.session.remove()

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [r.status_code for r in results] == [302, 302]
    [application] = db.session.scalars(select(Application)).all()
    assert {r.location for r in results} == {f"/me/applications/{application.reference}"}
    assert len(application.documents) == 1
    assert len(application.history) == 1
    # The loser's file, if it wrote one, was removed with its rolled-back transaction.
    assert stored_files(app) == [application.documents[0].stored_name]
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 1


def test_staff_unknown_and_draft_offerings_and_profileless_accounts_get_404(app, client):
    offering = factories.offering()
    draft = factories.offering(status="draft")
    reviewer = factories.reviewer(offering)
    factories.login(client, reviewer)
    assert client.get(f"/apply/{offering.id}").status_code == 404
    assert post_application(client, offering).status_code == 404
    client.post("/auth/logout")

    applicant = factories.user()
    factories.login(client, applicant)
    assert client.get("/apply/999999").status_code == 404
    assert client.get(f"/apply/{draft.id}").status_code == 404
    client.post("/auth/logout")

    orphan = factories.user()
    orphan.profile = None
    db.session.flush()
    factories.login(client, orphan)
    assert client.get(f"/apply/{offering.id}").status_code == 404
    assert submission_counts()["Application"] == 0


def test_apply_requires_login(app, client):
    offering = factories.offering()
    response = client.get(f"/apply/{offering.id}")
    assert response.status_code == 302
    assert "/auth/login" in response.location
