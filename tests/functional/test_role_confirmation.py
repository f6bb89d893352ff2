"""A role change in /admin/users is confirmed on its own page (no script needed) first."""

import html
import re

from sqlalchemy import select

from portal.audit import AuditEvent
from portal.auth.models import User
from portal.extensions import db
from tests import factories
from tests.helpers import admin_client


def text_of(response):
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True))).split())


def test_choosing_a_role_in_the_list_asks_for_confirmation_first(app):
    admin, _ = admin_client(app)
    offering = factories.offering()
    reviewer = factories.reviewer(offering, email="nadia@ofppt.ma")
    db.session.commit()
    reviewer_id = reviewer.id

    page = admin.get("/admin/users").get_data(as_text=True)
    # The list's form only leads to the confirmation page: a GET, nothing posted.
    form = re.search(rf'<form method="(\w+)" action="/admin/users/{reviewer_id}/role"', page)
    assert form and form.group(1) == "get"

    response = admin.get(f"/admin/users/{reviewer_id}/role?role=admin")
    assert response.status_code == 200
    text = text_of(response)
    assert "nadia@ofppt.ma" in text
    assert "Rôle actuel Évaluateur" in text and "Nouveau rôle Administrateur" in text
    assert "Son affectation à 1 session sera retirée." in text
    page = response.get_data(as_text=True)
    assert re.search(rf'<form method="post" action="/admin/users/{reviewer_id}/role"', page)
    assert '<input type="hidden" name="role" value="admin">' in page
    # Looking at the page changed nothing.
    db.session.expire_all()
    assert db.session.get(User, reviewer_id).role == "reviewer"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "role_changed")) is None

    # The page's button does it.
    response = admin.post(f"/admin/users/{reviewer_id}/role", data={"role": "admin"})
    assert response.status_code == 302 and response.location == "/admin/users"
    db.session.expire_all()
    user = db.session.get(User, reviewer_id)
    assert user.role == "admin" and user.reviewed_offerings == []


def test_the_confirmation_page_refuses_what_the_change_would_refuse(app):
    admin, admin_user = admin_client(app)
    applicant = factories.user()
    db.session.commit()
    for path, message in (
        (f"/admin/users/{applicant.id}/role?role=applicant", "a déjà le rôle Candidat"),
        (f"/admin/users/{applicant.id}/role?role=owner", "Choisissez une valeur dans la liste."),
        (f"/admin/users/{applicant.id}/role", "Choisissez une valeur dans la liste."),
        (
            f"/admin/users/{admin_user.id}/role?role=reviewer",
            "Vous ne pouvez pas modifier votre propre rôle.",
        ),
    ):
        response = admin.get(path)
        assert response.status_code == 302 and response.location == "/admin/users", path
        assert message in text_of(admin.get("/admin/users")), path
    assert admin.get("/admin/users/999999/role?role=admin").status_code == 404
