"""The submission rules: each refusal has its own message and saves nothing."""

from datetime import date, datetime, timedelta

import pytest

from portal.catalog.operations import academic_year
from portal.timeutil import utcnow
from tests import factories
from tests.helpers import page_text, post_application, stored_files, submission_counts

NOW = datetime(2026, 10, 15, 10, 0)


def refused(app, client, applicant, offering, message):
    """Submit a valid form and check the refusal: its message shown, nothing written."""
    factories.login(client, applicant)
    before = submission_counts()
    response = post_application(client, offering)
    assert response.status_code == 422
    text = page_text(response)
    assert message in text
    assert 'id="apply-problem"' in text
    # What the applicant typed is still there.
    assert "je veux apprendre à numériser nos outils" in text
    assert submission_counts() == before
    assert stored_files(app) == []


def accepted(client, applicant, offering):
    """Submit a valid form and check it was taken."""
    factories.login(client, applicant)
    response = post_application(client, offering)
    assert response.status_code == 302, page_text(response)
    assert "/me/applications/APP-" in response.location
    return response


def test_closed_offering_is_refused(app, client, clock):
    clock.set(NOW)
    offering = factories.offering(status="closed")
    refused(app, client, factories.user(), offering, "Cette session n'accepte pas de candidatures.")


def test_window_not_open_yet_is_refused(app, client, clock):
    clock.set(NOW)
    offering = factories.offering(opens_at=NOW + timedelta(days=3), closes_at=NOW + timedelta(days=30))
    refused(app, client, factories.user(), offering, "Les candidatures pour cette session ouvriront le")


def test_window_passed_is_refused(app, client, clock):
    clock.set(NOW)
    offering = factories.offering(opens_at=NOW - timedelta(days=30), closes_at=NOW + timedelta(hours=1))
    applicant = factories.user()
    # closes_at is the last moment applications are taken: a moment later, they are not.
    clock.set(NOW + timedelta(hours=1, seconds=1))
    refused(app, client, applicant, offering, "est dépassée")


def test_the_form_page_says_why_and_hides_the_form_when_applying_is_impossible(app, client, clock):
    clock.set(NOW)
    offering = factories.offering(status="closed")
    factories.login(client, factories.user())
    page = page_text(client.get(f"/apply/{offering.id}"))
    assert "Cette session n'accepte pas de candidatures." in page
    assert 'enctype="multipart/form-data"' not in page


def test_unconfirmed_email_is_refused(app, client, clock):
    clock.set(NOW)
    applicant = factories.user(email_confirmed_at=None)
    refused(app, client, applicant, factories.offering(), "Confirmez d'abord votre adresse e-mail")


def test_minor_is_refused_and_eighteenth_birthday_is_enough(app, client, clock):
    clock.set(NOW)
    offering = factories.offering()
    minor = factories.user(profile={"birth_date": date(2008, 10, 16)})  # 18 tomorrow
    refused(app, client, minor, offering, "Il faut avoir au moins 18 ans pour postuler.")
    client.post("/auth/logout")
    adult = factories.user(profile={"birth_date": date(2008, 10, 15)})  # 18 today
    accepted(client, adult, offering)


def test_insufficient_education_is_refused(app, client, clock):
    clock.set(NOW)
    offering = factories.offering(track=factories.track(min_education="licence"))
    applicant = factories.user(profile={"education_level": "baccalaureate"})
    refused(
        app,
        client,
        applicant,
        offering,
        "Cette formation demande au moins le niveau « Licence (Bac + 3) » ; votre profil indique « Baccalauréat ».",
    )
    client.post("/auth/logout")
    accepted(client, factories.user(profile={"education_level": "master"}), offering)


def test_third_active_application_in_the_year_is_refused(app, client, clock):
    clock.set(NOW)
    app.config["MAX_ACTIVE_APPLICATIONS"] = 2
    applicant = factories.user()
    factories.application(applicant, factories.offering(), status="submitted")
    factories.application(applicant, factories.offering(), status="waitlisted")
    refused(
        app, client, applicant, factories.offering(), "Vous avez déjà 2 candidatures en cours pour l'année"
    )


@pytest.mark.parametrize("inactive", ["withdrawn", "rejected", "expired"])
def test_finished_applications_and_other_years_do_not_count(app, client, clock, inactive):
    clock.set(NOW)
    app.config["MAX_ACTIVE_APPLICATIONS"] = 2
    applicant = factories.user()
    factories.application(applicant, factories.offering(), status="accepted")
    factories.application(applicant, factories.offering(), status=inactive)
    last_year = academic_year(utcnow() - timedelta(days=365))
    factories.application(applicant, factories.offering(academic_year=last_year), status="confirmed")
    accepted(client, applicant, factories.offering())


def test_the_limit_comes_from_the_configuration(app, client, clock):
    clock.set(NOW)
    app.config["MAX_ACTIVE_APPLICATIONS"] = 1
    applicant = factories.user()
    factories.application(applicant, factories.offering(), status="under_review")
    refused(app, client, applicant, factories.offering(), "Vous avez déjà 1 candidature en cours")
