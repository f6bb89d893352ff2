"""ASVS 2.2.1: failed logins are throttled per account and per client address, the counts
are shared by every instance through Redis, and the client address comes from ProxyFix
only when proxies are configured (issue point 2)."""

import time

import pytest
from limits import parse

from portal import register_proxy_fix
from portal.auth.models import User
from portal.config import Config
from portal.extensions import db
from tests import factories
from tests.helpers import REDIS_URI, another_worker
from tests.helpers import assert_throttled as assert_throttled_within
from tests.security import formdata

WRONG = "this is not the password"


def attempt(client, email, password=WRONG, **headers):
    return client.post("/auth/login", data={"email": email, "password": password}, headers=headers)


def assert_login_throttled(response):
    """The 429 page of the login throttle, whose window is 15 minutes."""
    assert_throttled_within(response, window=15 * 60)


def test_shipped_limits_are_10_per_account_and_50_per_address_in_15_minutes():
    per_account, per_address = parse(Config.LOGIN_ACCOUNT_LIMIT), parse(Config.LOGIN_ADDRESS_LIMIT)
    assert (per_account.amount, per_account.get_expiry()) == (10, 15 * 60)
    assert (per_address.amount, per_address.get_expiry()) == (50, 15 * 60)
    assert Config.RATELIMIT_ENABLED is True


def test_after_10_failures_the_account_gets_429_even_with_the_right_password(throttled, client):
    user = factories.user()
    other = factories.user()
    db.session.commit()
    for _ in range(10):
        assert attempt(client, user.email).status_code == 200
    assert_login_throttled(attempt(client, user.email, factories.PASSWORD))
    # Whatever the case and spacing of the address typed, it is the same account.
    assert_login_throttled(attempt(throttled.test_client(), f"  {user.email.upper()} ", factories.PASSWORD))
    # Another account from the same address is not affected.
    assert attempt(client, other.email, factories.PASSWORD).status_code == 302


def test_nine_failures_leave_the_right_password_working(throttled, client):
    user = factories.user()
    db.session.commit()
    for _ in range(9):
        assert attempt(client, user.email).status_code == 200
    assert attempt(client, user.email, factories.PASSWORD).status_code == 302


def test_unknown_account_is_throttled_like_a_known_one(throttled, client):
    for _ in range(10):
        assert attempt(client, "nobody@example.org").status_code == 200
    assert_login_throttled(attempt(client, "nobody@example.org"))


@pytest.mark.parametrize("form", ["profile", "delete"])
def test_passwords_typed_to_confirm_an_action_share_the_login_budget(throttled, client, form):
    """A stolen open session cannot be used to guess the password on the profile or deletion form."""
    user = factories.user(profile={"cin": "AB123456", "phone": "+212612345678", "last_name": "Benali"})
    db.session.commit()
    assert attempt(client, user.email, factories.PASSWORD).status_code == 302

    def confirm(password):
        if form == "profile":
            return client.post(
                "/me/profile", data=formdata.profile(user, phone="07 00 00 00 00", current_password=password)
            )
        return client.post("/me/delete", data={"current_password": password, "understood": "y"})

    for _ in range(9):
        assert "Mot de passe actuel incorrect" in confirm(WRONG).get_data(as_text=True)
    # The login form counts against the same account.
    assert attempt(throttled.test_client(), user.email).status_code == 200
    assert_login_throttled(confirm(factories.PASSWORD))
    assert_login_throttled(attempt(throttled.test_client(), user.email, factories.PASSWORD))
    db.session.rollback()
    assert db.session.get(User, user.id).profile.phone == "+212612345678"


def test_account_limit_counts_in_a_moving_window(throttled, client):
    throttled.config["LOGIN_ACCOUNT_LIMIT"] = "2 per 2 seconds"
    user = factories.user()
    db.session.commit()
    attempt(client, user.email)
    attempt(client, user.email)
    assert_login_throttled(attempt(client, user.email, factories.PASSWORD))
    time.sleep(2.2)
    assert attempt(client, user.email, factories.PASSWORD).status_code == 302


