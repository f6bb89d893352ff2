"""ASVS 2.8 / 4.3.1: staff use a second factor. TOTP enrolment by QR code (or the secret
typed in), ten single-use recovery codes stored hashed, a code asked after the password,
staff pages refused until then, codes never accepted twice (issue point 4)."""

import base64
import re
import urllib.parse
from datetime import timedelta

import pyotp
import segno
from sqlalchemy import func, select

from portal.applications.models import Document
from portal.audit import AuditEvent
from portal.auth.invitations import make_invite_token
from portal.auth.models import RecoveryCode, User, UserSession
from portal.extensions import db
from tests import factories
from tests.helpers import TOTP_NOW, account_notices, code_at, enrol, secret_on, staff


def stored(user_id):
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(User, user_id)


def test_staff_pages_refuse_a_session_that_passed_only_the_password(required, client):
    reviewer = staff()
    login = factories.login(client, reviewer)
    assert login.status_code == 302 and login.location == "/auth/two-factor"
    assert client.get("/auth/two-factor").location == "/auth/two-factor/setup"
    for path in ("/review", "/review/applications/APP-2026-000001", "/me/profile", "/me"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/auth/two-factor/setup"), path
    assert client.get("/review").location == "/auth/two-factor/setup?next=/review"
    # Posts are refused as well: nothing is decided without the second factor.
    assert client.post("/review/decide", data={}).location == "/auth/two-factor/setup"


def test_admin_pages_refuse_a_session_without_the_second_factor(required, client):
    admin = staff("admin")
    factories.login(client, admin)
    for path in ("/admin", "/admin/users", "/admin/offerings"):
        assert client.get(path).location.startswith("/auth/two-factor/setup"), path


def test_staff_document_downloads_wait_for_the_second_factor(required, client):
    offering = factories.offering()
    reviewer = factories.reviewer(offering)
    application = factories.application(offering_=offering)
    document = Document(
        application=application,
        kind="membership",
        original_name="a.pdf",
        stored_name="missing.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    db.session.add(document)
    db.session.commit()
    factories.login(client, reviewer)
    response = client.get(f"/me/applications/{application.reference}/documents/{document.id}")
    assert response.status_code == 302 and response.location.startswith("/auth/two-factor/setup")


def test_enrolment_shows_a_qr_code_and_the_secret_and_needs_a_first_code(required, client):
    reviewer = staff()
    factories.login(client, reviewer)
    page = client.get("/auth/two-factor/setup").get_data(as_text=True)
    secret = secret_on(page)
    assert len(secret) >= 32  # 160 bits
    qr = re.search(r'<img src="data:image/svg\+xml;charset=utf-8,([^"]+)"', page)
    assert qr, "no inline SVG QR code"
    assert urllib.parse.unquote(qr.group(1)).startswith("<svg")
    # No inline script: the CSP's script-src 'self' needs none.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "data:" in client.get("/auth/two-factor/setup").headers["Content-Security-Policy"]
    # The same page again offers the same secret (showing it changes nothing).
    assert secret_on(client.get("/auth/two-factor/setup").get_data(as_text=True)) == secret
    assert stored(reviewer.id).totp_secret is None

    wrong = client.post("/auth/two-factor/setup", data={"code": "000000"})
    assert wrong.status_code == 422 and "Code incorrect" in wrong.get_data(as_text=True)
    assert secret_on(wrong.get_data(as_text=True)) == secret
    assert not stored(reviewer.id).has_two_factor

    done = client.post("/auth/two-factor/setup", data={"code": code_at(secret, TOTP_NOW)})
    assert done.status_code == 200
    user = stored(reviewer.id)
    assert user.has_two_factor and user.totp_secret == secret
    assert client.get("/review").status_code == 200


def test_recovery_codes_are_ten_shown_once_and_stored_hashed(required, client):
    reviewer = staff()
    _, codes = enrol(client, reviewer)
    assert len(codes) == len(set(codes)) == 10
    hashes = db.session.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.user_id == reviewer.id)
    ).all()
    assert len(hashes) == 10
    for code in codes:
        assert all(code not in h and code.replace("-", "") not in h for h in hashes)
    # Never shown again: the setup page now sends to the code step.
    assert client.get("/auth/two-factor/setup").location == "/auth/two-factor"


