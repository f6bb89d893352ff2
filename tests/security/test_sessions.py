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

NOW = datetime(2026, 11, 2, 9, 0, 0)
NEW_PASSWORD = "une toute nouvelle phrase"


@pytest.fixture
def browser(app):
    """A test client whose requests each run in their own app context; shipped timeouts."""
    app.config["SESSION_IDLE_MINUTES"] = Config.SESSION_IDLE_MINUTES
    app.config["SESSION_ABSOLUTE_HOURS"] = Config.SESSION_ABSOLUTE_HOURS
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
    browser.post("/lang/en")  # an anonymous session: a cookie exists before the login
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


def test_a_new_secret_key_refuses_the_cookies_signed_with_the_old_one(app, browser):
    """The signing serializer is kept between requests (portal.auth.sessions.CookieSessions):
    it must follow a change of key, not keep accepting what the old key signed."""
    user = factories.user()
    db.session.commit()
    factories.login(browser, user)
    value = cookie(browser, app)
    data = session_data(app, value)
    assert logged_in(replay(app, value))
    app.secret_key = "another-key-" + "k" * 40
    assert refused(replay(app, value))
    # The same session signed with the new key is accepted.
    assert logged_in(replay(app, app.session_interface.get_signing_serializer(app).dumps(data)))


# ASVS 3.3.4: users see their logged-in devices and log out the others ------------------

PHONE = "Mozilla/5.0 (Linux; Android 14; SM-A146B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
LAPTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"


