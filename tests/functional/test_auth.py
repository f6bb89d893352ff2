"""Registration, email confirmation, login and logout, through the real forms."""

import html
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.auth.models import ApplicantProfile, User
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories
from tests.helpers import field_error, find_link, message_text
from tests.security import formdata

PASSWORD = "un mot de passe solide"


def registration(city, **overrides):
    """Valid registration form data, the address in mixed case; ``None`` drops a field."""
    defaults = {"email": "Amina.New@Example.org", "password": PASSWORD, "password_confirm": PASSWORD}
    return formdata.registration(city, **{**defaults, **overrides})


def user_count():
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(User))


def outbox_count():
    return db.session.scalar(select(func.count()).select_from(OutboxEmail))


def register(client, city, **overrides):
    """Post the registration form."""
    return client.post("/auth/register", data=registration(city, **overrides))


def assert_refused(client, city, field, message_part, **overrides):
    """The form comes back with ``message_part`` next to ``field``, other input kept, nothing saved."""
    response = register(client, city, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    error = field_error(page, field)
    assert error is not None, f"no error shown next to {field}"
    assert message_part in error
    # What the user typed elsewhere is still there.
    if field != "association_name":
        assert 'value="Association Espoir Jeunesse"' in page
    assert user_count() == 0
    assert db.session.scalar(select(func.count()).select_from(ApplicantProfile)) == 0
    assert outbox_count() == 0
    return page


# The whole journey ------------------------------------------------------------------------


def test_register_confirm_login_logout(app, client, city, deliver, smtp_server, clock):
    clock.set(datetime(2026, 10, 1, 9, 30))
    response = register(client, city)
    assert response.status_code == 302
    assert response.location.startswith("/auth/check-email")
    assert "Un email vient d'être envoyé" in client.get(response.location).get_data(as_text=True)

    user = db.session.scalar(select(User))
    assert user.email == "amina.new@example.org"
    assert user.role == "applicant" and user.email_confirmed_at is None
    assert user.consent_at == datetime(2026, 10, 1, 9, 30)
    assert user.consent_version == app.config["PRIVACY_NOTICE_VERSION"]
    assert user.locale == "fr"
    assert user.password_hash.startswith("$argon2id$")
    profile = user.profile
    assert (profile.cin, profile.phone) == ("AB123456", "+212612345678")
    assert (profile.first_name_ar, profile.association_years, profile.city_id) == ("أمينة", 4, city.id)

    deliver()
    [message] = smtp_server.wait_for(1)
    assert "amina.new@example.org" in message["To"]
    assert message["Subject"] == "Confirmez votre adresse email"
    link = find_link(message, "/auth/confirm/")

    # Following the link shows a button and changes nothing.
    page = client.get(link)
    assert page.status_code == 200
    assert "Confirmer mon adresse" in page.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(User.email_confirmed_at)) is None

    confirmed = client.post(link)
    assert confirmed.status_code == 302 and confirmed.location == "/me"
    assert db.session.scalar(select(User.email_confirmed_at)) is not None
    assert client.get("/me/profile").status_code == 200

    # A second use of the link does not log anyone in again.
    again = client.post(link)
    assert again.location.startswith("/auth/login")

    assert client.post("/auth/logout").status_code == 302
    assert client.get("/me/profile").location.startswith("/auth/login")

    login = client.post("/auth/login", data={"email": "AMINA.NEW@example.org", "password": PASSWORD})
    assert login.status_code == 302 and login.location == "/me"
    assert client.get("/me/profile").status_code == 200
    assert db.session.scalar(select(User.last_login_at)) == datetime(2026, 10, 1, 9, 30)


