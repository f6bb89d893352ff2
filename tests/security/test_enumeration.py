"""ASVS 2.2 / 3.x: no account enumeration. Login, registration, forgotten password and the
throttle answer the same whether an address has an account or not (issue point 3).

CSRF is on in these tests, as in production: the pages are compared once their
per-session tokens are masked.
"""

import re

import pytest
from sqlalchemy import func, select

from portal.auth.models import User
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories
from tests.helpers import message_text

_TOKEN = re.compile(r'(name="csrf_token" type="hidden" value="|name="csrf_token" value=")[^"]+')


@pytest.fixture
def csrf(app):
    """CSRF protection on, as in production (the app fixture restores the config)."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def token(client, path):
    """The CSRF token of the form on ``path``."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def masked(response, *typed):
    """The page with CSRF tokens and what the visitor typed replaced by placeholders."""
    page = _TOKEN.sub(r"\1TOKEN", response.get_data(as_text=True))
    for n, value in enumerate(typed):
        page = page.replace(value, f"TYPED{n}")
    return page


def post_login(client, email, password):
    data = {"email": email, "password": password, "csrf_token": token(client, "/auth/login")}
    return client.post("/auth/login", data=data)


def test_login_with_unknown_email_and_with_wrong_password_answer_the_same(csrf):
    factories.user(email="known@example.org")
    db.session.commit()
    unknown = post_login(csrf.test_client(), "unknown@example.org", "some wrong password")
    wrong = post_login(csrf.test_client(), "known@example.org", "some wrong password")
    assert unknown.status_code == wrong.status_code == 200
    assert masked(unknown, "unknown@example.org") == masked(wrong, "known@example.org")
    assert "Adresse email ou mot de passe incorrect" in wrong.get_data(as_text=True)
    assert ("Set-Cookie" in unknown.headers) == ("Set-Cookie" in wrong.headers)


def test_deactivated_account_with_its_right_password_answers_like_a_wrong_password(csrf):
    factories.user(email="gone@example.org", active=False)
    factories.user(email="here@example.org")
    db.session.commit()
    deactivated = post_login(csrf.test_client(), "gone@example.org", factories.PASSWORD)
    wrong = post_login(csrf.test_client(), "here@example.org", "some wrong password")
    assert deactivated.status_code == wrong.status_code == 200
    assert masked(deactivated, "gone@example.org") == masked(wrong, "here@example.org")


def test_throttled_login_answers_the_same_for_known_and_unknown_accounts(throttled):
    app = throttled
    app.config["LOGIN_ACCOUNT_LIMIT"] = "2 per 15 minutes"
    factories.user(email="known@example.org")
    db.session.commit()
    answers = {}
    for email in ("known@example.org", "unknown@example.org"):
        client = app.test_client()
        for _ in range(2):
            client.post("/auth/login", data={"email": email, "password": "some wrong password"})
        answers[email] = client.post("/auth/login", data={"email": email, "password": "whatever it is"})
    known, unknown = answers["known@example.org"], answers["unknown@example.org"]
    assert known.status_code == unknown.status_code == 429
    assert known.get_data() == unknown.get_data()


def registration(city, email, cin, csrf_token):
    return {
        "first_name": "Amina",
        "last_name": "El Idrissi",
        "cin": cin,
        "birth_date": "1990-05-17",
        "phone": "0612345678",
        "city_id": str(city.id),
        "education_level": "licence",
        "association_name": "Association Espoir",
        "association_registration": "REC-2019-0042",
        "association_city_id": str(city.id),
        "association_field": "education",
        "association_role": "Trésorière",
        "association_years": "4",
        "email": email,
        "password": "une phrase de passe assez longue",
        "password_confirm": "une phrase de passe assez longue",
        "locale": "fr",
        "consent": "y",
        "csrf_token": csrf_token,
    }


def test_registration_with_an_existing_email_answers_like_a_new_one(csrf, deliver, smtp_server):
    city = factories.city("Rabat")
    factories.user(email="taken@example.org", profile={"cin": "Z999"})
    db.session.commit()
    fresh, duplicate = csrf.test_client(), csrf.test_client()

    new = fresh.post(
        "/auth/register",
        data=registration(city, "someone.new@example.org", "AB111", token(fresh, "/auth/register")),
    )
    again = duplicate.post(
        "/auth/register",
        data=registration(city, "Taken@Example.org", "AB222", token(duplicate, "/auth/register")),
    )

    assert (again.status_code, again.location) == (new.status_code, new.location) == (302, new.location)
    assert masked(duplicate.get(again.location)) == masked(fresh.get(new.location))
    # Only the new address got an account; the owner of the known one is told by email.
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    deliver()
    smtp_server.wait_for(2)
    assert [m["Subject"] for m in smtp_server.to("someone.new@example.org")] == [
        "Confirmez votre adresse email"
    ]
    [to_owner] = smtp_server.to("taken@example.org")
    assert "/auth/forgot" in message_text(to_owner)