def device_login(app, user, user_agent):
    """A new browser with its own User-Agent, logged in as ``user`` through the form."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    assert factories.login(client, user).status_code == 302
    return client


def session_ids(user_id):
    db.session.rollback()
    return set(db.session.scalars(select(UserSession.id).where(UserSession.user_id == user_id)))


def end(client, target, password=factories.PASSWORD):
    return client.post("/me/sessions", data={"end": str(target), "current_password": password})


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (PHONE, "Chrome · Android"),
        (LAPTOP, "Firefox · Windows"),
        (IPHONE, "Safari · iPhone"),
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 Edg/126.0",
            "Edge · Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 13) SamsungBrowser/25.0 Chrome/121.0 Mobile Safari/537.36",
            "Samsung Internet · Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
            "Safari · macOS",
        ),
        ("curl/8.5.0", None),
        ("", None),
    ],
)
def test_a_session_keeps_only_a_short_label_of_its_device(app, user_agent, label):
    user = factories.user()
    db.session.commit()
    device_login(app, user, user_agent)
    db.session.rollback()
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert row.device == label


def test_the_devices_page_lists_this_and_the_other_sessions(app):
    user = factories.user()
    db.session.commit()
    phone = device_login(app, user, PHONE)
    device_login(app, user, LAPTOP)
    page = phone.get("/me/sessions")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert (
        body.count("Chrome · Android") == 1 and body.count("Firefox · Windows") == 2
    )  # + its button's label
    this_device = body.index("Cet appareil")
    assert body.index("Chrome · Android") < this_device < body.index("Firefox · Windows")
    assert body.count('name="end"') == 2  # "all the others" and the laptop; none for this phone
    # Someone else's sessions are not listed.
    device_login(app, factories.user(), IPHONE)
    assert "Safari · iPhone" not in phone.get("/me/sessions").get_data(as_text=True)
    # The profile page leads there.
    assert 'href="/me/sessions"' in phone.get("/me/profile").get_data(as_text=True)


def test_logging_out_another_device_needs_the_password(app):
    user = factories.user()
    db.session.commit()
    phone = device_login(app, user, PHONE)
    laptop = device_login(app, user, LAPTOP)
    [laptop_id] = session_ids(user.id) - {min(session_ids(user.id))}

    wrong = end(phone, laptop_id, password="not my password")
    assert wrong.status_code == 422
    body = wrong.get_data(as_text=True)
    assert 'id="current_password-error"' in body and "Mot de passe actuel incorrect." in body
    assert "Firefox · Windows" in body  # the list is still there
    missing = end(phone, laptop_id, password="")
    assert missing.status_code == 422 and "Saisissez votre mot de passe actuel." in missing.get_data(
        as_text=True
    )
    assert logged_in(laptop.get("/me/profile"))

    done = end(phone, laptop_id)
    assert done.status_code == 302 and done.location == "/me/sessions"
    assert "Cet appareil est déconnecté." in phone.get("/me/sessions").get_data(as_text=True)
    assert refused(laptop.get("/me/profile"))
    assert logged_in(phone.get("/me/profile"))
    assert len(session_ids(user.id)) == 1


def test_logging_out_all_the_other_devices_keeps_this_one(app):
    user = factories.user()
    stranger = factories.user()
    db.session.commit()
    phone = device_login(app, user, PHONE)
    others = [device_login(app, user, LAPTOP), device_login(app, user, IPHONE)]
    theirs = device_login(app, stranger, LAPTOP)

    assert end(phone, "others").status_code == 302
    assert "Vous êtes déconnecté(e) de tous vos autres appareils." in phone.get("/me/sessions").get_data(
        as_text=True
    )
    assert all(refused(client.get("/me/profile")) for client in others)
    assert logged_in(phone.get("/me/profile")) and logged_in(theirs.get("/me/profile"))
    assert "Votre compte n'est ouvert sur aucun autre appareil." in phone.get("/me/sessions").get_data(
        as_text=True
    )


def test_another_users_session_or_this_one_cannot_be_ended_from_here(app):
    user = factories.user()
    stranger = factories.user()
    db.session.commit()
    phone = device_login(app, user, PHONE)
    theirs = device_login(app, stranger, LAPTOP)
    [their_id] = session_ids(stranger.id)
    [this_id] = session_ids(user.id)
    for target in (their_id, this_id, 999_999_999):
        response = end(phone, target)
        assert response.status_code == 302 and response.location == "/me/sessions"
        assert "Cette session était déjà fermée." in phone.get("/me/sessions").get_data(as_text=True)
    assert logged_in(theirs.get("/me/profile")) and logged_in(phone.get("/me/profile"))
    assert session_ids(stranger.id) == {their_id} and session_ids(user.id) == {this_id}
    # Anything but an id or "others" is refused without touching a session.
    for target in ("-1", "1 OR 1=1", "x" * 40, ""):
        assert end(phone, target).status_code == 422
    assert session_ids(user.id) == {this_id}


def test_sessions_past_their_timeouts_are_not_listed(app, browser, clock):
    user = factories.user()
    db.session.commit()
    clock.set(NOW)
    device_login(app, user, LAPTOP)
    # The laptop stays idle past the 30 minutes.
    clock.set(NOW + timedelta(minutes=31))
    browser.environ_base["HTTP_USER_AGENT"] = PHONE
    factories.login(browser, user)
    body = browser.get("/me/sessions").get_data(as_text=True)
    assert "Chrome · Android" in body and "Firefox · Windows" not in body
    # Logging in tidied the laptop's expired row away.
    assert len(session_ids(user.id)) == 1


def test_an_expired_session_not_yet_tidied_is_not_listed(app, browser, clock):
    user = factories.user()
    db.session.commit()
    clock.set(NOW)
    device_login(app, user, LAPTOP)
    browser.environ_base["HTTP_USER_AGENT"] = PHONE
    factories.login(browser, user)
    clock.set(NOW + timedelta(minutes=20))
    browser.get("/me")
    # The laptop is now idle for 31 minutes; its row is still there, nobody logged in since.
    clock.set(NOW + timedelta(minutes=31))
    body = browser.get("/me/sessions").get_data(as_text=True)
    assert len(session_ids(user.id)) == 2
    assert "Chrome · Android" in body and "Firefox · Windows" not in body


def test_wrong_passwords_on_the_devices_page_count_as_failed_logins(throttled):
    user = factories.user()
    db.session.commit()
    phone = device_login(throttled, user, PHONE)
    device_login(throttled, user, LAPTOP)
    for _ in range(10):
        assert end(phone, "others", password="guess").status_code == 422
    blocked = end(phone, "others")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert len(session_ids(user.id)) == 2


def test_the_devices_page_runs_the_same_queries_for_two_devices_or_twenty(app, query_counter):
    user = factories.user()
    db.session.commit()
    phone = device_login(app, user, PHONE)

    def statements():
        phone.get("/me/sessions")
        with query_counter() as counter:
            assert phone.get("/me/sessions").status_code == 200
        return counter.count

    device_login(app, user, LAPTOP)
    few = statements()
    for _ in range(18):
        device_login(app, user, IPHONE)
    assert phone.get("/me/sessions").get_data(as_text=True).count("Safari · iPhone") == 18 * 2
    assert statements() == few


# The idle warning (WCAG 2.2.1): pages say how long the session has left; a button extends it.


def test_logged_in_pages_say_how_many_seconds_the_session_has_left(app, browser, clock):
    user = factories.user()
    db.session.commit()
    assert 'id="session-warning"' not in browser.get("/tracks").get_data(as_text=True)
    clock.set(NOW)
    factories.login(browser, user)
    clock.set(NOW + timedelta(seconds=30))
    page = browser.get("/me/profile").get_data(as_text=True)
    # Not touched within the minute: the idle deadline still counts from the login.
    assert 'data-seconds-left="1770"' in page and 'data-keepalive="/auth/keepalive"' in page


def test_keepalive_extends_the_session_and_answers_the_seconds_left(app, browser, clock):
    user = factories.user()
    db.session.commit()
    anonymous = browser.get("/auth/keepalive")
    assert anonymous.status_code == 401 and anonymous.get_json() == {"seconds_left": 0}
    clock.set(NOW)
    factories.login(browser, user)
    # Within the minute too: pressing the button is activity.
    clock.set(NOW + timedelta(seconds=20))
    assert browser.get("/auth/keepalive").get_json() == {"seconds_left": 1800}
    clock.set(NOW + timedelta(minutes=29))
    assert browser.get("/auth/keepalive").get_json() == {"seconds_left": 1800}
    # Kept alive, the session still ends at its absolute limit (12 hours).
    for minutes in range(49, 12 * 60 - 15, 20):
        clock.set(NOW + timedelta(minutes=minutes))
        assert browser.get("/auth/keepalive").status_code == 200
    clock.set(NOW + timedelta(hours=11, minutes=45))
    assert browser.get("/auth/keepalive").get_json() == {"seconds_left": 15 * 60}
    clock.set(NOW + timedelta(hours=12, seconds=1))
    assert browser.get("/auth/keepalive").status_code == 401
    assert refused(browser.get("/me/profile"))
