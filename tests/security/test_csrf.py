"""Issue 6 point 8 (ASVS 4.2.2, 13.2.3): CSRF on every state change; no GET changes state.

CSRF is switched on for these tests (CSRFProtect reads WTF_CSRF_ENABLED per request; the
``app`` fixture restores the configuration afterwards). Every route accepting POST is
posted, by a visitor who may use it, without a token, with another session's token and
with an expired one: each gets the translated 400 page. The same POST with the
visitor's own fresh token gets through, which shows the three refusals are about the
token and nothing else.
"""

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.auth.models import User
from portal.extensions import db
from tests import factories
from tests.security import world as w
from tests.security.access_matrix import MATRIX, build_path, url_parameters

CSRF_PAGE = "Formulaire expiré"
SALT = "wtf-csrf-token"


def actor_for(rule):
    """Who would normally post to ``rule``."""
    if rule.startswith("/auth/two-factor"):
        return "reviewer"
    if rule.startswith("/admin/invite/") or rule.startswith("/auth/") and rule != "/auth/logout":
        return "anonymous"
    if rule.startswith("/admin"):
        return "admin"
    if rule.startswith("/review"):
        return "reviewer"
    return "owner"


def page_with_token(role):
    """A page that gives ``role`` a form (and so the session's CSRF token)."""
    return "/auth/login" if role == "anonymous" else "/me/profile"


def post_rules():
    """Every (rule) accepting POST, logout last (it ends the session)."""
    rules = sorted(rule for method, rule in MATRIX if method == "POST")
    return sorted(rules, key=lambda rule: rule == "/auth/logout")


