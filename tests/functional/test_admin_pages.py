"""Admin pages: who may open them, cities, tracks, dashboard, outbox, audit."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.associations.operations import find_or_declare
from portal.audit import AuditEvent
from portal.auth.staff import change_role
from portal.catalog.models import City, Offering, Region, Track
from portal.certificates.operations import issue
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.notifications.outbox import enqueue_to_user
from portal.timeutil import utcnow
from portal.vocabulary import AssociationField, CertificateLanguage
from tests import factories
from tests.helpers import admin_client

ADMIN_GETS = [
    "/admin",
    "/admin/cities",
    "/admin/cities/new",
    "/admin/cities/{city}/edit",
    "/admin/tracks",
    "/admin/tracks/new",
    "/admin/tracks/{track}/edit",
    "/admin/associations",
    "/admin/associations/{association}/edit",
    "/admin/associations/{association}/merge",
    "/admin/offerings",
    "/admin/offerings/new",
    "/admin/offerings/{offering}",
    "/admin/users",
    "/admin/users/{user}/role?role=reviewer",
    "/admin/outbox",
    "/admin/audit",
    "/admin/export.csv",
    "/admin/export.xlsx",
    "/admin/reach",
    "/admin/reach.csv",
    "/admin/reach.xlsx",
    "/admin/certificates",
    "/admin/certificates/{certificate}/revoke",
]
ADMIN_POSTS = [
    "/admin/cities/new",
    "/admin/cities/{city}/edit",
    "/admin/tracks/new",
    "/admin/tracks/{track}/edit",
    "/admin/associations/{association}/edit",
    "/admin/associations/{association}/verify",
    "/admin/associations/{association}/merge",
    "/admin/associations/{association}/referents",
    "/admin/associations/{association}/referents/{user}/remove",
    "/admin/offerings/new",
    "/admin/offerings/{offering}",
    "/admin/offerings/{offering}/close",
    "/admin/offerings/{offering}/reopen",
    "/admin/users/invite",
    "/admin/users/{user}/role",
    "/admin/users/{user}/deactivate",
    "/admin/users/{user}/reactivate",
    "/admin/users/{user}/reset-two-factor",
    "/admin/outbox/{email}/retry",
    "/admin/certificates/{certificate}/revoke",
]


@pytest.fixture
def objects(app):
    offering = factories.offering()
    applicant = factories.user()
    email = enqueue_to_user(applicant, "interest_opened", offering=offering)
    email.status = "failed"
    association = find_or_declare(
        name_fr="Association Al Amal", registration_number="RSK-2015-0421", field=AssociationField.SOCIAL
    )
    started = factories.offering(course_starts_on=utcnow() - timedelta(days=30))
    completed = factories.application(offering_=started, status="completed")
    certificate = issue(completed, CertificateLanguage.FR)
    db.session.commit()
    return {
        "certificate": certificate.id,
        "association": association.id,
        "city": offering.city_id,
        "track": offering.track_id,
        "offering": offering.id,
        "user": applicant.id,
        "email": email.id,
    }


def test_every_admin_route_is_listed_here(app):
    routes = {
        r.rule
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("admin.") and r.endpoint != "admin.accept_invite"
    }
    listed = {
        re.sub(r"\{(\w+)\}", lambda m: f"<int:{m[1]}_id>", url.split("?")[0])
        for url in ADMIN_GETS + ADMIN_POSTS
    }
    assert routes == listed


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_others_get_404_on_every_admin_route(app, objects, role):
    offering = db.session.get(Offering, objects["offering"])
    user = factories.reviewer(offering) if role == "reviewer" else factories.user()
    db.session.commit()
    # The fixture's completed application left its outcome in the audit trail.
    events_before = db.session.scalar(select(func.count(AuditEvent.id)))
    client = app.test_client()
    factories.login(client, user)
    for url in ADMIN_GETS:
        assert client.get(url.format(**objects)).status_code == 404, url
    for url in ADMIN_POSTS:
        assert client.post(url.format(**objects), data={"role": "admin", "seats": 1}).status_code == 404, url
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events_before


def test_anonymous_visitors_are_sent_to_login(app, objects, client):
    for url in ADMIN_GETS:
        response = client.get(url.format(**objects))
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url
    for url in ADMIN_POSTS:
        response = client.post(url.format(**objects))
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url


def test_a_deactivated_administrator_gets_nothing(app, objects):
    admin, admin_user = admin_client(app)
    admin_user.active = False
    db.session.commit()
    assert admin.get("/admin").status_code == 302


def test_admin_pages_are_not_cached(app, objects):
    admin, _ = admin_client(app)
    for url in ADMIN_GETS:
        response = admin.get(url.format(**objects))
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url


def test_add_and_edit_a_city(app):
    admin, _ = admin_client(app)
    region = factories.region(name_fr="Béni Mellal-Khénifra")
    db.session.commit()
    page = admin.get("/admin/cities/new").get_data(as_text=True)
    assert "Béni Mellal-Khénifra" in page

    missing = admin.post(
        "/admin/cities/new", data={"name_fr": "Khouribga", "name_ar": "", "name_en": "", "region_id": ""}
    )
    assert missing.status_code == 200
    html = missing.get_data(as_text=True)
    assert 'id="name_ar-error"' in html and 'id="region_id-error"' in html and 'value="Khouribga"' in html
    tampered = admin.post(
        "/admin/cities/new", data={"name_fr": "X\nY", "name_ar": "ا", "name_en": "X", "region_id": "abc"}
    )
    assert tampered.status_code == 200 and 'id="region_id-error"' in tampered.get_data(as_text=True)

    data = {"name_fr": "Khouribga", "name_ar": "خريبكة", "name_en": "Khouribga", "region_id": region.id}
    assert admin.post("/admin/cities/new", data=data).status_code == 302
    city = db.session.scalar(select(City).where(City.name_fr == "Khouribga"))
    assert (city.slug, city.name_ar, city.region_id) == ("khouribga", "خريبكة", region.id)
    assert "Khouribga" in admin.get("/admin/cities").get_data(as_text=True)
    duplicate = admin.post("/admin/cities/new", data=data)
    assert duplicate.status_code == 200 and "existe déjà" in duplicate.get_data(as_text=True)

    response = admin.post(f"/admin/cities/{city.id}/edit", data={**data, "name_en": "Khouribga City"})
    assert response.status_code == 302
    db.session.refresh(city)
    assert city.name_en == "Khouribga City"
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["city_created", "city_changed"]
    assert events[1].before == {"name_en": "Khouribga"} and events[1].after == {"name_en": "Khouribga City"}
    # A new city is at once a place applicants can live and register interest.
    assert db.session.scalar(select(func.count(City.id)).where(City.region_id == region.id)) == 1
    assert admin.get("/admin/cities/999999/edit").status_code == 404


def test_add_and_edit_a_track(app, client):
    admin, _ = admin_client(app)
    data = {
        "code": "data-gouv",
        "domain": "digital",
        "min_education": "baccalaureate",
        "title_fr": "Données ouvertes",
        "title_ar": "البيانات المفتوحة",
        "title_en": "Open data",
        "description_fr": "Publier les données de l'association.",
        "description_ar": "",
        "description_en": "",
    }
    bad = admin.post(
        "/admin/tracks/new",
        data={**data, "code": "data gouv!", "domain": "cooking", "description_en": "a\x01b"},
    )
    assert bad.status_code == 200
    html = bad.get_data(as_text=True)
    assert 'id="domain-error"' in html and "Données ouvertes" in html
    assert 'id="description_en-error"' in html
    # The code's format is the operation's rule: its refusal comes once the form parses.
    bad_code = admin.post("/admin/tracks/new", data={**data, "code": "data gouv!"})
    assert bad_code.status_code == 200
    assert 'id="code-error"' in bad_code.get_data(as_text=True)

    assert admin.post("/admin/tracks/new", data=data).status_code == 302
    track = db.session.scalar(select(Track).where(Track.code == "DATA-GOUV"))
    assert track.min_education == "baccalaureate" and track.title_ar == "البيانات المفتوحة"
    assert "Données ouvertes" in client.get("/tracks/DATA-GOUV").get_data(as_text=True)
    again = admin.post("/admin/tracks/new", data=data)
    assert again.status_code == 200 and "déjà ce code" in again.get_data(as_text=True)

    edit = {k: v for k, v in data.items() if k != "code"}
    edit.update(title_fr="Données ouvertes et transparence", min_education="licence")
    assert admin.post(f"/admin/tracks/{track.id}/edit", data=edit).status_code == 302
    db.session.refresh(track)
    assert (track.title_fr, track.min_education, track.code) == (
        "Données ouvertes et transparence",
        "licence",
        "DATA-GOUV",
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "track_changed"))
    assert set(event.after) == {"title_fr", "min_education"}


def seed_dashboard(n_offerings=1, per_offering=3):
    """Offerings with applications in several statuses, spread over days."""
    now = utcnow()
    rabat = factories.city("Rabat")
    offerings = []
    for _ in range(n_offerings):
        offering = factories.offering(city=rabat, opens_at=now - timedelta(days=5))
        offerings.append(offering)
        for i in range(per_offering):
            status = ("submitted", "under_review", "accepted")[i % 3]
            factories.application(offering_=offering, status=status, submitted_at=now - timedelta(days=i % 4))
    return offerings


def test_dashboard_shows_counts_seats_chart_demand_and_emails(app):
    admin, _ = admin_client(app)
    offering = seed_dashboard(per_offering=6)[0]
    fes = factories.city("Fès")
    for _ in range(2):
        applicant = factories.user(profile={"city": fes})
        factories.interest(applicant, offering.track, fes)
    email = enqueue_to_user(applicant, "interest_opened", offering=offering)
    email.status = "failed"
    for _ in range(2):
        enqueue_to_user(applicant, "interest_opened", offering=offering)
    db.session.commit()

    html = admin.get("/admin").get_data(as_text=True)
    assert re.search(r'id="total-applications">6<', html)
    status_table = html.split('id="status-table"')[1].split("</table>")[0]
    assert re.search(r'data-status="submitted">2<', status_table)
    assert re.search(r'data-status="accepted">2<', status_table)
    seats = html.split('id="seats-table"')[1].split("</table>")[0]
    assert re.search(r">25</td>\s*<td[^>]*>2</td>\s*<td[^>]*>23</td>", seats)
    # The chart: an SVG with a title and a description, bars, and a table of its data.
    svg = html.split("<svg")[1].split("</svg>")[0]
    assert 'role="img"' in svg and 'aria-labelledby="chart-title chart-desc"' in svg
    assert '<title id="chart-title">' in svg and '<desc id="chart-desc">' in svg
    assert svg.count("<rect") == 4  # the days spanned by the applications
    one = admin.get(f"/admin?offering={offering.id}").get_data(as_text=True)
    assert one.split("<svg")[1].split("</svg>")[0].count("<rect") == 6  # the window: 5 days ago to today
    assert "<script" not in html.split("<main")[1].split("</main>")[0]
    assert "Voir les données du graphique" in html
    demand = html.split('id="demand-table"')[1].split("</table>")[0]
    assert "Fès" in demand and re.search(r">2</td>", demand)
    assert re.search(r'id="emails-failed">1<', html)
    assert re.search(r'id="emails-pending">2<', html)


def test_dashboard_filters_are_shared_with_the_export_links(app):
    admin, _ = admin_client(app)
    first, second = seed_dashboard(n_offerings=2, per_offering=3)
    db.session.commit()
    html = admin.get(f"/admin?offering={second.id}&status=accepted").get_data(as_text=True)
    assert re.search(r'id="total-applications">1<', html)
    assert f"/admin/export.csv?offering={second.id}&amp;status=accepted" in html
    assert f"/admin/export.xlsx?offering={second.id}&amp;status=accepted" in html
    # Malformed filters are ignored rather than failing.
    assert admin.get("/admin?offering=abc&status=zzz&year=20x6&city=-1").status_code == 200
    assert first.id != second.id


def test_dashboard_query_count_does_not_grow_with_data(app, query_counter):
    admin, _ = admin_client(app)
    seed_dashboard(n_offerings=1, per_offering=3)
    db.session.commit()
    admin.get("/admin")
    with query_counter() as small:
        assert admin.get("/admin").status_code == 200
    seed_dashboard(n_offerings=6, per_offering=12)
    for _ in range(5):
        applicant = factories.user(profile={"city": factories.city()})
        factories.interest(applicant, factories.track(), applicant.profile.city)
    db.session.commit()
    with query_counter() as large:
        assert admin.get("/admin").status_code == 200
    assert large.count == small.count


def test_outbox_lists_and_retries_a_failed_email(app, smtp_server, deliver):
    admin, admin_user = admin_client(app)
    admin_id = admin_user.id
    applicant = factories.user(email="member@example.org")
    offering = factories.offering()
    db.session.commit()
    enqueue_to_user(applicant, "interest_opened", offering=offering)
    db.session.commit()
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    smtp_server.refuse = True
    assert deliver() == (0, 1)
    email = db.session.scalar(select(OutboxEmail))
    assert email.status == "failed"
    email_id = email.id

    page = admin.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "member@example.org" in page and "SMTP" in page
    assert f"/admin/outbox/{email_id}/retry" in page
    assert "member@example.org" not in admin.get("/admin/outbox?status=sent").get_data(as_text=True)

    smtp_server.refuse = False
    assert admin.post(f"/admin/outbox/{email_id}/retry").status_code == 302
    assert (
        db.session.scalar(select(AuditEvent.action).where(AuditEvent.actor_id == admin_id)) == "email_retried"
    )
    assert deliver() == (1, 0)
    assert smtp_server.wait_for(1) and smtp_server.to("member@example.org")
    page = admin.get("/admin/outbox?status=sent").get_data(as_text=True)
    assert "member@example.org" in page
    # Retrying something that is not failed is refused.
    response = admin.post(f"/admin/outbox/{email_id}/retry", follow_redirects=True)
    assert "Seul un courriel en échec" in response.get_data(as_text=True)
    assert admin.get("/admin/outbox?status=bogus&page=-3").status_code == 200


def test_audit_log_is_filterable_and_has_no_edit_routes(app):
    admin, admin_user = admin_client(app)
    other_admin = factories.user(role="admin", email="other.admin@ofppt.ma")
    target = factories.user(email="target@example.org")
    db.session.commit()
    admin.post(f"/admin/users/{target.id}/role", data={"role": "reviewer"})
    admin.post(f"/admin/users/{target.id}/deactivate")
    other = app.test_client()
    factories.login(other, other_admin)
    other.post(f"/admin/users/{target.id}/reactivate")

    page = admin.get("/admin/audit").get_data(as_text=True)
    # Actions are shown by their labels, filtered by their codes.
    assert "Rôle modifié" in page and "Compte désactivé" in page and "Compte réactivé" in page
    table = admin.get("/admin/audit?action=role_changed").get_data(as_text=True).split('id="audit-table"')[1]
    assert "Rôle modifié" in table and "Compte désactivé" not in table
    table = admin.get("/admin/audit?actor=other.admin").get_data(as_text=True).split('id="audit-table"')[1]
    assert "Compte réactivé" in table and "Rôle modifié" not in table
    today = utcnow().date()
    assert (
        "Rôle modifié"
        in admin.get(f"/admin/audit?date_from={today}&date_to={today}")
        .get_data(as_text=True)
        .split('id="audit-table"')[1]
    )
    future = (today + timedelta(days=2)).isoformat()
    assert "Aucun évènement ne correspond." in admin.get(f"/admin/audit?date_from={future}").get_data(
        as_text=True
    )
    assert admin.get("/admin/audit?date_from=yesterday&object_type=%01%02").status_code == 200
    # Append-only: nothing edits or deletes an event.
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin/audit"):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}
    assert admin_user.id != other_admin.id


def test_regions_exist_for_the_city_form(app):
    # The city form lists regions; an empty database still renders it.
    admin, _ = admin_client(app)
    assert db.session.scalar(select(func.count(Region.id))) == 0
    assert admin.get("/admin/cities/new").status_code == 200


def test_demand_links_to_a_draft_already_planned_instead_of_a_new_one(app):
    admin, _ = admin_client(app)
    fes = factories.city("Fès")
    track = factories.track()
    draft = factories.offering(track=track, city=fes, status="draft")
    applicant = factories.user(profile={"city": fes})
    factories.interest(applicant, track, fes)
    db.session.commit()
    demand = admin.get("/admin").get_data(as_text=True).split('id="demand-table"')[1].split("</table>")[0]
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", demand, re.S) if track.code in r)
    assert f'href="/admin/offerings/{draft.id}"' in row and "/admin/offerings/new" not in row


def test_demand_counts_as_residents_only_the_active_applicants_living_there(app):
    admin, admin_user = admin_client(app)
    fes = factories.city("Fès")
    track = factories.track()
    for _ in range(3):
        factories.user(profile={"city": fes})
    factories.user(profile={"city": fes}, active=False)
    promoted = factories.user(profile={"city": fes})
    change_role(admin_user, promoted, "reviewer")
    factories.user(profile={"city": factories.city("Oujda")}, active=False)
    db.session.commit()
    demand = admin.get("/admin").get_data(as_text=True).split('id="demand-table"')[1].split("</table>")[0]
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", demand, re.S) if track.code in r]
    assert any("Fès" in r for r in rows) and not any("Oujda" in r for r in rows)
    row = next(r for r in rows if "Fès" in r)
    assert re.search(r'data-label="Candidats résidents">3</td>', row)