def test_register_page_groups_fields_with_ltr_inputs(app, client, city):
    page = client.get("/auth/register").get_data(as_text=True)
    for legend in ("Identité", "Coordonnées", "Association", "Compte"):
        assert f">{legend}</legend>" in page
    for name in ("email", "phone", "cin"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert 'dir="ltr"' in tag and "autocomplete=" in tag
    assert 'href="/privacy"' in page
    # The preferred language defaults to the current one.
    client.post("/lang/en")
    page = client.get("/auth/register").get_data(as_text=True)
    assert re.search(r'<option selected value="en">|<option value="en" selected>', page)


def test_registration_in_arabic_stores_the_language_and_sends_the_email_in_it(
    app, client, city, deliver, smtp_server
):
    client.post("/lang/ar")
    assert register(client, city, locale="ar").status_code == 302
    assert db.session.scalar(select(User.locale)) == "ar"
    assert db.session.scalar(select(OutboxEmail.locale)) == "ar"


# Bad input: a message next to the field, nothing saved ------------------------------------------

REQUIRED_FIELDS = [
    "first_name",
    "last_name",
    "cin",
    "birth_date",
    "phone",
    "city_id",
    "education_level",
    "association_name",
    "association_registration",
    "association_city_id",
    "association_field",
    "association_role",
    "association_years",
    "email",
    "password",
    "password_confirm",
    "locale",
]


@pytest.mark.parametrize("name", REQUIRED_FIELDS)
def test_each_required_field(app, client, city, name):
    assert_refused(client, city, name, "obligatoire", **{name: ""})


def test_missing_consent_is_refused(app, client, city):
    assert_refused(client, city, "consent", "accord est nécessaire", consent=None)


@pytest.mark.parametrize(
    "cin", ["A", "123456", "ABC123", "AB1234567", "A-12345", "12AB", "AB 12 X", "É12345"]
)
def test_bad_cin(app, client, city, cin):
    page = assert_refused(client, city, "cin", "Numéro de CIN invalide", cin=cin)
    assert f'value="{html.escape(cin, quote=True)}"' in page


@pytest.mark.parametrize(
    "phone",
    [
        "0812345678",
        "061234567",
        "06123456789",
        "6123456789",
        "+33612345678",
        "+2120612345678",
        "+21281234567",
        "00212412345678",
        "06 12 34 56 7x",
        "06/12/34/56/78",
    ],
)
def test_bad_phone(app, client, city, phone):
    assert_refused(client, city, "phone", "Numéro de téléphone marocain invalide", phone=phone)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0612345678", "+212612345678"),
        ("07.12.34.56.78", "+212712345678"),
        ("05-22-12-34-56", "+212522123456"),
        ("+212 6 12 34 56 78", "+212612345678"),
        ("00212712345678", "+212712345678"),
        ("+212-5-22-12-34-56", "+212522123456"),
    ],
)
def test_good_phone_formats_are_stored_in_e164(app, client, city, typed, stored):
    assert register(client, city, phone=typed).status_code == 302
    assert db.session.scalar(select(ApplicantProfile.phone)) == stored


def test_under_age_is_refused_and_eighteenth_birthday_is_accepted(app, client, city, clock):
    clock.set(datetime(2026, 10, 1, 12, 0))
    assert_refused(client, city, "birth_date", "au moins 18 ans", birth_date="2008-10-02")
    assert register(client, city, birth_date="2008-10-01").status_code == 302


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_date", "17/05/1990", "Date invalide"),
        ("birth_date", "2999-01-01", "Date de naissance invalide"),
        ("email", "not-an-email", "Adresse email invalide"),
        ("email", "amina@localhost", "Adresse email invalide"),
        ("first_name", "أمينة", "lettres latines"),
        ("last_name", "Amina2", "lettres latines"),
        ("first_name_ar", "Amina", "lettres arabes"),
        ("city_id", "999999", "Choisissez une valeur"),
        ("association_city_id", "abc", "Choisissez une valeur"),
        ("education_level", "doctorat", "Choisissez une valeur"),
        ("association_field", "politics", "Choisissez une valeur"),
        ("locale", "de", "Choisissez une valeur"),
        ("association_years", "-1", "entre 0 et 80"),
        ("association_years", "81", "entre 0 et 80"),
        ("association_years", "quatre", "nombre entier"),
        ("association_name", "x" * 201, "200 caractères"),
        ("association_role", "Présidente\x00", "caractères non autorisés"),
        ("first_name", "Amina\u202e", "caractères non autorisés"),
    ],
)
def test_other_bad_input(app, client, city, field, value, message):
    assert_refused(client, city, field, message, **{field: value})


def test_short_password(app, client, city):
    assert_refused(
        client, city, "password", "au moins 12 caractères", password="court", password_confirm="court"
    )


def test_mismatched_password_confirmation(app, client, city):
    page = assert_refused(
        client, city, "password_confirm", "pas identiques", password_confirm="un autre mot de passe"
    )
    # Passwords are never sent back to the browser.
    assert PASSWORD not in page


