"""Forgotten password: the same answer for everyone, a single-use expiring link, sessions ended."""

from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.auth.models import User
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories
from tests.helpers import find_link, login_with_email

NEW_PASSWORD = "une toute nouvelle phrase"


def ask_reset(client, email, deliver, smtp_server):
    """Fill the forgotten-password form; return the answer and the reset link received, if any."""
    response = client.post("/auth/forgot", data={"email": email})
    deliver()
    messages = smtp_server.wait_for(1, timeout=1)
    smtp_server.clear()
    link = find_link(messages[0], "/auth/reset/") if messages else None
    return response, link


def new_user(**kw):
    """A committed user; returns (email, id) since delivering mail ends the test's session."""
    user = factories.user(**kw)
    db.session.commit()
    return user.email, user.id


def choose(client, link, password=NEW_PASSWORD, confirm=None):
    """Submit the new-password form of a reset link."""
    return client.post(link, data={"password": password, "password_confirm": confirm or password})


def test_forgot_answers_the_same_for_known_and_unknown_addresses(app, deliver, smtp_server):
    factories.user(email="known@example.org")
    db.session.commit()
    known_client, unknown_client = app.test_client(), app.test_client()

    known, link = ask_reset(known_client, "Known@Example.org", deliver, smtp_server)
    unknown, no_link = ask_reset(unknown_client, "unknown@example.org", deliver, smtp_server)

    assert link is not None and no_link is None
    assert (
        (known.status_code, known.location)
        == (unknown.status_code, unknown.location)
        == (
            302,
            "/auth/check-email?reason=reset",
        )
    )
    assert known_client.get(known.location).get_data() == unknown_client.get(unknown.location).get_data()


def test_reset_works_once_and_logs_in(app, client, deliver, smtp_server):
    email, _ = new_user(email="amina@example.org")
    _, link = ask_reset(client, email, deliver, smtp_server)

    form = client.get(link)
    assert form.status_code == 200 and 'name="password_confirm"' in form.get_data(as_text=True)
    done = choose(client, link)
    assert done.status_code == 302 and done.location == "/me"
    assert client.get("/me/profile").status_code == 200

    # The old password no longer works, the new one does.
    client.post("/auth/logout")
    assert login_with_email(client, email).status_code == 200
    assert login_with_email(client, email, NEW_PASSWORD).status_code == 302

    # The link already served: it is refused and changes nothing.
    other = app.test_client()
    again = choose(other, link, password="encore un autre mot de passe")
    assert again.status_code == 400
    assert "ne fonctionne plus" in again.get_data(as_text=True)
    assert other.get(link).status_code == 400
    assert login_with_email(app.test_client(), email, NEW_PASSWORD).status_code == 302


def test_expired_reset_link_is_refused(app, client, deliver, smtp_server, clock):
    start = clock.set(datetime(2026, 10, 1, 8, 0))
    email, _ = new_user()
    _, link = ask_reset(client, email, deliver, smtp_server)

    clock.set(start + timedelta(seconds=app.config["RESET_TOKEN_MAX_AGE"] - 1))
    assert client.get(link).status_code == 200
    clock.set(start + timedelta(seconds=app.config["RESET_TOKEN_MAX_AGE"] + 1))
    assert client.get(link).status_code == 400
    assert choose(client, link).status_code == 400
    assert login_with_email(app.test_client(), email).status_code == 302


def test_reset_ends_other_sessions(app, deliver, smtp_server):
    email, user_id = new_user()
    elsewhere, here = app.test_client(), app.test_client()
    login_with_email(elsewhere, email)
    assert elsewhere.get("/me/profile").status_code == 200

    _, link = ask_reset(here, email, deliver, smtp_server)
    choose(here, link)

    assert here.get("/me/profile").status_code == 200
    assert elsewhere.get("/me/profile").location.startswith("/auth/login")
    db.session.rollback()
    assert db.session.scalar(select(User.auth_version).where(User.id == user_id)) == 2


def test_reset_form_validates_the_new_password(app, client, deliver, smtp_server):
    email, _ = new_user()
    _, link = ask_reset(client, email, deliver, smtp_server)
    short = choose(client, link, password="court")
    assert short.status_code == 200 and "au moins 12 caractères" in short.get_data(as_text=True)
    mismatch = choose(client, link, confirm="autre chose encore")
    assert mismatch.status_code == 200 and "pas identiques" in mismatch.get_data(as_text=True)
    # Still usable: nothing changed.
    assert choose(client, link).status_code == 302


def test_deactivated_account_gets_no_link_and_cannot_use_one(app, client, deliver, smtp_server):
    email, user_id = new_user()
    _, link = ask_reset(client, email, deliver, smtp_server)
    db.session.get(User, user_id).active = False
    db.session.commit()
    assert choose(client, link).status_code == 400
    _, none = ask_reset(client, email, deliver, smtp_server)
    assert none is None


def test_reset_of_an_unconfirmed_account_confirms_it(app, client, deliver, smtp_server):
    email, user_id = new_user(email_confirmed_at=None)
    _, link = ask_reset(client, email, deliver, smtp_server)
    choose(client, link)
    db.session.rollback()
    assert db.session.scalar(select(User.email_confirmed_at).where(User.id == user_id)) is not None


def test_bad_email_in_forgot_form_gets_a_message(app, client):
    response = client.post("/auth/forgot", data={"email": "pas une adresse"})
    assert response.status_code == 200
    assert "Adresse email invalide" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
