"""TOTP secrets are encrypted at rest with keys from the settings, which can be rotated;
production does not start without them."""

import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from portal import create_app
from portal.auth.models import User
from portal.extensions import db
from tests import factories
from tests.helpers import TEST_TOTP_KEY, TOTP_NOW, code_at, enrol, staff

NEW_KEY = Fernet.generate_key().decode()


def stored_row(user_id):
    """Every column of the user's row, as the database holds it."""
    db.session.rollback()
    return db.session.execute(select(User.__table__).where(User.__table__.c.id == user_id)).mappings().one()


def log_in_with_code(app, user, secret, moment):
    """A fresh browser that logs in with the password then the authenticator's code."""
    browser = app.test_client()
    assert factories.login(browser, user).location == "/auth/two-factor"
    passed = browser.post("/auth/two-factor", data={"code": code_at(secret, moment)})
    assert passed.status_code == 302, passed.get_data(as_text=True)
    assert browser.get("/review").status_code == 200
    return browser


def test_the_stored_value_is_not_the_secret_and_decrypts_to_it(required, client):
    reviewer = staff()
    secret, _ = enrol(client, reviewer)
    row = stored_row(reviewer.id)
    assert not any(secret in str(value) for value in row.values())
    token = row["totp_secret_encrypted"]
    assert Fernet(TEST_TOTP_KEY).decrypt(token.encode()).decode() == secret
    # Two enrolments of the same secret would not even store the same value (random IV).
    user = db.session.get(User, reviewer.id)
    user.totp_secret = secret
    assert user.totp_secret_encrypted != token and user.totp_secret == secret
    db.session.rollback()


def test_login_with_the_authenticator_works_after_enrolment(required, client, clock):
    reviewer = staff()
    secret, _ = enrol(client, reviewer)
    later = clock.set(TOTP_NOW + timedelta(minutes=5))
    log_in_with_code(required, reviewer, secret, later)


