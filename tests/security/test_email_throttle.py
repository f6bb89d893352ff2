"""ASVS 2.2.1 / 11.1.4: the forms that send account emails or hash a password are throttled.

Registration, forgotten password, new confirmation link and the staff invitation count
every request they accept: per client address for each form, and per target address for
all of them together (known or not), so that an inbox gets at most a few account emails
an hour whoever asks. A refusal is the translated 429 page with Retry-After, the same for
known and unknown addresses, and comes before any password is hashed or email rendered.
The counts live in RATELIMIT_STORAGE_URI, shared by every instance through Redis.
"""

from itertools import count

import pytest
from limits import parse
from sqlalchemy import func, select

from portal.auth import passwords
from portal.auth.models import User
from portal.config import Config
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories
from tests.helpers import REDIS_URI, another_worker, assert_throttled
from tests.security import formdata

VICTIM = "victim@example.org"

_cins = count(100001)


def client_from(app, address):
    """A client whose requests come from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def forgot(client, email=VICTIM):
    return client.post("/auth/forgot", data={"email": email})


def resend(client, email=VICTIM):
    return client.post("/auth/confirm/resend", data={"email": email})


def register(client, city, email=VICTIM, cin=None):
    return client.post(
        "/auth/register",
        data=formdata.registration(city, email=email, cin=cin or f"AB{next(_cins)}"),
    )


def outbox_rows(address):
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(OutboxEmail).where(OutboxEmail.to_address == address)
    )


def test_shipped_limits():
    per_target = parse(Config.ACCOUNT_EMAIL_TARGET_LIMIT)
    assert (per_target.amount, per_target.get_expiry()) == (3, 3600)
    for setting in ("REGISTER_ADDRESS_LIMIT", "FORGOT_ADDRESS_LIMIT", "CONFIRM_RESEND_ADDRESS_LIMIT"):
        limit = parse(getattr(Config, setting))
        assert (limit.amount, limit.get_expiry()) == (10, 15 * 60), setting
    invite = parse(Config.INVITE_ADDRESS_LIMIT)
    assert (invite.amount, invite.get_expiry()) == (30, 3600)


@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
def test_forgot_sends_at_most_3_emails_an_hour_to_an_address_whoever_asks(
    throttled, known, deliver, smtp_server
):
    if known:
        factories.user(email=VICTIM)
        db.session.commit()
    answers = [forgot(client_from(throttled, f"198.51.100.{n}")) for n in range(3)]
    assert [r.status_code for r in answers] == [302, 302, 302]
    # A fourth, from yet another address and whatever the case of the email: refused.
    refused = forgot(client_from(throttled, "203.0.113.9"), "  Victim@Example.ORG ")
    assert_throttled(refused)
    assert outbox_rows(VICTIM) == 3
    deliver()
    assert len(smtp_server.to(VICTIM)) == (3 if known else 0)
    # Another address is not affected.
    assert forgot(client_from(throttled, "203.0.113.9"), "someone.else@example.org").status_code == 302


def test_the_refusal_is_the_same_for_known_and_unknown_addresses(throttled):
    factories.user(email="known@example.org")
    db.session.commit()
    answers = {}
    for email in ("known@example.org", "unknown@example.org"):
        for n in range(3):
            forgot(client_from(throttled, f"198.51.100.{n}"), email)
        answers[email] = forgot(client_from(throttled, "203.0.113.9"), email)
    known, unknown = answers["known@example.org"], answers["unknown@example.org"]
    assert known.status_code == unknown.status_code == 429
    assert known.get_data() == unknown.get_data()


def test_the_target_budget_is_shared_by_every_account_email_form(throttled, deliver, smtp_server):
    city = factories.city()
    db.session.commit()
    assert register(client_from(throttled, "198.51.100.1"), city).status_code == 302
    assert resend(client_from(throttled, "198.51.100.2")).status_code == 302
    assert forgot(client_from(throttled, "198.51.100.3")).status_code == 302
    assert_throttled(forgot(client_from(throttled, "198.51.100.4")))
    assert_throttled(resend(client_from(throttled, "198.51.100.5")))
    assert_throttled(register(client_from(throttled, "198.51.100.6"), city))
    deliver()
    # The confirmation, then a new confirmation link, then the reset link: three emails.
    assert len(smtp_server.wait_for(3)) == 3
    assert len(smtp_server.to(VICTIM)) == 3


def test_forgot_is_limited_per_client_address(throttled):
    throttled.config["FORGOT_ADDRESS_LIMIT"] = "5 per 15 minutes"
    client = throttled.test_client()
    for n in range(5):
        assert forgot(client, f"person{n}@example.org").status_code == 302
    assert_throttled(forgot(client, "person5@example.org"), window=15 * 60)
    assert outbox_rows("person5@example.org") == 0
    assert forgot(client_from(throttled, "192.0.2.44"), "person5@example.org").status_code == 302


def test_registration_is_limited_before_the_password_is_hashed(throttled, monkeypatch):
    throttled.config["REGISTER_ADDRESS_LIMIT"] = "2 per 15 minutes"
    city = factories.city()
    db.session.commit()
    hashed = []
    real_hash = passwords.hash_password

    def counting_hash(password):
        hashed.append(1)
        return real_hash(password)

    monkeypatch.setattr(passwords, "hash_password", counting_hash)
    client = throttled.test_client()
    assert register(client, city, "first@example.org").status_code == 302
    assert register(client, city, "second@example.org").status_code == 302
    assert len(hashed) == 2
    assert_throttled(register(client, city, "third@example.org"), window=15 * 60)
    assert len(hashed) == 2
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    assert outbox_rows("third@example.org") == 0
    assert register(client_from(throttled, "192.0.2.44"), city, "third@example.org").status_code == 302


def test_registrations_with_a_known_address_tell_its_owner_at_most_3_times_an_hour(
    throttled, deliver, smtp_server
):
    city = factories.city()
    factories.user(email=VICTIM)
    db.session.commit()
    for n in range(3):
        assert register(client_from(throttled, f"198.51.100.{n}"), city).status_code == 302
    assert_throttled(register(client_from(throttled, "198.51.100.9"), city))
    deliver()
    assert [m["Subject"] for m in smtp_server.to(VICTIM)] == ["Votre adresse email a déjà un compte"] * 3


def test_registrations_with_a_known_cin_tell_its_owner_at_most_3_times_an_hour(
    throttled, deliver, smtp_server
):
    """Each attempt uses a new email and a new client address: the owner's inbox is still capped."""
    city = factories.city()
    factories.user(email=VICTIM, profile={"cin": "CD123456"})
    db.session.commit()
    answers = [
        register(client_from(throttled, f"198.51.100.{n}"), city, f"attempt{n}@example.org", "cd123456")
        for n in range(6)
    ]
    # The answer never changes: the CIN's owner being told or not is not visible.
    assert {(r.status_code, r.location) for r in answers} == {(302, "/auth/check-email?reason=register")}
    deliver()
    notices = smtp_server.to(VICTIM)
    assert [m["Subject"] for m in notices] == ["Votre numéro de CIN a été utilisé pour une inscription"] * 3


