"""Administrators open tracks in new cities guided by demand; seats; close and reopen."""

import re
from datetime import datetime, timedelta

import pytest
import pytz
from sqlalchemy import func, select

from portal.applications.models import Application, Interest
from portal.catalog.models import City, Offering, Track
from portal.catalog.operations import academic_year, seed_catalogue
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.timeutil import end_of_local_day, local_day, utcnow
from tests import factories
from tests.helpers import admin_client, audit_events, find_link, message_html


def offering_form(track, city, **overrides):
    """The fields of the "open a track in a city" form, as a browser sends them."""
    today = local_day(utcnow())
    data = {
        "track_id": track.id,
        "city_id": city.id,
        "academic_year": academic_year(),
        "seats": "20",
        "opens_on": today.isoformat(),
        "closes_on": (today + timedelta(days=30)).isoformat(),
        "course_starts_on": (today + timedelta(days=60)).isoformat(),
        "action": "open",
    }
    data.update(overrides)
    return data


def read_form_values(client, url):
    """The value="" of each input of a page's form (what the browser would send back)."""
    html = client.get(url).get_data(as_text=True)
    values = {}
    for name in ("seats", "opens_on", "closes_on", "course_starts_on"):
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
            rf'value="([^"]*)"[^>]*name="{name}"', html
        )
        values[name] = match.group(1) if match else ""
    status = re.search(r'<option selected value="(\w+)"|<option value="(\w+)" selected', html)
    values["status"] = next(g for g in status.groups() if g) if status else ""
    values["reviewers"] = re.findall(
        r'<input checked[^>]*name="reviewers" type="checkbox" value="(\d+)"', html
    )
    return values