def test_per_address_limit_spans_accounts(throttled, client):
    throttled.config["LOGIN_ADDRESS_LIMIT"] = "5 per 15 minutes"
    users = [factories.user() for _ in range(6)]
    db.session.commit()
    for user in users[:5]:
        assert attempt(client, user.email).status_code == 200
    # A sixth account, never tried before, with its right password: this address is blocked.
    assert_login_throttled(attempt(client, users[5].email, factories.PASSWORD))
    # From another address the account opens.
    other_address = throttled.test_client()
    other_address.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    assert attempt(other_address, users[5].email, factories.PASSWORD).status_code == 302


def test_forged_forwarded_for_does_not_change_the_bucket_without_a_proxy(throttled, client):
    assert throttled.config["PROXY_FIX_X_FOR"] == 0
    throttled.config["LOGIN_ADDRESS_LIMIT"] = "3 per 15 minutes"
    users = [factories.user() for _ in range(4)]
    db.session.commit()
    for n, user in enumerate(users[:3]):
        attempt(client, user.email, **{"X-Forwarded-For": f"198.51.100.{n}"})
    assert_login_throttled(
        attempt(client, users[3].email, factories.PASSWORD, **{"X-Forwarded-For": "198.51.100.99"})
    )


def test_behind_one_proxy_the_forwarded_address_is_the_bucket(throttled, client):
    throttled.config["LOGIN_ADDRESS_LIMIT"] = "3 per 15 minutes"
    throttled.config["PROXY_FIX_X_FOR"] = 1
    original = throttled.wsgi_app
    register_proxy_fix(throttled)
    try:
        users = [factories.user() for _ in range(5)]
        db.session.commit()
        # The proxy appends the address it saw; what the client put before it is not trusted.
        for user in users[:3]:
            attempt(client, user.email, **{"X-Forwarded-For": f"10.9.9.{user.id % 200}, 203.0.113.7"})
        assert_login_throttled(
            attempt(client, users[3].email, factories.PASSWORD, **{"X-Forwarded-For": "203.0.113.7"})
        )
        assert (
            attempt(
                client, users[3].email, factories.PASSWORD, **{"X-Forwarded-For": "203.0.113.8"}
            ).status_code
            == 302
        )
    finally:
        throttled.wsgi_app = original


# Shared storage --------------------------------------------------------------------------


def instance(app, tmp_path, name):
    """Another application process-alike on the same database, counting in Redis."""
    return another_worker(app, tmp_path, name, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URI)


def test_two_instances_share_the_account_limit_through_redis(app, tmp_path, redis_db, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    user = factories.user()
    db.session.commit()
    first, second = instance(app, tmp_path, "one"), instance(app, tmp_path, "two")
    try:
        for n in range(10):
            server = first if n % 2 else second
            assert attempt(server.test_client(), user.email).status_code == 200
        # Each instance saw only five failures, yet both refuse: the counts are shared.
        assert_login_throttled(attempt(first.test_client(), user.email, factories.PASSWORD))
        assert_login_throttled(attempt(second.test_client(), user.email, factories.PASSWORD))
        keys = [key.decode() for key in redis_db.keys("*")]
        assert keys, "nothing was counted in Redis"
        # Neither the address nor the client address appears in the keys.
        assert not any(user.email in key or "@" in key or "127.0.0.1" in key for key in keys)
    finally:
        for other in (first, second):
            with other.app_context():
                db.engine.dispose()


def test_with_separate_memory_storage_instances_would_not_share(app, tmp_path, monkeypatch):
    """The contrast that makes the Redis test meaningful: each instance counts on its own."""
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    user = factories.user()
    db.session.commit()
    first, second = instance(app, tmp_path, "one"), instance(app, tmp_path, "two")
    try:
        for other in (first, second):
            other.config["RATELIMIT_STORAGE_URI"] = "memory://"
        for n in range(10):
            server = first if n % 2 else second
            attempt(server.test_client(), user.email)
        assert attempt(first.test_client(), user.email, factories.PASSWORD).status_code == 302
    finally:
        for other in (first, second):
            with other.app_context():
                db.engine.dispose()