def test_forgotten_password_answers_the_same_for_known_and_unknown_addresses(csrf, deliver, smtp_server):
    factories.user(email="known@example.org")
    db.session.commit()
    answers = {}
    for email in ("Known@Example.org", "unknown@example.org"):
        client = csrf.test_client()
        response = client.post(
            "/auth/forgot", data={"email": email, "csrf_token": token(client, "/auth/forgot")}
        )
        answers[email] = (response.status_code, response.location, masked(client.get(response.location)))
    assert answers["Known@Example.org"] == answers["unknown@example.org"]
    assert answers["unknown@example.org"][0] == 302
    deliver()
    smtp_server.wait_for(1)
    assert len(smtp_server.to("known@example.org")) == 1
    assert smtp_server.to("unknown@example.org") == []


def test_new_confirmation_link_answers_the_same_for_known_and_unknown_addresses(csrf):
    factories.user(email="pending@example.org", email_confirmed_at=None)
    db.session.commit()
    answers = []
    for email in ("pending@example.org", "unknown@example.org"):
        client = csrf.test_client()
        response = client.post(
            "/auth/confirm/resend", data={"email": email, "csrf_token": token(client, "/auth/forgot")}
        )
        answers.append((response.status_code, response.location))
    assert answers[0] == answers[1] == (302, "/auth/check-email?reason=confirm")


def test_registration_with_another_persons_cin_answers_like_a_new_one(csrf, deliver, smtp_server):
    """The page does not say the CIN has an account; its owner is told, with nothing about the other."""
    city = factories.city("Rabat")
    factories.user(email="cin.owner@example.org", profile={"cin": "AB222", "first_name": "Salma"})
    db.session.commit()
    fresh, impostor = csrf.test_client(), csrf.test_client()

    new = fresh.post(
        "/auth/register",
        data=registration(city, "someone.new@example.org", "AB111", token(fresh, "/auth/register")),
    )
    taken = impostor.post(
        "/auth/register",
        data=registration(city, "impostor@example.org", "ab222", token(impostor, "/auth/register")),
    )

    assert (taken.status_code, taken.location) == (new.status_code, new.location) == (302, new.location)
    assert masked(impostor.get(taken.location)) == masked(fresh.get(new.location))
    db.session.rollback()
    assert (
        db.session.scalar(select(func.count()).select_from(User).where(User.email == "impostor@example.org"))
        == 0
    )
    deliver()
    smtp_server.wait_for(2)
    assert smtp_server.to("impostor@example.org") == []
    [notice] = smtp_server.to("cin.owner@example.org")
    assert notice["Subject"] == "Votre numéro de CIN a été utilisé pour une inscription"
    text = message_text(notice)
    assert "/auth/login" in text and "/auth/forgot" in text
    for detail in ("impostor", "Amina", "El Idrissi", "REC-2019-0042", "0612345678"):
        assert detail not in text


def forgot_statements(client, query_counter, email):
    """The SQL statements (without their values) that posting ``email`` on /auth/forgot runs."""
    with query_counter() as queries:
        response = client.post("/auth/forgot", data={"email": email})
    assert (response.status_code, response.location) == (302, "/auth/check-email?reason=reset")
    return list(queries.statements)


def test_forgotten_password_runs_the_same_statements_for_known_and_unknown_addresses(
    app, client, query_counter, deliver, smtp_server
):
    """Nothing about the account is looked up or prepared in the request: the time cannot tell."""
    factories.user(email="known@example.org")
    db.session.commit()
    known = forgot_statements(client, query_counter, "Known@Example.org")
    unknown = forgot_statements(app.test_client(), query_counter, "unknown@example.org")
    assert known == unknown
    # One row written, no account looked up (SQLite adds the BEGIN of its write transaction).
    assert [s.split()[0] for s in known if not s.startswith("BEGIN")] == ["INSERT"]

    # The worker sends the link to the account, and nothing (leaving nothing) for the other.
    assert deliver() == (1, 0)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "known@example.org" and "/auth/reset/" in message_text(message)
    assert smtp_server.wait_for(2, timeout=0.3) == [message]
    db.session.rollback()
    assert db.session.scalars(select(OutboxEmail.to_address)).all() == ["known@example.org"]


def test_new_confirmation_link_runs_the_same_statements_for_known_and_unknown_addresses(
    app, query_counter, deliver, smtp_server
):
    factories.user(email="pending@example.org", email_confirmed_at=None)
    db.session.commit()
    statements = []
    for email in ("pending@example.org", "unknown@example.org"):
        with query_counter() as queries:
            response = app.test_client().post("/auth/confirm/resend", data={"email": email})
        assert response.status_code == 302
        statements.append(list(queries.statements))
    assert statements[0] == statements[1]
    assert deliver() == (1, 0)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "pending@example.org" and "/auth/confirm/" in message_text(message)
