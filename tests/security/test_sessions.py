"""ASVS 3.2 / 3.3: server-side sessions that can be revoked (issue point 5).

A ``UserSession`` row per login; logout deletes it so a captured cookie is useless; a
password change, a reset or a deactivation ends the other sessions; idle and absolute
timeouts (configurable); a new session identifier at login; no "remember me".
"""

import hashlib
from datetime import datetime, timedelta

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import func, select

from portal.auth.models import User, UserSession
from portal.config import Config
from portal.extensions import db
from tests import factories
from tests.conftest import PortalClient

NOW = datetime(2026, 11, 2, 9, 0, 0)
NEW_PASSWORD = "une toute nouvelle phrase"


@pytest.fixture
def browser(app):
    """A test client whose requests each run in their own app context; shipped timeouts."""
    app.config["SESSION_IDLE_MINUTES"] = Config.SESSION_IDLE_MINUTES
    app.config["SESSION_ABSOLUTE_HOURS"] = Config.SESSION_ABSOLUTE_HOURS
    app.test_client_class = PortalClient
    return app.test_client()


def cookie(client, app):
    """The value of the session cookie held by ``client`` (None when there is none)."""
    found = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return found.value if found else None


def session_data(app, value):
    """What a session cookie value holds, read with the application's key."""
    return app.session_interface.get_signing_serializer(app).loads(value)


def replay(app, value):
    """A fresh browser presenting a captured session cookie; the answer of /me/profile."""
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return thief.get("/me/profile")


def rows(user_id=None):
    db.session.rollback()
    query = select(func.count()).select_from(UserSession)
    if user_id is not None:
        query = query.where(UserSession.user_id == user_id)
    return db.session.scalar(query)


def logged_in(response):
    return response.status_code == 200


def refused(response):
    return response.status_code == 302 and response.location.startswith("/auth/login")


def test_each_login_has_a_row_holding_only_the_hash_of_the_token(app, browser):
    user = factories.user()
    db.session.commit()
    assert factories.login(browser, user).status_code == 302
    token = session_data(app, cookie(browser, app))["_sid"]
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 32 and token not in row.token_hash
    other = app.test_client()
    factories.login(other, user)
    assert rows(user.id) == 2


def test_a_cookie_replayed_after_logout_is_refused(app, browser):
    user = factories.user()
    db.session.commit()
    factories.login(browser, user)
    captured = cookie(browser, app)
    assert logged_in(replay(app, captured))

    assert browser.post("/auth/logout").status_code == 302
    assert rows(user.id) == 0
    assert refused(browser.get("/me/profile"))
    assert refused(replay(app, captured))


def test_the_session_identifier_changes_at_login(app, browser):
    user = factories.user()
    db.session.commit()
    browser.get("/lang/en")  # an anonymous session: a cookie exists before the login
    before = cookie(browser, app)
    assert before is not None
    # Someone fixing the victim's session value in advance gains nothing from the login.
    fixed = app.test_client()
    fixed.set_cookie(app.config["SESSION_COOKIE_NAME"], before)

    factories.login(browser, user)
    after = cookie(browser, app)
    assert after != before
    assert "_sid" not in session_data(app, before) and "_sid" in session_data(app, after)
    assert logged_in(browser.get("/me/profile"))
    assert refused(fixed.get("/me/profile"))


def test_logging_in_again_replaces_the_session_of_this_browser(app, browser):
    user = factories.user()
    db.session.commit()
    factories.login(browser, user)
    first = cookie(browser, app)
    factories.login(browser, user)
    second = cookie(browser, app)
    assert session_data(app, first)["_sid"] != session_data(app, second)["_sid"]
    assert rows(user.id) == 1
    assert refused(replay(app, first))
    assert logged_in(replay(app, second))


def test_shipped_timeouts_are_30_minutes_idle_and_12_hours_in_all():
    assert (Config.SESSION_IDLE_MINUTES, Config.SESSION_ABSOLUTE_HOURS) == (30, 12)


def test_idle_timeout_is_30_minutes(app, browser, clock):
    user = factories.user()
    db.session.commit()
    clock.set(NOW)
    factories.login(browser, user)
    clock.set(NOW + timedelta(minutes=29))
    assert logged_in(browser.get("/me/profile"))
    # Activity moves the idle deadline.
    clock.set(NOW + timedelta(minutes=58))
    assert logged_in(browser.get("/me/profile"))
    clock.set(NOW + timedelta(minutes=58 + 31))
    assert refused(browser.get("/me/profile"))
    assert rows(user.id) == 0


