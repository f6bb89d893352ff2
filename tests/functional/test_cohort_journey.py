"""From selected to trained, tried as a new user would (issue 15): a reviewer records a
started course's cohort, the participants are emailed and download their certificates,
anyone verifies one by its QR code's address until an administrator revokes it, and the
programme's reach counts the actors trained and the associations reached in the region."""

import io
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from pypdf import PdfReader

from portal.associations.models import Association
from portal.auth.models import User
from portal.certificates.models import Certificate
from portal.extensions import db
from portal.timeutil import local_day, utcnow
from tests import factories
from tests.helpers import admin_client, message_text, page_text, reach_cells


def _member(association, locale="fr"):
    applicant = factories.user(locale=locale)
    applicant.profile.association = association
    db.session.flush()
    return applicant


def _association(number):
    entry = Association(
        name_fr=f"Association {number}", registration_number=number, registration_key=number, field="social"
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _logged_in(app, user_id):
    client = app.test_client()
    assert factories.login(client, db.session.get(User, user_id)).status_code == 302
    return client


def _qr_address(pdf):
    """The address the certificate's QR code stands for (also a link on the code)."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    (uri,) = [a.get_object()["/A"]["/URI"] for a in page.get("/Annots", [])]
    return uri


def test_a_cohort_from_its_outcomes_to_certificates_verified_revoked_and_counted(app, deliver, smtp_server):
    region = factories.region(code="SM")
    agadir = factories.city("Agadir", region=region, slug="agadir")
    start = datetime.combine(local_day(utcnow()) - timedelta(days=3), time())
    offering = factories.offering(city=agadir, course_starts_on=start)
    amal, nour, atlas = _association("AGA-1"), _association("AGA-2"), _association("AGA-3")
    # Two members of one association, one of another, all three complete; the fourth,
    # of a third association, never came.
    salma, karim, youssef, hind = _member(amal), _member(amal), _member(nour, "ar"), _member(atlas)
    people = (salma, karim, youssef, hind)
    applications = {u.id: factories.application(u, offering, status="confirmed") for u in people}
    reviewer = factories.reviewer(offering)
    db.session.commit()
    # Read before delivering the outbox, which ends the session the objects belong to.
    refs = {user_id: a.reference for user_id, a in applications.items()}
    application_ids = {user_id: a.id for user_id, a in applications.items()}
    emails = {u.id: u.email for u in people}
    salma_name = salma.profile.last_name
    salma, karim, youssef, hind, reviewer = (u.id for u in (*people, reviewer))
    offering_id = offering.id

    # The reviewer records the cohort: three completed in one go, one who never came.
    staff = _logged_in(app, reviewer)
    path = f"/review/offerings/{offering_id}/cohort"
    assert staff.get(path).status_code == 200
    done = [refs[salma], refs[karim], refs[youssef]]
    assert staff.post(path, data={"references": done, "outcome": "completed"}).status_code == 302
    response = staff.post(
        path, data={"references": [refs[hind]], "outcome": "not_completed", "reason": "never_came"}
    )
    assert response.status_code == 302

    # The three get an email in their language, pointing to their application's page.
    smtp_server.messages.clear()
    assert deliver()[0] == 4
    for user in (salma, karim, youssef):
        (message,) = smtp_server.to(emails[user])
        assert f"/me/applications/{refs[user]}" in message_text(message)
    assert "Félicitations" in message_text(smtp_server.to(emails[salma])[0])
    arabic = message_text(smtp_server.to(emails[youssef])[0])
    assert "Félicitations" not in arabic and any("\u0600" <= c <= "\u06ff" for c in arabic)

    # Each downloads the certificate: French for two, Arabic for one.
    addresses = {}
    for user, lang in ((salma, "fr"), (karim, "fr"), (youssef, "ar")):
        client = _logged_in(app, user)
        detail = page_text(client.get(f"/me/applications/{refs[user]}"))
        assert "certificate.pdf" in detail
        pdf = client.get(f"/me/applications/{refs[user]}/certificate.pdf?lang={lang}")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        addresses[user] = _qr_address(pdf.data)
    # The one who never came has no certificate.
    absent = _logged_in(app, hind)
    assert absent.get(f"/me/applications/{refs[hind]}/certificate.pdf?lang=fr").status_code == 404

    # Scanning Salma's QR code opens the public verification page: valid.
    visitor = app.test_client()
    verify_path = urlsplit(addresses[salma]).path
    assert verify_path.startswith("/verify/")
    page = page_text(visitor.get(verify_path))
    assert 'data-result="valid"' in page and salma_name in page

    # An administrator revokes it: the same address now says so.
    admin, _admin = admin_client(app)
    certificate = db.session.scalar(
        db.select(Certificate).where(Certificate.application_id == application_ids[salma])
    )
    revoked = admin.post(f"/admin/certificates/{certificate.id}/revoke", data={"reason": "Erreur de saisie"})
    assert revoked.status_code == 302
    assert 'data-result="revoked"' in page_text(visitor.get(verify_path))
    assert 'data-result="valid"' in page_text(visitor.get(urlsplit(addresses[karim]).path))

    # The reach: 3 actors trained in the region, from 2 associations (the one whose
    # member never came is not reached).
    html = admin.get("/admin/reach").get_data(as_text=True)
    figures = reach_cells(html, "region-SM")
    assert (figures["actors"], figures["associations"]) == ("3", "2")
    assert reach_cells(html, "city-agadir")["actors"] == "3"
