"""A deadline shown as a day means the whole of that day, in Moroccan time.

The administrator picks the last day applications are accepted; the portal stores the
end of that day (Africa/Casablanca) in UTC, and the rule, the cards, the track page, the
apply page, the dashboards and the emails all agree on it.
"""

import html
import re
from datetime import date, datetime

import pytz
from sqlalchemy import select

from portal.catalog.models import Offering
from portal.catalog.operations import seed_catalogue
from portal.extensions import db
from portal.timeutil import local_day
from tests import factories
from tests.helpers import admin_client, page_text, post_application, takes_applications

CASABLANCA = pytz.timezone("Africa/Casablanca")


def moroccan(text):
    """The naive UTC moment of a Moroccan wall-clock time (``2027-01-30T23:30``)."""
    return CASABLANCA.localize(datetime.fromisoformat(text)).astimezone(pytz.utc).replace(tzinfo=None)


def visible_text(page):
    """The page's text without its tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def deadline_on_card(page, offering_id):
    """The deadline written on the catalogue card of ``offering_id``."""
    card = page.split(f"/apply/{offering_id}")[0].rsplit('class="card card-offering', 1)[1]
    return html.unescape(re.search(r'class="col-6 offering-deadline">([^<]+)<', card).group(1))


def test_applying_during_the_last_day_is_accepted_and_the_next_day_refused(app, clock):
    clock.set(moroccan("2026-12-01T09:00"))
    admin, _ = admin_client(app)
    track, city = factories.track(), factories.city()
    early, late = factories.user(), factories.user()
    db.session.commit()
    response = admin.post(
        "/admin/offerings/new",
        data={
            "track_id": track.id,
            "city_id": city.id,
            "academic_year": "2026-2027",
            "seats": "20",
            "opens_on": "2026-12-01",
            "closes_on": "2027-01-30",
            "course_starts_on": "2027-03-01",
            "action": "open",
        },
    )
    assert response.status_code == 302
    offering = db.session.scalar(select(Offering))
    assert offering.closes_at == moroccan("2027-01-30T23:59:59.999999")

    # 23:30 in Morocco on the last day: the card and the apply page show that day, and
    # the application is taken.
    clock.set(moroccan("2027-01-30T23:30"))
    assert deadline_on_card(app.test_client().get("/tracks").get_data(as_text=True), offering.id) == (
        "30 janv. 2027"
    )
    client = app.test_client()
    factories.login(client, early)
    form_page = visible_text(page_text(client.get(f"/apply/{offering.id}")))
    assert "Date limite 30 janv. 2027 (jusqu'à 23 h 59, heure du Maroc)" in form_page
    response = post_application(client, offering)
    assert response.status_code == 302 and "/me/applications/APP-" in response.location

    # Midnight in Morocco: the next day has begun, the window is over.
    clock.set(moroccan("2027-01-31T00:00"))
    client = app.test_client()
    factories.login(client, late)
    response = post_application(client, offering)
    assert response.status_code == 422
    assert "La date limite de candidature (30 janv. 2027) est dépassée." in page_text(response)
    assert f"/apply/{offering.id}" not in app.test_client().get("/tracks").get_data(as_text=True)


def test_seeded_offerings_close_at_the_end_of_the_day_they_show(app, client, clock):
    clock.set(moroccan("2026-10-15T10:00"))
    seed_catalogue()
    db.session.commit()
    offering = db.session.scalars(select(Offering).order_by(Offering.id)).first()
    last_day = local_day(offering.closes_at)
    assert last_day == date(2026, 12, 14)
    assert offering.opens_at == moroccan("2026-10-14T00:00")
    assert offering.closes_at == moroccan("2026-12-14T23:59:59.999999")
    clock.set(moroccan("2026-12-14T23:30"))
    page = client.get("/tracks").get_data(as_text=True)
    assert deadline_on_card(page, offering.id) == "14 déc. 2026"
    assert takes_applications(offering)
    clock.set(moroccan("2026-12-15T00:00"))
    assert not takes_applications(offering)


def test_the_email_to_interested_applicants_gives_the_last_day(app, clock, smtp_server, deliver):
    from portal.applications.models import Interest

    clock.set(moroccan("2026-12-01T09:00"))
    admin, _ = admin_client(app)
    track, city = factories.track(), factories.city()
    interested = factories.user(profile={"city": city})
    db.session.add(Interest(applicant_id=interested.id, track_id=track.id, city_id=city.id))
    db.session.commit()
    email = interested.email
    admin.post(
        "/admin/offerings/new",
        data={
            "track_id": track.id,
            "city_id": city.id,
            "academic_year": "2026-2027",
            "seats": "20",
            "opens_on": "2026-12-01",
            "closes_on": "2027-01-30",
            "action": "open",
        },
    )
    deliver()
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == email or email in str(message["To"])
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "jusqu'au 30 janv. 2027 inclus (23 h 59, heure du Maroc)" in text