def test_absolute_timeout_is_12_hours_even_when_active(app, browser, clock):
    user = factories.user()
    db.session.commit()
    clock.set(NOW)
    factories.login(browser, user)
    moment = NOW
    while moment < NOW + timedelta(hours=11, minutes=50):
        moment += timedelta(minutes=20)
        clock.set(min(moment, NOW + timedelta(hours=11, minutes=59)))
        assert logged_in(browser.get("/me/profile")), moment
    clock.set(NOW + timedelta(hours=12, minutes=1))
    assert refused(browser.get("/me/profile"))


def test_timeouts_are_configurable(app, browser, clock):
    app.config["SESSION_IDLE_MINUTES"] = 5
    app.config["SESSION_ABSOLUTE_HOURS"] = 1
    user = factories.user()
    db.session.commit()
    clock.set(NOW)
    factories.login(browser, user)
    clock.set(NOW + timedelta(minutes=6))
    assert refused(browser.get("/me/profile"))

    factories.login(browser, user)
    for minutes in (4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56):
        clock.set(NOW + timedelta(minutes=6 + minutes))
        assert logged_in(browser.get("/me/profile"))
    clock.set(NOW + timedelta(minutes=6 + 61))
    assert refused(browser.get("/me/profile"))


def test_last_seen_is_written_at_most_once_a_minute(app, browser, clock, query_counter):
    user = factories.user()
    db.session.commit()
    clock.set(NOW)
    factories.login(browser, user)
    clock.set(NOW + timedelta(seconds=50))
    with query_counter() as quiet:
        assert logged_in(browser.get("/me/profile"))
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in quiet.statements)
    assert db.session.scalar(select(UserSession.last_seen_at)) == NOW

    clock.set(NOW + timedelta(seconds=61))
    with query_counter() as touched:
        assert logged_in(browser.get("/me/profile"))
    assert sum(s.lstrip().upper().startswith("UPDATE") for s in touched.statements) == 1
    db.session.rollback()
    assert db.session.scalar(select(UserSession.last_seen_at)) == NOW + timedelta(seconds=61)


def test_a_password_change_ends_the_other_sessions(app, browser):
    user = factories.user(role="reviewer")
    db.session.commit()
    elsewhere = app.test_client()
    factories.login(browser, user)
    factories.login(elsewhere, user)
    captured = cookie(elsewhere, app)
    change = {
        "locale": "fr",
        "current_password": factories.PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    }
    assert browser.post("/me/profile", data=change).status_code == 302
    assert logged_in(browser.get("/me/profile"))
    assert refused(elsewhere.get("/me/profile"))
    assert refused(replay(app, captured))
    assert rows(user.id) == 1


def test_a_password_reset_ends_every_session(app, browser):
    from portal.auth.tokens import make_reset_token

    user = factories.user()
    db.session.commit()
    factories.login(browser, user)
    captured = cookie(browser, app)
    link = f"/auth/reset/{make_reset_token(user)}"
    other = app.test_client()
    assert (
        other.post(link, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code == 302
    )
    assert refused(browser.get("/me/profile"))
    assert refused(replay(app, captured))
    # The reset itself continues logged in, in the one remaining session.
    assert logged_in(other.get("/me/profile"))
    assert rows(user.id) == 1


def test_deactivation_ends_every_session_of_the_account(app, browser):
    admin = factories.user(role="admin")
    user = factories.user()
    db.session.commit()
    factories.login(browser, user)
    captured = cookie(browser, app)
    admin_client = app.test_client()
    factories.login(admin_client, admin)
    assert admin_client.post(f"/admin/users/{user.id}/deactivate").status_code == 302
    assert rows(user.id) == 0
    assert refused(browser.get("/me/profile"))
    assert refused(replay(app, captured))
    # Reactivating the account does not bring an old session back.
    db.session.get(User, user.id).active = True
    db.session.commit()
    assert refused(replay(app, captured))


def test_there_is_no_remember_me(app, browser):
    user = factories.user()
    db.session.commit()
    page = browser.get("/auth/login").get_data(as_text=True)
    assert "remember" not in page.lower()
    response = factories.login(browser, user)
    assert "remember_token" not in " ".join(response.headers.getlist("Set-Cookie"))
    # A remember cookie made with the application's own key opens nothing either.
    forged = app.test_client()
    with app.test_request_context():
        forged.set_cookie("remember_token", encode_cookie(user.get_id()))
    assert refused(forged.get("/me/profile"))


def test_a_session_cookie_of_one_user_cannot_be_pointed_at_another(app, browser):
    victim = factories.user()
    user = factories.user()
    db.session.commit()
    factories.login(browser, user)
    data = session_data(app, cookie(browser, app))
    data["_user_id"] = victim.get_id()
    tampered = app.session_interface.get_signing_serializer(app).dumps(data)
    # Even signed with the key, the session row belongs to someone else.
    assert refused(replay(app, tampered))