def test_duplicate_email_answers_as_a_new_registration_and_tells_the_owner(app, city, deliver, smtp_server):
    factories.user(email="taken@example.org", profile={"cin": "Z999"})
    db.session.commit()
    fresh, duplicate = app.test_client(), app.test_client()

    new = register(fresh, city, email="someone.new@example.org", cin="AB111")
    again = register(duplicate, city, email="Taken@Example.ORG", cin="AB222")

    assert (again.status_code, again.location) == (new.status_code, new.location)
    assert duplicate.get(again.location).get_data() == fresh.get(new.location).get_data()
    assert (
        db.session.scalar(select(func.count()).select_from(User).where(User.email == "taken@example.org"))
        == 1
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(ApplicantProfile).where(ApplicantProfile.cin == "AB222")
        )
        == 0
    )

    deliver()
    smtp_server.wait_for(2)
    [to_owner] = smtp_server.to("taken@example.org")
    assert to_owner["Subject"] == "Votre adresse email a déjà un compte"
    assert "/auth/forgot" in message_text(to_owner)
    assert [m["Subject"] for m in smtp_server.to("someone.new@example.org")] == [
        "Confirmez votre adresse email"
    ]


def test_duplicate_cin_answers_as_a_new_registration_and_tells_its_owner(
    app, client, city, deliver, smtp_server
):
    factories.user(email="owner@example.org", profile={"cin": "AB123456", "first_name": "Salma"})
    db.session.commit()
    response = register(client, city, cin="ab123456")
    assert (response.status_code, response.location) == (302, "/auth/check-email?reason=register")
    assert user_count() == 1
    assert (
        db.session.scalar(select(func.count()).select_from(User).where(User.email == "amina.new@example.org"))
        == 0
    )
    deliver()
    [notice] = smtp_server.wait_for(1)
    assert notice["To"] == "owner@example.org"
    assert notice["Subject"] == "Votre numéro de CIN a été utilisé pour une inscription"
    text = message_text(notice)
    assert "Bonjour Salma" in text and "/auth/forgot" in text
    # Nothing about the person who typed the CIN.
    assert "amina" not in text.lower() and "El Idrissi" not in text
    assert smtp_server.to("amina.new@example.org") == []


def test_logged_in_user_is_sent_away_from_register(app, client, city):
    user = factories.user()
    db.session.commit()
    factories.login(client, user)
    assert client.get("/auth/register").location == "/me"


# Confirmation links --------------------------------------------------------------------------


def registered(client, city, deliver, smtp_server, **overrides):
    """Register through the form and return the confirmation link received by email."""
    assert register(client, city, **overrides).status_code == 302
    deliver()
    [message] = smtp_server.wait_for(1)
    smtp_server.clear()
    return find_link(message, "/auth/confirm/")


def test_expired_confirmation_link_offers_a_new_one(app, client, city, deliver, smtp_server, clock):
    start = clock.set(datetime(2026, 10, 1, 8, 0))
    link = registered(client, city, deliver, smtp_server)
    clock.set(start + timedelta(seconds=app.config["CONFIRM_TOKEN_MAX_AGE"] + 1))
    for response in (client.get(link), client.post(link)):
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "ne fonctionne plus" in page and 'action="/auth/confirm/resend"' in page
    db.session.rollback()
    assert db.session.scalar(select(User.email_confirmed_at)) is None

    # The resend answer is the same for a known and an unknown address.
    known = client.post("/auth/confirm/resend", data={"email": "amina.new@example.org"})
    unknown = client.post("/auth/confirm/resend", data={"email": "nobody@example.org"})
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location)
    deliver()
    [message] = smtp_server.wait_for(1)
    assert "amina.new@example.org" in message["To"]
    fresh_link = find_link(message, "/auth/confirm/")
    assert client.post(fresh_link).location == "/me"