def resign(app, token, age):
    """``token``'s value signed again as if ``age`` seconds ago."""
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    raw = URLSafeTimedSerializer(secret, salt=SALT).loads(token)

    class Signer(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - age

    return URLSafeTimedSerializer(secret, salt=SALT, signer=Signer).dumps(raw)


@pytest.fixture
def setting(app):
    """The access-matrix world, its logged-in clients and spares, then CSRF switched on."""
    world = w.build_world()
    parameters = url_parameters(world)
    clients = w.clients_for(app, world)
    strangers = w.clients_for(app, world, roles=("anonymous", "other_applicant"))
    app.config["WTF_CSRF_ENABLED"] = True
    return world, parameters, clients, strangers


def test_the_test_configuration_really_enables_csrf(app, setting):
    world, _, clients, _ = setting
    response = w.new_client(app).post(
        "/auth/login", data={"email": world.owner.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 400
    assert CSRF_PAGE in response.get_data(as_text=True)


def test_every_post_route_refuses_a_missing_foreign_or_expired_token(app, setting):
    _world, parameters, clients, strangers = setting
    foreign = w.csrf_token(strangers["other_applicant"], "/me/profile")
    expired_age = app.config["WTF_CSRF_TIME_LIMIT"] + 60
    failures = []
    checked = 0
    for rule in post_rules():
        role = actor_for(rule)
        client = clients[role]
        path = build_path(rule, parameters)
        own = w.csrf_token(client, page_with_token(role))
        attempts = {
            "no token": {},
            "another session's token": {"csrf_token": foreign},
            "expired token": {"csrf_token": resign(app, own, expired_age)},
        }
        for name, data in attempts.items():
            response = client.post(path, data=data)
            body = response.get_data(as_text=True)
            if response.status_code != 400 or CSRF_PAGE not in body:
                failures.append(f"POST {rule} as {role} with {name}: {response.status_code}")
        # The control: the same token signed now is accepted.
        response = client.post(path, data={"csrf_token": resign(app, own, 0)})
        if CSRF_PAGE in response.get_data(as_text=True):
            failures.append(f"POST {rule} as {role} with its own token was refused")
        checked += 1
    assert not failures, "\n".join(failures)
    assert checked == len([key for key in MATRIX if key[0] == "POST"]) >= 30


def test_the_token_header_is_checked_too(app, setting):
    world, _, clients, strangers = setting
    foreign = w.csrf_token(strangers["anonymous"])
    path = f"/me/applications/{world.withdraw_application.reference}/withdraw"
    response = clients["owner"].post(path, headers={"X-CSRFToken": foreign})
    assert response.status_code == 400
    db.session.expire_all()
    assert world.withdraw_application.status == "submitted"


def test_the_csrf_error_page_is_the_translated_layout(app, setting):
    response = w.new_client(app).post("/auth/forgot", data={"email": "a@example.org"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<html lang="fr"' in body and "rechargez-la puis envoyez le formulaire" in body
    assert "CSRF" not in body  # no technical jargon
    arabic = w.new_client(app)
    arabic.post("/lang/ar")
    body = arabic.post("/auth/forgot", data={"email": "a@example.org"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in body


def test_a_refused_post_changes_nothing(app, setting):
    world, _, clients, _ = setting
    before = table_contents()
    clients["owner"].post(f"/me/applications/{world.withdraw_application.reference}/withdraw")
    clients["admin"].post(f"/admin/users/{world.target_user.id}/deactivate")
    clients["reviewer"].post(
        f"/review/applications/{world.application.reference}/decide",
        data={"decision": "accepted", "version": "1"},
    )
    assert table_contents() == before


# No GET changes state --------------------------------------------------------------------

# The only writes a GET may make: appending to the audit log, which is how staff reading
# personal data is recorded (issue 6 point 17) and how exports are recorded (issue 4
# point 5); the session's last-seen time (user_session, the idle timeout of issue 6
# point 5). The language menu posts (issue 11 point 5, tests below).
AUDITED_GET_ACTIONS = {"view_personal_data", "export", "reach_export"}
IGNORED_TABLES = {"audit_event"}
IGNORED_COLUMNS = {("user_session", "last_seen_at")}


def table_contents():
    """Every row of every table (the audit log and session last-seen times aside)."""
    db.session.rollback()
    contents = {}
    for table in db.metadata.sorted_tables:
        if table.name in IGNORED_TABLES:
            continue
        columns = [c for c in table.columns if (table.name, c.name) not in IGNORED_COLUMNS]
        contents[table.name] = sorted(map(repr, db.session.execute(select(*columns)).all()))
    return contents


def test_no_get_route_changes_state(app):
    world = w.build_world()
    parameters = url_parameters(world)
    clients = w.clients_for(app, world)
    # Building the world leaves its own events (a participant's recorded outcome).
    built = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    changed = []
    for method, rule in sorted(MATRIX):
        if method != "GET":
            continue
        path = build_path(rule, parameters)
        for role in w.ROLES:
            before = table_contents()
            clients[role].get(path)
            after = table_contents()
            if after != before:
                tables = sorted(name for name in before if before[name] != after[name])
                changed.append(f"GET {rule} as {role} changed {tables}")
    assert not changed, "\n".join(changed)
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.id > built)))
    assert actions <= AUDITED_GET_ACTIONS
    assert "view_personal_data" in actions


def test_the_language_switch_is_a_post_behind_the_token_when_logged_in(app):
    """Issue 11 point 5: ``/lang/<code>`` writes the account's language only on a POST with a token."""
    owner = factories.user()
    client = w.new_client(app)
    factories.login(client, owner)
    app.config["WTF_CSRF_ENABLED"] = True
    before = table_contents()
    assert client.get("/lang/ar").status_code == 405
    response = client.post("/lang/ar", data={"next": "/me/profile"})
    assert response.status_code == 400 and CSRF_PAGE in response.get_data(as_text=True)
    assert table_contents() == before
    # The menu's own form, as the page gives it.
    page = client.get("/me/profile").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/lang/ar".*?</form>', page, re.S).group(0)
    data = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    assert set(data) == {"csrf_token", "next"} and data["next"] == "/me/profile"
    response = client.post("/lang/ar", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/me/profile"
    after = table_contents()
    assert [name for name in before if before[name] != after[name]] == ["user"]
    assert db.session.get(User, owner.id).locale == "ar"


def test_a_visitor_switches_language_without_a_session_but_not_from_another_site(app):
    """Visitors' pages are cached and tokenless; the browser's Sec-Fetch-Site tells a foreign form."""
    app.config["WTF_CSRF_ENABLED"] = True
    visitor = w.new_client(app)
    page = visitor.get("/").get_data(as_text=True)
    assert 'action="/lang/en"' in page and "csrf_token" not in page
    response = visitor.post("/lang/en", headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 302
    assert '<html lang="en"' in visitor.get("/").get_data(as_text=True)
    response = visitor.post("/lang/ar", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 400
    assert '<html lang="en"' in visitor.get("/").get_data(as_text=True)


def _menu_token(client):
    page = client.get("/me/profile").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/lang/ar".*?</form>', page, re.S).group(0)
    return re.search(r'name="csrf_token" value="([^"]*)"', form).group(1)


def test_a_token_signed_earlier_in_the_minute_is_the_sessions_and_still_works(app, monkeypatch):
    """Signed once a minute per session (``security``), the token stays the session's own."""
    from types import SimpleNamespace

    from portal import security

    # The minute as security.py sees it; tokens are signed (and checked) at the real time.
    now = [60 * 31_666_667 + 1.0]  # the first second of a minute
    monkeypatch.setattr(
        security, "time", SimpleNamespace(time=lambda: now[0], perf_counter=time.perf_counter)
    )
    owner, other = factories.user(), factories.user()
    client, stranger = w.new_client(app), w.new_client(app)
    factories.login(client, owner)
    factories.login(stranger, other)
    app.config["WTF_CSRF_ENABLED"] = True
    for each in (client, stranger):
        _menu_token(each)  # the session's first token: its raw token made and signed
    first = _menu_token(client)
    now[0] += 50
    time.sleep(1.1)  # a token signed now would carry another time
    assert _menu_token(client) == first  # signed once in this minute
    theirs = _menu_token(stranger)
    assert theirs != first
    # The page's forms carry the same token as the menu (one per request).
    page = client.get("/me/profile").get_data(as_text=True)
    assert set(re.findall(r'name="csrf_token"[^>]*value="([^"]*)"', page)) == {first}
    now[0] += 10  # the next minute
    second = _menu_token(client)
    assert second != first  # signed again, with this time
    # Both are this session's tokens, accepted within the time limit; the other's is not.
    assert client.post("/lang/en", data={"csrf_token": theirs, "next": "/me"}).status_code == 400
    assert client.post("/lang/en", data={"csrf_token": first, "next": "/me"}).status_code == 302
    assert client.post("/lang/ar", data={"csrf_token": second, "next": "/me"}).status_code == 302