def test_enrolled_staff_are_asked_for_a_code_after_the_password(required, client, clock):
    reviewer = staff()
    secret, _ = enrol(client, reviewer)
    later = clock.set(TOTP_NOW + timedelta(minutes=5))
    browser = required.test_client()
    assert factories.login(browser, reviewer).location == "/auth/two-factor"
    assert browser.get("/review").location == "/auth/two-factor?next=/review"
    form = browser.get("/auth/two-factor?next=/review").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/review"' in form

    wrong = browser.post("/auth/two-factor", data={"code": "123456", "next": "/review"})
    assert wrong.status_code == 422 and "Code incorrect" in wrong.get_data(as_text=True)
    assert browser.get("/review").status_code == 302

    right = browser.post("/auth/two-factor", data={"code": code_at(secret, later), "next": "/review"})
    assert right.status_code == 302 and right.location == "/review"
    assert browser.get("/review").status_code == 200


def test_a_code_cannot_be_replayed(required, client, clock):
    reviewer = staff()
    secret, _ = enrol(client, reviewer)
    later = clock.set(TOTP_NOW + timedelta(minutes=5))
    code = code_at(secret, later)
    first, second = required.test_client(), required.test_client()
    factories.login(first, reviewer)
    factories.login(second, reviewer)
    assert first.post("/auth/two-factor", data={"code": code}).status_code == 302
    replay = second.post("/auth/two-factor", data={"code": code})
    assert replay.status_code == 422
    assert second.get("/review").status_code == 302
    # The code of the previous step is older than the one used: refused too.
    assert (
        second.post(
            "/auth/two-factor", data={"code": code_at(secret, later - timedelta(seconds=30))}
        ).status_code
        == 422
    )
    # The next time step brings a new code, which works.
    next_step = clock.set(later + timedelta(seconds=30))
    assert second.post("/auth/two-factor", data={"code": code_at(secret, next_step)}).status_code == 302


def test_the_enrolment_code_cannot_be_replayed_at_the_next_login(required, client):
    reviewer = staff()
    secret, _ = enrol(client, reviewer)
    other = required.test_client()
    factories.login(other, reviewer)
    assert other.post("/auth/two-factor", data={"code": code_at(secret, TOTP_NOW)}).status_code == 422


def test_a_recovery_code_works_once(required, client, clock):
    reviewer = staff()
    _, codes = enrol(client, reviewer)
    clock.set(TOTP_NOW + timedelta(minutes=5))
    first = required.test_client()
    factories.login(first, reviewer)
    # Typed in lower case without dashes: still accepted.
    used = first.post("/auth/two-factor", data={"code": codes[3].lower().replace("-", " ")})
    assert used.status_code == 302
    assert "il vous en reste 9" in first.get("/review").get_data(as_text=True)
    again = required.test_client()
    factories.login(again, reviewer)
    assert again.post("/auth/two-factor", data={"code": codes[3]}).status_code == 422
    assert again.post("/auth/two-factor", data={"code": codes[4]}).status_code == 302


def test_an_enrolled_authenticator_cannot_be_replaced_without_passing_it(required, client):
    reviewer = staff()
    secret, _ = enrol(client, reviewer)
    attacker = required.test_client()
    factories.login(attacker, reviewer)
    assert attacker.get("/auth/two-factor/setup").location == "/auth/two-factor"
    assert attacker.post("/auth/two-factor/setup", data={"code": "123456"}).location == "/auth/two-factor"
    assert stored(reviewer.id).totp_secret == secret


def test_the_second_factor_gives_a_new_session_identifier(required, client):
    reviewer = staff()
    secret, _ = enrol(client, reviewer)
    # After enrolment, and after each code, only one live session row for this browser.
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1
    before = db.session.scalar(select(UserSession.token_hash))
    browser = required.test_client()
    factories.login(browser, reviewer)
    pending = db.session.scalar(select(UserSession.token_hash).where(UserSession.token_hash != before))
    browser.post("/auth/two-factor", data={"code": code_at(secret, TOTP_NOW + timedelta(seconds=30))})
    hashes = set(db.session.scalars(select(UserSession.token_hash)).all())
    assert pending not in hashes and before in hashes and len(hashes) == 2


def test_wrong_codes_are_throttled(required, throttled, client):
    reviewer = staff()
    secret, _ = enrol(client, reviewer)
    browser = required.test_client()
    factories.login(browser, reviewer)
    for _ in range(10):
        assert browser.post("/auth/two-factor", data={"code": "000000"}).status_code == 422
    right = code_at(secret, TOTP_NOW + timedelta(seconds=30))
    response = browser.post("/auth/two-factor", data={"code": right})
    assert response.status_code == 429 and "Trop de tentatives" in response.get_data(as_text=True)


