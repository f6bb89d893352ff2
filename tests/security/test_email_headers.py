"""Issue 6 point 13 (ASVS 5.2.3): CR/LF in a name or a subject never adds an email header.

The forms already refuse line breaks in names and titles; these tests plant them in the
database directly (as older code or an import could have), then run the real path —
the page that causes the email, the outbox, delivery to the real SMTP server on
loopback — and read the received messages' headers.
"""

import re

from sqlalchemy import select

from portal.applications.models import Interest
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories
from tests.security import formdata
from tests.security import world as w

INJECTION = "\r\nBcc: spy@evil.test\r\nX-Injected: yes\r\n\r\nforged body"
STANDARD_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
}


def assert_clean(message):
    """No header but the standard ones; the subject is one line."""
    names = {name.lower() for name in message}  # the header names
    assert names <= STANDARD_HEADERS, names
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
    # The header block ends at the first empty line (what follows is the body, where a
    # line "Bcc: ..." is only text).
    headers = message.as_string().replace("\r\n", "\n").split("\n\n", 1)[0]
    assert not re.search(r"^(Bcc|X-Injected):", headers, re.M | re.I)
    assert "spy@evil.test" not in str(message["To"])


def test_line_breaks_in_a_track_title_and_city_name_stay_in_one_subject_line(app, smtp_server, deliver):
    track = factories.track(title_fr="Numérique" + INJECTION)
    city = factories.city("Fès" + INJECTION)
    applicant = factories.user(profile={"city": city})
    factories.reviewer()
    db.session.add(Interest(applicant_id=applicant.id, track_id=track.id, city_id=city.id))
    admin = factories.user(role="admin")
    client = w.new_client(app)
    factories.login(client, admin)
    response = client.post("/admin/offerings/new", data=formdata.new_offering(track, city))
    assert response.status_code == 302
    address = applicant.email
    assert deliver()[0] == 1
    messages = smtp_server.wait_for(1)
    assert len(messages) == 1 and smtp_server.to(address) == messages
    message = messages[0]
    assert_clean(message)
    assert "Numérique" in str(message["Subject"]) and "Bcc: spy@evil.test" in str(message["Subject"])
    assert smtp_server.to("spy@evil.test") == []


def test_line_breaks_in_an_applicant_name_never_reach_the_headers(app, smtp_server, deliver):
    offering = factories.offering()
    applicant = factories.user(profile={"first_name": "Amina" + INJECTION, "last_name": "Test" + INJECTION})
    client = w.new_client(app)
    factories.login(client, applicant)
    response = client.post(
        f"/apply/{offering.id}", data=formdata.application(), content_type="multipart/form-data"
    )
    assert response.status_code == 302
    deliver()
    messages = smtp_server.wait_for(1)
    assert len(messages) == 1
    assert_clean(messages[0])


def test_the_forms_refuse_line_breaks_where_they_could_reach_an_email(app):
    city = factories.city()
    client = w.new_client(app)
    response = client.post("/auth/register", data=formdata.registration(city, first_name="Amina" + INJECTION))
    assert "caractères non autorisés" in response.get_data(as_text=True)
    admin = factories.user(role="admin")
    factories.login(client, admin)
    response = client.post("/admin/tracks/new", data=formdata.track_form(title_fr="Titre" + INJECTION))
    assert "caractères non autorisés" in response.get_data(as_text=True)
    assert db.session.scalar(select(OutboxEmail)) is None


def test_an_outbox_row_with_line_breaks_is_sent_on_one_line_or_not_at_all(app, smtp_server, deliver):
    user = factories.user()
    db.session.add_all(
        [
            OutboxEmail(
                to_address=user.email,
                template="confirm_email",
                locale="fr",
                subject="Bonjour" + INJECTION,
                body_text="Texte",
                body_html="<p>Texte</p>",
                user_id=user.id,
            ),
            OutboxEmail(
                to_address=user.email + "\r\nBcc: spy@evil.test",
                template="confirm_email",
                locale="fr",
                subject="Bonjour",
                body_text="Texte",
                body_html="<p>Texte</p>",
                user_id=user.id,
            ),
        ]
    )
    db.session.commit()
    sent, failed = deliver()
    assert (sent, failed) == (1, 1)
    messages = smtp_server.wait_for(1)
    assert len(messages) == 1
    assert_clean(messages[0])
    rows = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert [r.status for r in rows] == ["sent", "failed"]
    assert smtp_server.to("spy@evil.test") == []