def test_after_a_rotation_the_old_key_still_decrypts_and_the_command_moves_rows_to_the_new_key(
    required, client, clock, runner
):
    reviewer, admin = staff(), staff("admin")
    secret, _ = enrol(client, reviewer)
    other_secret, _ = enrol(required.test_client(), admin)
    untouched = factories.user(role="reviewer")  # no authenticator: nothing to re-encrypt
    db.session.commit()

    required.config["TOTP_ENCRYPTION_KEYS"] = [NEW_KEY, TEST_TOTP_KEY]
    log_in_with_code(required, reviewer, secret, clock.set(TOTP_NOW + timedelta(minutes=5)))

    result = runner.invoke(args=["totp", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "2 re-encrypted with the first key, 0 already were" in result.output
    for user_id, expected in ((reviewer.id, secret), (admin.id, other_secret)):
        token = stored_row(user_id)["totp_secret_encrypted"].encode()
        assert Fernet(NEW_KEY).decrypt(token).decode() == expected
        with pytest.raises(InvalidToken):
            Fernet(TEST_TOTP_KEY).decrypt(token)
    assert stored_row(untouched.id)["totp_secret_encrypted"] is None
    # The old key can go: logins work with the new one alone.
    required.config["TOTP_ENCRYPTION_KEYS"] = [NEW_KEY]
    log_in_with_code(required, reviewer, secret, clock.set(TOTP_NOW + timedelta(minutes=10)))
    again = runner.invoke(args=["totp", "reencrypt"])
    assert "0 re-encrypted with the first key, 2 already were" in again.output


def test_reencrypting_without_the_old_key_changes_nothing_and_says_why(required, client, runner):
    reviewer = staff()
    enrol(client, reviewer)
    before = stored_row(reviewer.id)["totp_secret_encrypted"]
    required.config["TOTP_ENCRYPTION_KEYS"] = [NEW_KEY]
    result = runner.invoke(args=["totp", "reencrypt"])
    assert result.exit_code == 1
    assert f"user {reviewer.id} cannot be decrypted" in result.output
    assert TEST_TOTP_KEY not in result.output and NEW_KEY not in result.output
    assert stored_row(reviewer.id)["totp_secret_encrypted"] == before


def test_a_secret_no_key_reads_gives_a_page_that_says_to_come_back_not_a_crash(
    required, client, clock, caplog
):
    reviewer = staff()
    secret, _ = enrol(client, reviewer)
    # The key of the stored secret was dropped from the settings too soon.
    required.config["TOTP_ENCRYPTION_KEYS"] = [NEW_KEY]
    browser = required.test_client()
    assert factories.login(browser, reviewer).location == "/auth/two-factor"
    moment = clock.set(TOTP_NOW + timedelta(minutes=5))
    answer = browser.post("/auth/two-factor", data={"code": code_at(secret, moment)})
    assert answer.status_code == 503
    page = answer.get_data(as_text=True)
    assert "momentanément indisponible" in page and "Traceback" not in page
    # The operator reads which account and why; the person's address is not in the log.
    logged = [r.getMessage() for r in caplog.records if r.name == "portal.errors"]
    assert any(f"user {reviewer.id} cannot be decrypted" in message for message in logged), logged
    assert not any(reviewer.email in message for message in logged)
    # Still not logged in: the second factor was not passed.
    assert browser.get("/review").status_code == 302


def test_resetting_the_second_factor_forgets_the_encrypted_secret(required, client):
    reviewer, admin = staff(), staff("admin")
    enrol(client, reviewer)
    console = required.test_client()
    enrol(console, admin)
    assert console.post(f"/admin/users/{reviewer.id}/reset-two-factor").status_code == 302
    assert stored_row(reviewer.id)["totp_secret_encrypted"] is None


# Configuration ----------------------------------------------------------------------------


def _config(**settings):
    return {
        "SECRET_KEY": "k" * 64,
        "CNDP_DECLARATION": "D-GC-123/2026",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "RATELIMIT_ENABLED": False,
        **settings,
    }


def test_production_refuses_to_start_without_a_valid_key(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("PORTAL_TOTP_ENCRYPTION_KEYS", raising=False)
    with pytest.raises(RuntimeError, match="PORTAL_TOTP_ENCRYPTION_KEYS must be set in production"):
        create_app(_config(PRODUCTION=True))
    with pytest.raises(RuntimeError, match="key 2 is not a Fernet key") as refused:
        create_app(_config(PRODUCTION=True, TOTP_ENCRYPTION_KEYS=[NEW_KEY, "not-a-key"]))
    assert NEW_KEY not in str(refused.value)
    assert not (tmp_path / "totp_key").exists()  # nothing generated in production
    app = create_app(_config(PRODUCTION=True, TOTP_ENCRYPTION_KEYS=[NEW_KEY]))
    assert app.config["TOTP_ENCRYPTION_KEYS"] == [NEW_KEY]


def test_keys_come_from_the_environment_as_a_list_or_a_text(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PORTAL_TOTP_ENCRYPTION_KEYS", f"{NEW_KEY}, {TEST_TOTP_KEY}")
    assert create_app(_config(PRODUCTION=True)).config["TOTP_ENCRYPTION_KEYS"] == [NEW_KEY, TEST_TOTP_KEY]
    monkeypatch.setenv("PORTAL_TOTP_ENCRYPTION_KEYS", json.dumps([TEST_TOTP_KEY, NEW_KEY]))
    assert create_app(_config(PRODUCTION=True)).config["TOTP_ENCRYPTION_KEYS"] == [TEST_TOTP_KEY, NEW_KEY]


def test_development_generates_one_key_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("PORTAL_TOTP_ENCRYPTION_KEYS", raising=False)
    first = create_app(_config()).config["TOTP_ENCRYPTION_KEYS"]
    path = tmp_path / "totp_key"
    assert first == [path.read_text()] and Fernet(first[0])
    assert path.stat().st_mode & 0o777 == 0o600
    assert create_app(_config()).config["TOTP_ENCRYPTION_KEYS"] == first
    assert [p.name for p in tmp_path.iterdir() if "totp" in p.name] == ["totp_key"]
