"""/me/profile: editing the profile, the language, and guarded changes (email, phone, CIN, password)."""

import pytest
from sqlalchemy import select

from portal.auth.models import ApplicantProfile, User
from portal.extensions import db
from tests import factories
from tests.helpers import field_error, find_link
from tests.security import formdata

NEW_PASSWORD = "une toute nouvelle phrase"


profile_form = formdata.profile


def stored(user_id):
    """The user and profile as stored now (fresh from the database)."""
    db.session.rollback()
    db.session.expire_all()
    user = db.session.get(User, user_id)
    return user, user.profile


def test_anonymous_visitor_is_sent_to_login(app, client):
    response = client.get("/me/profile")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login?next=")


def test_profile_shows_the_stored_values(app, client, applicant):
    page = client.get("/me/profile").get_data(as_text=True)
    assert 'value="AB123456"' in page and 'value="+212612345678"' in page
    assert 'value="amina@example.org"' in page
    assert 'href="/me/profile"' in page  # the navbar link


def test_plain_fields_change_without_the_password(app, client, applicant):
    data = profile_form(applicant, association_name="Nouvelle association", education_level="master")
    response = client.post("/me/profile", data=data)
    assert response.status_code == 302 and response.location == "/me/profile"
    _, profile = stored(applicant.id)
    assert (profile.association_name, profile.education_level) == ("Nouvelle association", "master")