def test_applicants_are_not_asked_for_a_second_factor(required, client):
    applicant = factories.user()
    db.session.commit()
    assert factories.login(client, applicant).location == "/me"
    assert client.get("/me").status_code == 200
    assert client.get("/auth/two-factor/setup").status_code == 404


def test_the_invitation_page_stays_reachable(required, client):
    invited = User(email="invited@example.org", role="reviewer", password_hash=None)
    db.session.add(invited)
    db.session.commit()
    link = f"/admin/invite/{make_invite_token(invited)}"
    assert client.get(link).status_code == 200
    # Even from a browser where a staff member is half logged in.
    factories.login(client, staff("admin"))
    assert client.get(link).status_code == 200


def test_staff_are_not_asked_when_the_setting_is_off(app, client):
    app.config["STAFF_TWO_FACTOR_REQUIRED"] = False
    reviewer = staff()
    assert factories.login(client, reviewer).location == "/review"
    assert client.get("/review").status_code == 200


def test_qr_code_encodes_the_provisioning_uri_of_the_secret(required, client):
    reviewer = staff()
    factories.login(client, reviewer)
    page = client.get("/auth/two-factor/setup").get_data(as_text=True)
    secret = secret_on(page)
    uri = pyotp.TOTP(secret).provisioning_uri(name=reviewer.email, issuer_name=required.config["TOTP_ISSUER"])
    expected = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    assert f'src="{expected}"' in page
    assert base64.b32decode(secret)  # a valid base-32 secret


def test_an_administrator_resets_a_lost_authenticator(required, clock):
    reviewer, admin = staff(), staff("admin")
    lost_phone = required.test_client()
    enrol(lost_phone, reviewer)
    assert lost_phone.get("/review").status_code == 200
    console = required.test_client()
    enrol(console, admin)
    users = console.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{reviewer.id}/reset-two-factor" in users
    # Nobody resets their own: their row has no buttons.
    assert f"/admin/users/{admin.id}/reset-two-factor" not in users

    done = console.post(f"/admin/users/{reviewer.id}/reset-two-factor")
    assert done.status_code == 302 and done.location == "/admin/users"
    assert "est réinitialisée" in console.get("/admin/users").get_data(as_text=True)
    user = stored(reviewer.id)
    assert user.totp_secret is None and user.totp_enabled_at is None
    codes = select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == reviewer.id)
    assert db.session.scalar(codes) == 0
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "two_factor_reset")).one()
    assert (event.actor_id, event.object_id) == (admin.id, str(reviewer.id))
    # The session that was open ends; the next login asks for a new authenticator.
    assert lost_phone.get("/review").location.startswith("/auth/login")
    again = required.test_client()
    assert factories.login(again, reviewer).location == "/auth/two-factor"
    assert again.get("/auth/two-factor").location == "/auth/two-factor/setup"
    # A second reset has nothing to forget, and says so.
    console.post(f"/admin/users/{reviewer.id}/reset-two-factor")
    assert "pas de double authentification" in console.get("/admin/users").get_data(as_text=True)


def test_administrators_cannot_reset_their_own_second_factor(required):
    admin = staff("admin")
    console = required.test_client()
    enrol(console, admin)
    console.post(f"/admin/users/{admin.id}/reset-two-factor")
    assert stored(admin.id).totp_enabled_at is not None
    assert "votre propre double authentification" in console.get("/admin/users").get_data(as_text=True)


def notice_subjects():
    """(to, subject) of every account_changed email in the outbox, oldest first (ASVS 2.2.3)."""
    return [(to, subject) for to, subject, _ in account_notices()]


def test_registering_and_resetting_an_authenticator_are_told(required):
    reviewer = staff()
    admin = staff("admin")
    enrol(required.test_client(), reviewer)
    assert notice_subjects() == [(reviewer.email, "La double authentification est activée sur votre compte")]
    console = required.test_client()
    enrol(console, admin)
    assert console.post(f"/admin/users/{reviewer.id}/reset-two-factor").status_code == 302
    assert stored(reviewer.id).totp_secret is None
    told = notice_subjects()
    assert told == [
        (reviewer.email, "La double authentification est activée sur votre compte"),
        (admin.email, "La double authentification est activée sur votre compte"),
        (reviewer.email, "La double authentification de votre compte a été réinitialisée"),
    ]