def test_tampered_confirmation_link_is_refused(app, client, city, deliver, smtp_server):
    link = registered(client, city, deliver, smtp_server)
    response = client.post(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
    assert response.status_code == 400
    db.session.rollback()
    assert db.session.scalar(select(User.email_confirmed_at)) is None


def test_unconfirmed_user_may_log_in_and_sees_a_banner_with_resend(app, client, city, deliver, smtp_server):
    registered(client, city, deliver, smtp_server)
    login = client.post("/auth/login", data={"email": "amina.new@example.org", "password": PASSWORD})
    assert login.status_code == 302
    page = client.get("/me/profile").get_data(as_text=True)
    assert 'id="confirm-email-banner"' in page
    assert 'action="/auth/confirm/resend"' in page

    client.post("/auth/confirm/resend")
    deliver()
    [message] = smtp_server.wait_for(1)
    client.post(find_link(message, "/auth/confirm/"))
    assert 'id="confirm-email-banner"' not in client.get("/me/profile").get_data(as_text=True)


# Login -------------------------------------------------------------------------------------


def test_unknown_email_and_wrong_password_get_the_same_answer(app):
    factories.user(email="known@example.org")
    db.session.commit()
    attempt = {"password": "whatever password"}
    unknown = app.test_client().post("/auth/login", data={"email": "unknown@example.org", **attempt})
    wrong = app.test_client().post("/auth/login", data={"email": "known@example.org", **attempt})
    assert unknown.status_code == wrong.status_code == 200
    # The pages differ only by the address typed, which the form keeps.
    assert unknown.get_data(as_text=True).replace("unknown@example.org", "ADDRESS") == wrong.get_data(
        as_text=True
    ).replace("known@example.org", "ADDRESS")
    assert "Adresse email ou mot de passe incorrect" in wrong.get_data(as_text=True)


def test_inactive_user_cannot_log_in(app, client):
    user = factories.user(active=False)
    db.session.commit()
    response = factories.login(client, user)
    assert response.status_code == 200
    assert "Adresse email ou mot de passe incorrect" in response.get_data(as_text=True)
    assert client.get("/me/profile").status_code == 302


def test_login_records_time_and_rehashes_old_hashes(app, client, clock):
    from argon2 import PasswordHasher

    from portal.auth.passwords import needs_rehash

    clock.set(datetime(2026, 11, 2, 10, 0))
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(factories.PASSWORD)
    user = factories.user(password_hash=weak)
    db.session.commit()
    assert factories.login(client, user).status_code == 302
    db.session.refresh(user)
    assert user.last_login_at == datetime(2026, 11, 2, 10, 0)
    assert user.password_hash != weak and not needs_rehash(user.password_hash)


def test_login_rotates_the_session(app, client):
    user = factories.user()
    db.session.commit()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["lang"] = "en"
    factories.login(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_cannot_redirect_off_site(app, client, target):
    user = factories.user()
    db.session.commit()
    page = client.get("/auth/login", query_string={"next": target}).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="next"[^>]*>', page).group(0).count("evil") == 0
    response = client.post(
        "/auth/login", data={"email": user.email, "password": factories.PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.location == "/me"


def test_next_is_honoured_for_a_local_path(app, client):
    user = factories.user()
    db.session.commit()
    page = client.get("/auth/login?next=/me/profile").get_data(as_text=True)
    assert 'value="/me/profile"' in page
    response = client.post(
        "/auth/login", data={"email": user.email, "password": factories.PASSWORD, "next": "/me/profile"}
    )
    assert response.location == "/me/profile"


def test_staff_land_on_their_pages(app, client):
    reviewer = factories.user(role="reviewer")
    admin = factories.user(role="admin")
    db.session.commit()
    assert factories.login(client, reviewer).location == "/review"
    client.post("/auth/logout")
    assert factories.login(app.test_client(), admin).location == "/admin"


def test_logout_is_post_only(app, client):
    user = factories.user()
    db.session.commit()
    factories.login(client, user)
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/me/profile").status_code == 200


@pytest.mark.parametrize("value", ["a\x00b@example.org", "\u202eadmin@example.org", "x" * 5000, "é@é"])
def test_odd_input_never_breaks_the_account_forms(app, client, value):
    user = factories.user()
    db.session.commit()
    assert (
        client.post("/auth/login", data={"email": value, "password": value, "next": value}).status_code == 200
    )
    assert client.post("/auth/login", data={"email": user.email, "password": "p\x00" * 10}).status_code == 200
    assert client.post("/auth/forgot", data={"email": value}).status_code in (200, 302)
    assert client.post("/auth/confirm/resend", data={"email": value}).status_code in (302, 400)
    assert client.get(f"/auth/confirm/{value[:100]}").status_code in (400, 404)
    assert client.get(f"/auth/reset/{value[:100]}").status_code in (400, 404)
    assert outbox_count() == 0


def test_password_fields_carry_a_show_button_that_scripts_reveal(client):
    """The button is in the page for portal.js, hidden (useless) without script."""
    page = client.get("/auth/register").get_data(as_text=True)
    for field in ("password", "password_confirm"):
        button = re.search(rf'<button type="button"[^>]*data-reveal="{field}"[^>]*>', page)
        assert button and " hidden" in button.group(0) and f'aria-controls="{field}"' in button.group(0)
    assert page.count("data-reveal=") == 2  # password fields only
