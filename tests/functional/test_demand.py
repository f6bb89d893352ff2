"""Demand: applicants say "I want this track in my city"; withdrawing; who may."""

from datetime import timedelta

from flask import render_template
from flask_login import login_user
from sqlalchemy import func, select

from portal.applications.models import Interest
from portal.demand.operations import my_interests, notify_interested
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.timeutil import utcnow
from tests import factories

BUTTON = "Je veux cette formation dans ma ville"


def interests_count():
    return db.session.scalar(select(func.count(Interest.id)))


def setup_track_elsewhere():
    """A track offered in Rabat only, and an applicant living in Fès."""
    rabat, fes = factories.city("Rabat"), factories.city("Fès")
    track = factories.track(title_fr="Transformation numérique")
    factories.offering(track=track, city=rabat)
    applicant = factories.user(profile={"city": fes})
    db.session.commit()
    return track, fes, applicant


def test_applicant_registers_interest_from_the_track_page(app, client):
    track, fes, applicant = setup_track_elsewhere()
    factories.login(client, applicant)

    page = client.get(f"/tracks/{track.code}").get_data(as_text=True)
    assert BUTTON in page
    assert "Cette formation n'est pas proposée à Fès" in page

    response = client.post(
        "/me/interests", data={"track_id": track.id, "city_id": fes.id, "next": f"/tracks/{track.code}"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/tracks/{track.code}")
    interest = db.session.scalar(select(Interest))
    assert (interest.applicant_id, interest.track_id, interest.city_id) == (applicant.id, track.id, fes.id)

    page = client.get(f"/tracks/{track.code}").get_data(as_text=True)
    assert BUTTON not in page
    assert "Retirer ma demande" in page
    assert "Votre demande est enregistrée" in page


def test_one_interest_per_applicant_track_and_city(app, client):
    track, fes, applicant = setup_track_elsewhere()
    factories.login(client, applicant)
    for _ in range(3):
        client.post("/me/interests", data={"track_id": track.id, "city_id": fes.id})
    assert interests_count() == 1
    page = client.get("/tracks").get_data(as_text=True)
    assert "Vous avez déjà demandé cette formation dans cette ville." in page


def test_no_interest_where_the_track_is_already_open(app, client):
    rabat = factories.city("Rabat")
    track = factories.track()
    factories.offering(track=track, city=rabat)
    applicant = factories.user(profile={"city": rabat})
    db.session.commit()
    factories.login(client, applicant)

    assert BUTTON not in client.get(f"/tracks/{track.code}").get_data(as_text=True)
    client.post("/me/interests", data={"track_id": track.id, "city_id": rabat.id})
    assert interests_count() == 0
    assert "déjà ouverte dans cette ville" in client.get("/tracks").get_data(as_text=True)


def test_closed_or_finished_offering_does_not_count_as_open(app, client):
    rabat = factories.city("Rabat")
    track = factories.track()
    factories.offering(track=track, city=rabat, status="closed")
    factories.offering(
        track=track,
        city=rabat,
        academic_year="2001-2002",
        opens_at=utcnow() - timedelta(days=60),
        closes_at=utcnow() - timedelta(days=1),
    )
    applicant = factories.user(profile={"city": rabat})
    db.session.commit()
    factories.login(client, applicant)
    assert BUTTON in client.get(f"/tracks/{track.code}").get_data(as_text=True)


def test_owner_withdraws_interest_and_others_get_404(app, client):
    track, fes, applicant = setup_track_elsewhere()
    other = factories.user(profile={"city": fes})
    db.session.commit()
    interest = factories.interest(applicant, track, fes)
    db.session.commit()
    interest_id = interest.id

    other_client = app.test_client()
    factories.login(other_client, other)
    assert other_client.post(f"/me/interests/{interest_id}/delete").status_code == 404
    assert other_client.post("/me/interests/999999/delete").status_code == 404
    assert interests_count() == 1

    factories.login(client, applicant)
    response = client.post(f"/me/interests/{interest_id}/delete", data={"next": f"/tracks/{track.code}"})
    assert response.status_code == 302
    assert interests_count() == 0
    assert BUTTON in client.get(f"/tracks/{track.code}").get_data(as_text=True)


def test_only_logged_in_applicants_register_interest(app, client):
    track, fes, _applicant = setup_track_elsewhere()
    response = client.post("/me/interests", data={"track_id": track.id, "city_id": fes.id})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    page = client.get(f"/tracks/{track.code}").get_data(as_text=True)
    assert BUTTON not in page and "Connectez-vous pour demander son ouverture" in page

    for role in ("reviewer", "admin"):
        staff = factories.user(role=role)
        db.session.commit()
        staff_client = app.test_client()
        factories.login(staff_client, staff)
        assert BUTTON not in staff_client.get(f"/tracks/{track.code}").get_data(as_text=True)
        assert (
            staff_client.post("/me/interests", data={"track_id": track.id, "city_id": fes.id}).status_code
            == 404
        )
    assert interests_count() == 0


def test_bad_interest_input_never_crashes(app, client):
    track, fes, applicant = setup_track_elsewhere()
    factories.login(client, applicant)
    assert client.post("/me/interests", data={"track_id": "abc", "city_id": fes.id}).status_code == 302
    assert client.post("/me/interests", data={}).status_code == 302
    assert client.post("/me/interests", data={"track_id": 999999, "city_id": fes.id}).status_code == 404
    assert client.post("/me/interests", data={"track_id": track.id, "city_id": 999999}).status_code == 404
    response = client.post(
        "/me/interests", data={"track_id": track.id, "city_id": fes.id, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]
    assert interests_count() == 1


def test_my_interests_partial_lists_them_with_a_link_once_opened(app):
    track, fes, applicant = setup_track_elsewhere()
    db.session.add(Interest(applicant_id=applicant.id, track_id=track.id, city_id=fes.id))
    db.session.commit()
    with app.test_request_context("/me"):
        login_user(applicant)
        html = render_template("demand/_my_interests.html", my_interests=my_interests(applicant))
        assert track.title_fr in html and "Fès" in html and "Retirer" in html
        assert "/apply/" not in html
        offering = factories.offering(track=track, city=fes)
        html = render_template("demand/_my_interests.html", my_interests=my_interests(applicant))
        assert f"/apply/{offering.id}" in html


def test_opening_notifies_each_interest_once_and_a_later_wish_counts_again(app, client):
    track, fes, applicant = setup_track_elsewhere()
    db.session.add(Interest(applicant_id=applicant.id, track_id=track.id, city_id=fes.id))
    db.session.commit()
    offering = factories.offering(track=track, city=fes)
    assert notify_interested(offering) == 1
    assert notify_interested(offering) == 0
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(OutboxEmail.template == "interest_opened")) == 1

    # The session closed; the applicant asks again: the wish is re-armed, not duplicated.
    offering.status = "closed"
    db.session.commit()
    factories.login(client, applicant)
    client.post("/me/interests", data={"track_id": track.id, "city_id": fes.id})
    interest = db.session.scalar(select(Interest))
    db.session.refresh(interest)
    assert interests_count() == 1 and interest.notified_at is None