@pytest.mark.parametrize(
    "change",
    [
        {"cin": "CD654321"},
        {"phone": "0700000000"},
        {"email": "new.address@example.org"},
        {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD},
    ],
)
@pytest.mark.parametrize("current_password", ["", "not my password"])
def test_guarded_changes_need_the_current_password(app, client, applicant, change, current_password):
    before_hash = applicant.password_hash
    data = profile_form(
        applicant, association_name="Changée aussi", current_password=current_password, **change
    )
    response = client.post("/me/profile", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Mot de passe actuel incorrect" in field_error(page, "current_password")
    # What was typed is kept, nothing is saved.
    assert 'value="Changée aussi"' in page
    user, profile = stored(applicant.id)
    assert (user.email, profile.cin, profile.phone) == ("amina@example.org", "AB123456", "+212612345678")
    assert profile.association_name != "Changée aussi"
    assert user.password_hash == before_hash and user.auth_version == 1


def test_cin_and_phone_change_with_the_password_and_are_normalised(app, client, applicant):
    data = profile_form(
        applicant, cin="cd654321", phone="07 00 00 00 00", current_password=factories.PASSWORD
    )
    assert client.post("/me/profile", data=data).status_code == 302
    _, profile = stored(applicant.id)
    assert (profile.cin, profile.phone) == ("CD654321", "+212700000000")


def test_email_change_needs_a_new_confirmation(app, client, applicant, deliver, smtp_server):
    data = profile_form(applicant, email="New.Address@Example.org", current_password=factories.PASSWORD)
    response = client.post("/me/profile", data=data)
    assert response.status_code == 302
    user_id = applicant.id
    user, _ = stored(user_id)
    assert user.email == "new.address@example.org" and user.email_confirmed_at is None
    page = client.get("/me/profile").get_data(as_text=True)
    assert "confirmation a été envoyé à la nouvelle adresse" in page
    assert 'id="confirm-email-banner"' in page

    deliver()
    smtp_server.wait_for(2)
    # The confirmation goes to the new address (the old one is told of the change).
    [message] = smtp_server.to("new.address@example.org")
    assert client.post(find_link(message, "/auth/confirm/")).status_code == 302
    user, _ = stored(user_id)
    assert user.email_confirmed_at is not None


def test_email_of_another_account_is_not_taken_and_its_owner_is_told(
    app, client, applicant, deliver, smtp_server
):
    factories.user(email="owner@example.org")
    db.session.commit()
    taken = client.post(
        "/me/profile",
        data=profile_form(applicant, email="owner@example.org", current_password=factories.PASSWORD),
    )
    assert taken.status_code == 302 and taken.location == "/me/profile"
    assert "confirmation a été envoyé à la nouvelle adresse" in client.get("/me/profile").get_data(
        as_text=True
    )
    user, _ = stored(applicant.id)
    assert user.email == "amina@example.org" and user.email_confirmed_at is not None
    deliver()
    smtp_server.wait_for(1)
    assert [m["Subject"] for m in smtp_server.to("owner@example.org")] == [
        "Votre adresse email a déjà un compte"
    ]


def test_cin_of_another_account_is_refused(app, client, applicant):
    factories.user(profile={"cin": "XY42"})
    db.session.commit()
    data = profile_form(applicant, cin="xy42", current_password=factories.PASSWORD)
    page = client.post("/me/profile", data=data).get_data(as_text=True)
    assert "déjà associé à un compte" in field_error(page, "cin")
    _, profile = stored(applicant.id)
    assert profile.cin == "AB123456"


def test_password_change_keeps_this_session_and_ends_the_others(app, client, applicant):
    elsewhere = app.test_client()
    factories.login(elsewhere, applicant)
    data = profile_form(
        applicant,
        new_password=NEW_PASSWORD,
        new_password_confirm=NEW_PASSWORD,
        current_password=factories.PASSWORD,
    )
    assert client.post("/me/profile", data=data).status_code == 302
    assert client.get("/me/profile").status_code == 200
    assert elsewhere.get("/me/profile").location.startswith("/auth/login")
    fresh = app.test_client()
    assert factories.login(fresh, applicant).status_code == 200
    assert factories.login(fresh, applicant, NEW_PASSWORD).status_code == 302


def test_new_password_is_validated(app, client, applicant):
    short = profile_form(
        applicant, new_password="court", new_password_confirm="court", current_password=factories.PASSWORD
    )
    page = client.post("/me/profile", data=short).get_data(as_text=True)
    assert "au moins 12 caractères" in field_error(page, "new_password")
    mismatch = profile_form(
        applicant,
        new_password=NEW_PASSWORD,
        new_password_confirm="autre chose",
        current_password=factories.PASSWORD,
    )
    page = client.post("/me/profile", data=mismatch).get_data(as_text=True)
    assert "pas identiques" in field_error(page, "new_password_confirm")
    user, _ = stored(applicant.id)
    assert user.auth_version == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "0812345678", "Numéro de téléphone marocain invalide"),
        ("cin", "123", "Numéro de CIN invalide"),
        ("email", "pas-une-adresse", "Adresse email invalide"),
        ("birth_date", "2015-01-01", "au moins 18 ans"),
        ("first_name", "", "obligatoire"),
        ("locale", "xx", "Choisissez une valeur"),
    ],
)
def test_profile_uses_the_registration_validators(app, client, applicant, field, value, message):
    data = profile_form(applicant, current_password=factories.PASSWORD, **{field: value})
    page = client.post("/me/profile", data=data).get_data(as_text=True)
    assert message in field_error(page, field)
    user, profile = stored(applicant.id)
    assert (user.email, profile.cin, profile.phone, profile.first_name) == (
        "amina@example.org",
        "AB123456",
        "+212612345678",
        "Amina",
    )


def test_language_preference_is_stored_and_used(app, client, applicant):
    assert client.post("/me/profile", data=profile_form(applicant, locale="ar")).status_code == 302
    user, _ = stored(applicant.id)
    assert user.locale == "ar"
    assert '<html lang="ar" dir="rtl">' in client.get("/me/profile").get_data(as_text=True)


def test_staff_see_only_language_and_password(app, client):
    admin = factories.user(role="admin", email="admin@example.org")
    db.session.commit()
    factories.login(client, admin)
    page = client.get("/me/profile").get_data(as_text=True)
    assert 'name="locale"' in page and 'name="new_password"' in page
    assert 'name="cin"' not in page and 'name="phone"' not in page and 'name="email"' not in page

    assert client.post("/me/profile", data={"locale": "en"}).status_code == 302
    refused = client.post(
        "/me/profile",
        data={"locale": "en", "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD},
    )
    # The account now speaks English: the refusal is translated.
    assert "Incorrect current password" in field_error(refused.get_data(as_text=True), "current_password")
    user, _ = stored(admin.id)
    assert user.locale == "en" and user.auth_version == 1
    assert db.session.scalar(select(ApplicantProfile).where(ApplicantProfile.user_id == admin.id)) is None