def test_what_it_must_show(app, smtp_server, deliver):
    """Interest in Fès and Marrakech → seen on the dashboard → opened in Fès → emailed → can apply."""
    seed_catalogue()
    db.session.commit()
    fes = db.session.scalar(select(City).where(City.slug == "fes"))
    marrakech = db.session.scalar(select(City).where(City.slug == "marrakech"))
    track = db.session.scalar(select(Track).where(Track.code == "IA-APPL"))
    reviewer = factories.user(role="reviewer", email="reviewer.fes@ofppt.ma")
    in_fes = [
        factories.user(email=f"fes{i}@example.org", profile={"city": fes}, locale=locale)
        for i, locale in enumerate(("fr", "ar"))
    ]
    in_marrakech = factories.user(email="marrakech@example.org", profile={"city": marrakech})
    db.session.commit()

    # Applicants register their interest through the track page's button.
    for applicant, city in ((in_fes[0], fes), (in_fes[1], fes), (in_marrakech, marrakech)):
        client = app.test_client()
        factories.login(client, applicant)
        page = client.get(f"/tracks/{track.code}").get_data(as_text=True)
        # The button (its text is in the applicant's language).
        assert 'action="/me/interests"' in page and f'name="city_id" value="{city.id}"' in page
        client.post("/me/interests", data={"track_id": track.id, "city_id": city.id})
    assert db.session.scalar(select(func.count(Interest.id))) == 3

    # The administrator sees the demand, Fès first, with a link pre-filling the form.
    admin, _admin_user = admin_client(app)
    dashboard = admin.get("/admin").get_data(as_text=True)
    demand = dashboard.split('id="demand-table"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", demand, re.S)
    assert "Fès" in rows[1] and "IA-APPL" in rows[1] and re.search(r">2</td>", rows[1])
    assert "Marrakech" in rows[2] and re.search(r">1</td>", rows[2])
    link = re.search(r'href="(/admin/offerings/new\?[^"]+)"', rows[1]).group(1).replace("&amp;", "&")
    form_page = admin.get(link).get_data(as_text=True)
    assert re.search(rf'<option selected value="{track.id}"|<option value="{track.id}" selected', form_page)
    assert re.search(rf'<option selected value="{fes.id}"|<option value="{fes.id}" selected', form_page)

    # It opens the track in Fès with 20 seats and a reviewer.
    response = admin.post(
        "/admin/offerings/new", data=offering_form(track, fes, seats="20", reviewers=[reviewer.id])
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    offering = db.session.scalar(select(Offering).where(Offering.city_id == fes.id))
    assert (offering.seats, offering.status, [u.id for u in offering.reviewers]) == (
        20,
        "open",
        [reviewer.id],
    )
    # The seeded offerings were opened by the system; this one by the administrator.
    (opened,) = [e for e in audit_events("offering_opened") if e.object_id == str(offering.id)]
    assert opened.after["interested_notified"] == 2
    offering_id, fes_user, reviewer_id = offering.id, in_fes[0].email, reviewer.id

    # The two applicants of Fès receive the email, in their language; Marrakech does not.
    assert deliver() == (2, 0)
    messages = smtp_server.wait_for(2)
    assert len(messages) == 2
    assert not smtp_server.to("marrakech@example.org")
    message = smtp_server.to("fes0@example.org")[0]
    assert "Fès" in message["Subject"]
    assert f"/apply/{offering_id}" in message_html(message)
    apply_path = find_link(message, "/apply/")
    assert apply_path == f"/apply/{offering_id}"
    assert smtp_server.to("fes1@example.org")

    # They can apply, and the offering is in the public catalogue.
    client = app.test_client()
    client.post("/auth/login", data={"email": fes_user, "password": factories.PASSWORD})
    assert client.get(apply_path).status_code == 200
    catalogue = app.test_client().get("/tracks").get_data(as_text=True)
    assert f"/apply/{offering_id}" in catalogue
    # The demand row for Fès is gone; Marrakech remains.
    demand = admin.get("/admin").get_data(as_text=True).split('id="demand-table"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", demand, re.S)
    assert any("IA-APPL" in r and ">Marrakech<" in r for r in rows)
    assert not any("IA-APPL" in r and ">Fès<" in r for r in rows)

    # Later edits do not email them again.
    values = read_form_values(admin, f"/admin/offerings/{offering_id}")
    response = admin.post(
        f"/admin/offerings/{offering_id}", data={**values, "seats": "22", "reviewers": [reviewer_id]}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).where(OutboxEmail.template == "interest_opened")) == 2


def test_window_is_two_days_in_moroccan_time_stored_in_utc(app):
    admin, _ = admin_client(app)
    track, city = factories.track(), factories.city()
    db.session.commit()
    page = admin.get("/admin/offerings/new").get_data(as_text=True)
    # The person picks days, and is told what the last one means.
    assert 'type="date"' in page and 'type="datetime-local"' not in page
    assert "Dernier jour des candidatures" in page and "jusqu'à 23 h 59 (heure du Maroc)" in page
    response = admin.post(
        "/admin/offerings/new",
        data=offering_form(
            track,
            city,
            academic_year="2025-2026",
            opens_on="2025-10-01",
            closes_on="2025-11-15",
            course_starts_on="2025-12-01",
            action="draft",
        ),
    )
    assert response.status_code == 302
    offering = db.session.scalar(select(Offering))
    casablanca = pytz.timezone("Africa/Casablanca")

    def utc(text):
        local = casablanca.localize(datetime.fromisoformat(text))
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    # Morocco was at UTC+1 then: the conversion is visible.
    assert utc("2025-10-01T00:00") == datetime(2025, 9, 30, 23, 0)
    assert offering.opens_at == utc("2025-10-01T00:00")
    assert (
        offering.closes_at == utc("2025-11-15T23:59:59.999999") == datetime(2025, 11, 15, 22, 59, 59, 999999)
    )
    assert offering.course_starts_on.date().isoformat() == "2025-12-01"
    page = admin.get(f"/admin/offerings/{offering.id}").get_data(as_text=True)
    assert 'value="2025-10-01"' in page and 'value="2025-11-15"' in page
    # A draft is not in the catalogue and nobody is emailed.
    assert f"/apply/{offering.id}" not in app.test_client().get("/tracks").get_data(as_text=True)
    assert not audit_events("offering_opened")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"seats": "abc"}, "seats", "Saisissez un nombre entier."),
        ({"seats": "0"}, "seats", "Entre 1 et 10000 places."),
        ({"academic_year": "2026-2028"}, "academic_year", "deux années consécutives"),
        ({"closes_on": "2020-01-01"}, "closes_on", "Le dernier jour ne peut pas précéder"),
        ({"opens_on": "demain"}, "opens_on", "Date invalide"),
        ({"opens_on": "0001-01-01"}, "opens_on", "Choisissez une date entre 2000 et 2099."),
        ({"action": "archived"}, "action", "Choisissez une valeur dans la liste."),
        ({"action": ""}, "action", "ouvrir la session maintenant ou l'enregistrer comme brouillon"),
        ({"track_id": "999999"}, "track_id", "Choisissez une valeur dans la liste."),
        ({"reviewers": ["abc"]}, "reviewers", "Choisissez des valeurs dans la liste."),
    ],
)
def test_bad_offering_input_is_shown_next_to_the_field_and_kept(app, overrides, field, message):
    admin, _ = admin_client(app)
    track, city = factories.track(), factories.city()
    factories.user(role="reviewer")
    db.session.commit()
    response = admin.post("/admin/offerings/new", data=offering_form(track, city, **overrides))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    # The field is marked invalid (the choice of button is not a field one can mark).
    assert 'aria-invalid="true"' in html or field == "action"
    if field == "seats" and overrides["seats"] == "abc":
        assert 'value="abc"' in html
    assert db.session.scalar(select(func.count(Offering.id))) == 0


