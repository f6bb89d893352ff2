"""ASVS 3.4 and 3.7.1: cookie attributes read from real Set-Cookie headers, and the
current password required for changing the email, phone, CIN or password (issue point 6)."""

import re

import pytest
from sqlalchemy import select

from portal import create_app
from portal.auth.models import User
from portal.extensions import db
from tests import factories
from tests.helpers import PortalClient
from tests.security import formdata

NEW_PASSWORD = "une toute nouvelle phrase"
HTTPS = "https://portal.example"


def session_set_cookie(response, name):
    """The Set-Cookie header of cookie ``name`` in ``response``, as (value, attributes)."""
    for header in response.headers.getlist("Set-Cookie"):
        cookie_name, _, rest = header.partition("=")
        if cookie_name == name:
            value, *attributes = [part.strip() for part in rest.split(";")]
            return value, {a.split("=")[0].lower(): (a.split("=", 1) + [""])[1] for a in attributes}
    raise AssertionError(f"no Set-Cookie for {name} in {response.headers.getlist('Set-Cookie')}")


def test_session_cookie_is_httponly_and_samesite_lax(app, client):
    user = factories.user()
    db.session.commit()
    response = factories.login(client, user)
    value, attributes = session_set_cookie(response, app.config["SESSION_COOKIE_NAME"])
    assert value
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    assert attributes["path"] == "/"
    assert "domain" not in attributes
    # Development over plain http: no Secure flag (the browser would drop the cookie).
    assert "secure" not in attributes


@pytest.fixture
def production(app, tmp_path, monkeypatch):
    """The portal in production configuration, on the test database."""
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    prod = create_app(
        {
            "PRODUCTION": True,
            "CNDP_DECLARATION": "D-GC-123/2026",
            "SECRET_KEY": "a production key " * 4,
            "TOTP_ENCRYPTION_KEYS": app.config["TOTP_ENCRYPTION_KEYS"],
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_ENABLED": False,
            "STAFF_TWO_FACTOR_REQUIRED": False,
        }
    )
    prod.test_client_class = PortalClient
    yield prod
    with prod.app_context():
        db.engine.dispose()


def test_production_session_cookie_is_secure_host_prefixed_httponly_lax(production):
    user = factories.user()
    db.session.commit()
    browser = production.test_client()
    page = browser.get("/auth/login", base_url=HTTPS).get_data(as_text=True)
    csrf_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = browser.post(
        "/auth/login",
        data={"email": user.email, "password": factories.PASSWORD, "csrf_token": csrf_token},
        base_url=HTTPS,
        # Over https Flask-WTF also checks that the form came from this site.
        headers={"Referer": f"{HTTPS}/auth/login"},
    )
    assert response.status_code == 302
    name = production.config["SESSION_COOKIE_NAME"]
    assert name.startswith("__Host-")
    value, attributes = session_set_cookie(response, name)
    assert value
    assert "secure" in attributes and "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    # What the __Host- prefix demands: Secure, Path=/ and no Domain.
    assert attributes["path"] == "/" and "domain" not in attributes
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    # The cookie works (over https) to reach a logged-in page.
    assert browser.get("/me/profile", base_url=HTTPS).status_code == 200


# Re-authentication for sensitive changes (ASVS 3.7.1) --------------------------------------


profile_form = formdata.profile


def snapshot(user_id):
    db.session.rollback()
    db.session.expire_all()
    user = db.session.get(User, user_id)
    return user.email, user.profile.phone, user.profile.cin, user.password_hash


CHANGES = {
    "email": {"email": "new.address@example.org"},
    "phone": {"phone": "0700000000"},
    "cin": {"cin": "CD654321"},
    "password": {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD},
}


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("current_password", ["", "not the current password"])
def test_sensitive_change_without_the_current_password_is_refused(
    app, client, applicant, change, current_password
):
    before = snapshot(applicant.id)
    response = client.post(
        "/me/profile", data=profile_form(applicant, current_password=current_password, **CHANGES[change])
    )
    assert response.status_code == 200
    assert "Mot de passe actuel incorrect" in response.get_data(as_text=True)
    assert snapshot(applicant.id) == before


@pytest.mark.parametrize("change", list(CHANGES))
def test_sensitive_change_with_the_current_password_is_applied(app, client, applicant, change):
    before = snapshot(applicant.id)
    response = client.post(
        "/me/profile", data=profile_form(applicant, current_password=factories.PASSWORD, **CHANGES[change])
    )
    assert response.status_code == 302
    after = snapshot(applicant.id)
    changed = {
        name
        for name, old, new in zip(("email", "phone", "cin", "password"), before, after, strict=True)
        if old != new
    }
    assert changed == {change}


def test_staff_password_change_needs_the_current_password(app, client):
    reviewer = factories.user(role="reviewer")
    db.session.commit()
    factories.login(client, reviewer)
    data = {"locale": "fr", "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    refused = client.post("/me/profile", data={**data, "current_password": "wrong one entirely"})
    assert refused.status_code == 200 and "Mot de passe actuel incorrect" in refused.get_data(as_text=True)
    db.session.rollback()
    assert (
        db.session.scalar(select(User.password_hash).where(User.id == reviewer.id)) == reviewer.password_hash
    )
    assert (
        client.post("/me/profile", data={**data, "current_password": factories.PASSWORD}).status_code == 302
    )