def test_resend_confirmation_is_limited_per_target_and_per_client_address(throttled):
    throttled.config["CONFIRM_RESEND_ADDRESS_LIMIT"] = "4 per 15 minutes"
    for n in range(3):
        assert resend(client_from(throttled, f"198.51.100.{n}")).status_code == 302
    assert_throttled(resend(client_from(throttled, "198.51.100.9")))
    client = throttled.test_client()
    for n in range(4):
        assert resend(client, f"person{n}@example.org").status_code == 302
    assert_throttled(resend(client, "person4@example.org"), window=15 * 60)


def test_a_logged_in_unconfirmed_user_asking_again_is_limited_too(throttled, deliver, smtp_server):
    user = factories.user(email=VICTIM, email_confirmed_at=None)
    db.session.commit()
    client = throttled.test_client()
    assert factories.login(client, user).status_code == 302
    for _ in range(3):
        assert client.post("/auth/confirm/resend").status_code == 302
    assert_throttled(client.post("/auth/confirm/resend"))
    deliver()
    assert len(smtp_server.to(VICTIM)) == 3


def test_staff_invitations_are_limited_per_target_and_per_client_address(throttled, deliver, smtp_server):
    throttled.config["INVITE_ADDRESS_LIMIT"] = "5 per hour"
    admin = factories.user(role="admin")
    db.session.commit()
    client = throttled.test_client()
    assert factories.login(client, admin).status_code == 302

    def invite(email):
        return client.post("/admin/users/invite", data={"email": email, "role": "reviewer"})

    for _ in range(3):
        assert invite("new.reviewer@ofppt.ma").status_code == 302
    assert_throttled(invite("New.Reviewer@ofppt.ma"))
    assert invite("other@ofppt.ma").status_code == 302
    assert invite("third@ofppt.ma").status_code == 302
    assert_throttled(invite("fourth@ofppt.ma"))
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "fourth@ofppt.ma")) is None
    deliver()
    assert len(smtp_server.to("new.reviewer@ofppt.ma")) == 3


def test_nothing_is_counted_when_throttling_is_off(app):
    assert app.config["RATELIMIT_ENABLED"] is False
    for _ in range(12):
        assert forgot(client_from(app, "198.51.100.1")).status_code == 302


# Shared storage --------------------------------------------------------------------------


def test_two_instances_share_the_target_and_address_counts_through_redis(
    app, tmp_path, redis_db, monkeypatch
):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    factories.user(email=VICTIM)
    db.session.commit()
    instances = [
        another_worker(
            app,
            tmp_path,
            name,
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI=REDIS_URI,
            FORGOT_ADDRESS_LIMIT="4 per 15 minutes",
        )
        for name in ("one", "two")
    ]
    first, second = instances
    try:
        for n in range(3):
            server = instances[n % 2]
            assert forgot(client_from(server, f"198.51.100.{n}")).status_code == 302
        # Neither instance saw three requests for the victim, yet both refuse the fourth.
        assert_throttled(forgot(client_from(first, "203.0.113.1")))
        assert_throttled(forgot(client_from(second, "203.0.113.2")))
        # One client address, four requests split between the instances: the fifth is refused.
        for n in range(4):
            server = instances[n % 2]
            assert forgot(client_from(server, "192.0.2.7"), f"person{n}@example.org").status_code == 302
        assert_throttled(forgot(client_from(first, "192.0.2.7"), "person9@example.org"), window=15 * 60)
        keys = [key.decode() for key in redis_db.keys("*")]
        assert keys, "nothing was counted in Redis"
        # Neither the email nor the client address appears in the keys.
        assert not any(
            "@" in key or "victim" in key or "198.51.100" in key or "192.0.2" in key for key in keys
        )
    finally:
        for other in instances:
            with other.app_context():
                db.engine.dispose()
