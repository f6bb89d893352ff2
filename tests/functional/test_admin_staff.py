"""Staff: search, invitations with an expiring link, roles, deactivation ending sessions."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.auth.models import User
from portal.extensions import db
from portal.timeutil import utcnow
from tests import factories
from tests.helpers import admin_client, audit_events, find_link

NEW_PASSWORD = "a long new staff password"


def user_by_email(email):
    return db.session.scalar(select(User).where(User.email == email))


def test_users_are_searchable_by_email_or_name_and_paginated(app):
    admin, _ = admin_client(app)
    app.config["PAGE_SIZE"] = 2
    factories.user(email="salma@example.org", profile={"first_name": "Salma", "last_name": "Bennani"})
    factories.user(email="youssef@example.org", profile={"first_name": "Youssef", "last_name": "Alaoui"})
    factories.user(role="reviewer", email="reviewer@ofppt.ma")
    db.session.commit()

    page = admin.get("/admin/users?q=bennani").get_data(as_text=True)
    assert "salma@example.org" in page and "youssef@example.org" not in page
    page = admin.get("/admin/users?q=YOUSSEF@").get_data(as_text=True)
    assert "youssef@example.org" in page and "salma@example.org" not in page
    page = admin.get("/admin/users?role=reviewer").get_data(as_text=True)
    assert "reviewer@ofppt.ma" in page and "salma@example.org" not in page
    # 4 users, 2 per page; the search is kept in the page links.
    page = admin.get("/admin/users?q=%40").get_data(as_text=True)
    assert "Page 1 sur 2" in page and re.search(r"/admin/users\?[^\"]*q=(@|%40)", page)
    # Wildcards are searched literally; odd input never fails.
    assert "Aucun utilisateur ne correspond." in admin.get("/admin/users?q=%25_").get_data(as_text=True)
    assert admin.get("/admin/users?page=abc&role=root").status_code == 200
    assert admin.get("/admin/users?q=%01bennani").status_code == 200


def test_invite_a_reviewer_who_sets_a_password_and_logs_in(app, smtp_server, deliver):
    admin, admin_user = admin_client(app)
    response = admin.post(
        "/admin/users/invite", data={"email": " New.Reviewer@OFPPT.ma ", "role": "reviewer"}
    )
    assert response.status_code == 302
    invited = user_by_email("new.reviewer@ofppt.ma")
    assert (invited.role, invited.password_hash, invited.active) == ("reviewer", None, True)
    assert audit_events("user_invited")[0].actor_id == admin_user.id
    # Not usable before the password is chosen.
    assert factories.login(app.test_client(), invited, password="").status_code != 302

    assert deliver() == (1, 0)
    message = smtp_server.wait_for(1)[0]
    assert "new.reviewer@ofppt.ma" in message["To"]
    path = find_link(message, "/admin/invite/")

    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "Choisir votre mot de passe" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    mismatch = visitor.post(path, data={"password": NEW_PASSWORD, "confirm": "something else entirely"})
    assert mismatch.status_code == 200 and "ne sont pas identiques" in mismatch.get_data(as_text=True)
    short = visitor.post(path, data={"password": "short", "confirm": "short"})
    assert "au moins 12 caractères" in short.get_data(as_text=True)
    response = visitor.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]

    # The link worked once.
    again = app.test_client().get(path)
    assert again.status_code == 400 and "a déjà été utilisé" in again.get_data(as_text=True)
    logged = app.test_client()
    assert (
        logged.post(
            "/auth/login", data={"email": "new.reviewer@ofppt.ma", "password": NEW_PASSWORD}
        ).status_code
        == 302
    )
    assert logged.get("/admin").status_code == 404  # a reviewer, not an administrator


def test_invitation_link_expires_and_tampering_fails(app, clock, smtp_server, deliver):
    admin, _ = admin_client(app)
    admin.post("/admin/users/invite", data={"email": "late@ofppt.ma", "role": "admin"})
    deliver()
    path = find_link(smtp_server.wait_for(1)[0], "/admin/invite/")
    assert app.test_client().get(path + "x").status_code == 400
    assert app.test_client().get("/admin/invite/" + "a" * 600).status_code == 400
    clock.set(utcnow() + timedelta(days=8))
    response = app.test_client().post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert user_by_email("late@ofppt.ma").password_hash is None


def test_inviting_again_resends_but_an_existing_account_is_refused(app, deliver, smtp_server):
    admin, _ = admin_client(app)
    applicant = factories.user(email="member@example.org")
    db.session.commit()
    admin.post("/admin/users/invite", data={"email": "pending@ofppt.ma", "role": "reviewer"})
    admin.post("/admin/users/invite", data={"email": "pending@ofppt.ma", "role": "admin"})
    assert user_by_email("pending@ofppt.ma").role == "admin"
    assert db.session.scalar(select(func.count(User.id)).where(User.email == "pending@ofppt.ma")) == 1

    response = admin.post("/admin/users/invite", data={"email": applicant.email, "role": "reviewer"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html and "Un compte existe déjà" in html
    assert 'value="member@example.org"' in html
    bad = admin.post("/admin/users/invite", data={"email": "not an email", "role": "root"})
    assert bad.status_code == 422
    assert 'id="email-error"' in bad.get_data(as_text=True) and 'id="role-error"' in bad.get_data(
        as_text=True
    )
    assert deliver() == (2, 0)


def test_change_role_is_audited_and_not_on_oneself(app):
    admin, admin_user = admin_client(app)
    offering = factories.offering()
    reviewer = factories.reviewer(offering)
    db.session.commit()
    assert admin.post(f"/admin/users/{reviewer.id}/role", data={"role": "admin"}).status_code == 302
    db.session.refresh(reviewer)
    assert reviewer.role == "admin"
    event = audit_events("role_changed")[0]
    assert (event.before, event.after, event.object_id) == (
        {"role": "reviewer"},
        {"role": "admin"},
        str(reviewer.id),
    )
    # Leaving the reviewer role drops the assignments.
    assert reviewer.reviewed_offerings == []

    response = admin.post(
        f"/admin/users/{admin_user.id}/role", data={"role": "applicant"}, follow_redirects=True
    )
    assert "propre rôle" in response.get_data(as_text=True)
    db.session.refresh(admin_user)
    assert admin_user.role == "admin"
    assert admin.post(f"/admin/users/{reviewer.id}/role", data={"role": "root"}).status_code == 302
    db.session.refresh(reviewer)
    assert reviewer.role == "admin"
    assert admin.post("/admin/users/999999/role", data={"role": "admin"}).status_code == 404


def test_deactivation_ends_open_sessions_and_blocks_login(app):
    admin, admin_user = admin_client(app)
    applicant = factories.user(email="leaving@example.org")
    db.session.commit()
    user_client = app.test_client()
    factories.login(user_client, applicant)
    assert user_client.get("/me").status_code == 200

    response = admin.post(f"/admin/users/{applicant.id}/deactivate")
    assert response.status_code == 302
    # The open session is dead: the next request is anonymous.
    response = user_client.get("/me")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    # And logging in again does not work.
    fresh = app.test_client()
    factories.login(fresh, applicant)
    assert fresh.get("/me").status_code == 302
    event = audit_events("user_deactivated")[0]
    assert (event.actor_id, event.after) == (admin_user.id, {"active": False})

    assert admin.post(f"/admin/users/{applicant.id}/reactivate").status_code == 302
    db.session.refresh(applicant)
    assert applicant.active
    assert audit_events("user_reactivated")
    again = app.test_client()
    factories.login(again, applicant)
    assert again.get("/me").status_code == 200


def test_an_administrator_cannot_deactivate_themself(app):
    admin, admin_user = admin_client(app)
    page = admin.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{admin_user.id}/deactivate" not in page
    response = admin.post(f"/admin/users/{admin_user.id}/deactivate", follow_redirects=True)
    assert "propre compte" in response.get_data(as_text=True)
    db.session.refresh(admin_user)
    assert admin_user.active
    assert admin.get("/admin").status_code == 200