def test_an_offering_is_unique_per_track_city_and_year(app):
    admin, _ = admin_client(app)
    existing = factories.offering()
    db.session.commit()
    response = admin.post(
        "/admin/offerings/new",
        data=offering_form(existing.track, existing.city, academic_year=existing.academic_year),
    )
    assert response.status_code == 200
    assert "existe déjà dans cette ville pour cette année" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Offering.id))) == 1


def test_seats_cannot_go_below_the_seats_held(app):
    admin, _ = admin_client(app)
    offering = factories.offering(seats=5)
    for _ in range(3):
        factories.application(offering_=offering, status="accepted")
    db.session.commit()
    values = read_form_values(admin, f"/admin/offerings/{offering.id}")
    response = admin.post(f"/admin/offerings/{offering.id}", data={**values, "seats": "2"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="seats-error"' in html and "3 places sont déjà attribuées" in html
    assert 'value="2"' in html
    db.session.refresh(offering)
    assert offering.seats == 5
    assert not audit_events("seats_changed")

    # Exactly the seats held is allowed.
    response = admin.post(f"/admin/offerings/{offering.id}", data={**values, "seats": "3"})
    assert response.status_code == 302
    db.session.refresh(offering)
    assert offering.seats == 3
    assert audit_events("seats_changed")[0].before == {"seats": 5}
    assert audit_events("seats_changed")[0].after == {"seats": 3}


def test_raising_seats_promotes_the_waitlist_best_first(app, smtp_server, deliver):
    admin, _ = admin_client(app)
    offering = factories.offering(seats=1)
    factories.application(offering_=offering, status="accepted")
    low = factories.application(offering_=offering, status="waitlisted", mean_score=2.0)
    best = factories.application(offering_=offering, status="waitlisted", mean_score=4.5)
    db.session.commit()
    values = read_form_values(admin, f"/admin/offerings/{offering.id}")
    response = admin.post(
        f"/admin/offerings/{offering.id}", data={**values, "seats": "2"}, follow_redirects=True
    )
    assert "1 candidature de la liste d&#39;attente a été acceptée." in response.get_data(as_text=True)
    db.session.refresh(best)
    db.session.refresh(low)
    db.session.refresh(offering)
    assert (best.status, low.status, offering.seats_held) == ("accepted", "waitlisted", 2)
    best_email = best.applicant.email
    assert deliver()[0] >= 1
    assert smtp_server.wait_for(1) and smtp_server.to(best_email)


def test_edit_records_before_and_after_of_the_changed_fields_only(app):
    admin, _ = admin_client(app)
    offering = factories.offering()
    db.session.commit()
    values = read_form_values(admin, f"/admin/offerings/{offering.id}")
    # Saving the page unchanged changes nothing.
    assert admin.post(f"/admin/offerings/{offering.id}", data=values).status_code == 302
    assert not audit_events("offering_changed")
    new_last_day = local_day(utcnow()) + timedelta(days=50)  # still before the course starts
    values["closes_on"] = new_last_day.isoformat()
    assert admin.post(f"/admin/offerings/{offering.id}", data=values).status_code == 302
    event = audit_events("offering_changed")[0]
    assert set(event.after) == {"closes_at"} and set(event.before) == {"closes_at"}
    db.session.refresh(offering)
    assert offering.closes_at == end_of_local_day(new_last_day)


def test_close_and_reopen_with_post_buttons(app, deliver, smtp_server):
    admin, admin_user = admin_client(app)
    fes = factories.city("Fès")
    offering = factories.offering(city=fes, status="draft")
    applicant = factories.user(profile={"city": fes})
    db.session.add(Interest(applicant_id=applicant.id, track_id=offering.track_id, city_id=fes.id))
    db.session.commit()
    applicant_email, admin_id, offering_id = applicant.email, admin_user.id, offering.id
    page = admin.get(f"/admin/offerings/{offering.id}").get_data(as_text=True)
    assert f'action="/admin/offerings/{offering.id}/reopen"' in page and "data-confirm=" in page
    assert admin.get(f"/admin/offerings/{offering.id}/close").status_code == 405

    assert admin.post(f"/admin/offerings/{offering.id}/reopen").status_code == 302
    db.session.refresh(offering)
    assert offering.status == "open"
    assert admin.post(f"/admin/offerings/{offering.id}/close").status_code == 302
    db.session.refresh(offering)
    assert offering.status == "closed" and offering.closed_at is not None
    assert admin.post(f"/admin/offerings/{offering.id}/reopen").status_code == 302
    db.session.refresh(offering)
    assert offering.status == "open" and offering.closed_at is None
    # Opened twice, but the interested applicant is emailed once.
    assert deliver() == (1, 0)
    assert len(smtp_server.to(applicant_email)) == 1
    assert [e.actor_id for e in audit_events("offering_closed")] == [admin_id]
    assert len(audit_events("offering_opened")) == 2
    # Closing what is closed says so instead of failing.
    admin.post(f"/admin/offerings/{offering_id}/close")
    response = admin.post(f"/admin/offerings/{offering_id}/close", follow_redirects=True)
    assert "déjà fermée" in response.get_data(as_text=True)


def test_reviewers_are_assigned_from_the_offering_page(app):
    admin, _ = admin_client(app)
    offering = factories.offering()
    first, second = factories.user(role="reviewer"), factories.user(role="reviewer")
    applicant = factories.user()
    db.session.commit()
    page = admin.get(f"/admin/offerings/{offering.id}").get_data(as_text=True)
    assert first.email in page and second.email in page and applicant.email not in page
    values = read_form_values(admin, f"/admin/offerings/{offering.id}")
    admin.post(f"/admin/offerings/{offering.id}", data={**values, "reviewers": [first.id, second.id]})
    db.session.refresh(offering)
    assert {u.id for u in offering.reviewers} == {first.id, second.id}
    admin.post(f"/admin/offerings/{offering.id}", data={**values, "reviewers": [second.id]})
    db.session.refresh(offering)
    assert [u.id for u in offering.reviewers] == [second.id]
    # An applicant's id is not a choice.
    response = admin.post(f"/admin/offerings/{offering.id}", data={**values, "reviewers": [applicant.id]})
    assert response.status_code == 200 and 'id="reviewers-error"' in response.get_data(as_text=True)
    events = audit_events("reviewers_changed")
    assert events[-1].after == {"reviewers": [second.id]}


def test_offerings_list_filters_and_paginates(app):
    admin, _ = admin_client(app)
    app.config["PAGE_SIZE"] = 3
    rabat, fes = factories.city("Rabat"), factories.city("Fès")
    for _ in range(4):
        factories.offering(city=rabat)
    factories.offering(city=fes, status="closed")
    db.session.commit()
    page1 = admin.get("/admin/offerings").get_data(as_text=True)
    assert "Page 1 sur 2" in page1
    assert page1.count("/admin/offerings/") - page1.count("/admin/offerings/new") >= 3
    only_fes = admin.get(f"/admin/offerings?city={fes.id}").get_data(as_text=True)
    rows = only_fes.split('id="offerings-table"')[1]
    assert "Fès" in rows and "Rabat" not in rows.split("</table>")[0]
    closed = (
        admin.get("/admin/offerings?status=closed").get_data(as_text=True).split('id="offerings-table"')[1]
    )
    assert closed.split("</table>")[0].count("<tr>") == 2  # header + one row
    assert admin.get("/admin/offerings?page=99&city=abc&status=%01").status_code == 200


def test_application_count_is_shown_per_offering(app):
    admin, _ = admin_client(app)
    offering = factories.offering()
    for _ in range(2):
        factories.application(offering_=offering)
    db.session.commit()
    page = admin.get(f"/admin/offerings/{offering.id}").get_data(as_text=True)
    assert re.search(r"Candidatures</dt><dd[^>]*>2</dd>", page)
    assert admin.get("/admin/offerings/999999").status_code == 404
    assert db.session.scalar(select(func.count(Application.id))) == 2
