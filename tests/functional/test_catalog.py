"""The seeded catalogue and the public pages."""

import re

from sqlalchemy import func, select

from portal.catalog.models import City, Offering, Region, Track
from portal.catalog.operations import academic_year, seed_catalogue
from portal.extensions import db
from tests import factories
from tests.helpers import takes_applications


def counts():
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Region, City, Track, Offering)
    }


def test_seed_creates_the_catalogue_and_is_idempotent(runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    first = counts()
    assert first["Region"] == 12
    assert first["Track"] == 5
    assert first["Offering"] == 10
    # Every region has at least one city; the four programme cities exist.
    assert db.session.scalar(select(func.count(func.distinct(City.region_id)))) == 12
    offered = db.session.scalars(
        select(City.slug).join(Offering, Offering.city_id == City.id).distinct()
    ).all()
    assert sorted(offered) == ["agadir", "casablanca", "rabat", "tanger"]
    offerings = db.session.scalars(select(Offering)).all()
    assert all(o.seats == 25 and o.status == "open" and takes_applications(o) for o in offerings)
    assert {o.academic_year for o in offerings} == {academic_year()}

    again = runner.invoke(args=["seed"])
    assert again.exit_code == 0
    assert counts() == first


def test_seed_pairs_digital_tracks_with_rabat_casablanca_and_management_with_tanger_agadir(app):
    seed_catalogue()
    pairs = db.session.execute(
        select(Track.domain, City.slug).select_from(Offering).join(Offering.track).join(Offering.city)
    ).all()
    for domain, slug in pairs:
        assert slug in (("rabat", "casablanca") if domain == "digital" else ("tanger", "agadir"))


def test_seed_demo_prints_accounts(runner):
    result = runner.invoke(args=["seed", "--demo"])
    assert result.exit_code == 0
    assert "admin@demo.ma" in result.output and "reviewer@demo.ma" in result.output


def test_seed_goes_through_the_operations_and_leaves_their_audit_trail(runner):
    from portal.audit import AuditEvent
    from portal.auth.models import User
    from portal.auth.passwords import verify_password
    from portal.cli import DEMO_PASSWORD
    from portal.vocabulary import AssociationState

    assert runner.invoke(args=["seed", "--demo"]).exit_code == 0
    actions = db.session.execute(
        select(AuditEvent.action, func.count())
        .where(AuditEvent.actor_id.is_(None))
        .group_by(AuditEvent.action)
    ).all()
    by_action = dict(actions)
    # Each offering created, then opened through the offering workflow; the demo reviewer
    # assigned to the three Rabat offerings, as from the admin screen or assign-reviewer.
    assert by_action["offering_created"] == 10
    assert by_action["offering_opened"] == 10
    assert by_action["reviewers_changed"] == 3
    reviewer = db.session.scalar(select(User).where(User.email == "reviewer@demo.ma"))
    assert sorted(o.city.slug for o in reviewer.reviewed_offerings) == ["rabat"] * 3
    assert reviewer.email_confirmed_at is not None and verify_password(reviewer.password_hash, DEMO_PASSWORD)
    # The demo applicant's association is in the register, to verify.
    applicant = db.session.scalar(select(User).where(User.email == "applicant@demo.ma"))
    assert applicant.profile.association.registration_key == "RSK20150421"
    assert applicant.profile.association.state == AssociationState.TO_VERIFY


def home_groups(page):
    """``{track code: [city names]}`` of the home page's groups, in the page's order."""
    groups = {}
    for code, body in re.findall(r'data-track="([^"]+)">(.*?)</section>', page, re.S):
        groups[code] = re.findall(r'<span class="fw-semibold">([^<]+)</span>', body)
    return groups


def test_home_groups_open_offerings_by_track_with_deadline_and_seats_left(app, client):
    seed_catalogue()
    offering = db.session.scalars(
        select(Offering).join(Offering.track).where(Track.code == "GEST-AF").order_by(Offering.id)
    ).first()
    for _ in range(5):
        factories.application(offering_=offering, status="accepted")
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    # Five groups, one per track, each with the cities where it is open: no card per offering.
    groups = home_groups(page)
    assert sorted(groups) == ["COM-DIG", "GEST-AF", "GEST-PROJ", "IA-APPL", "NUM-TRANS"]
    assert sorted(groups["NUM-TRANS"]) == ["Casablanca", "Rabat"]
    assert sorted(groups["GEST-AF"]) == ["Agadir", "Tanger"]
    assert page.count('class="offering-row') == 10
    assert page.count('class="card card-offering') == 0
    row = page.split(f'data-offering="{offering.id}"')[1].split("</li>")[0]
    assert "Date limite : " in row and "20 places restantes" in row
    assert f'href="/apply/{offering.id}"' in row
    # The main actions come first, before the offerings.
    assert page.index('href="/auth/register"', page.index("<main")) < page.index('class="offering-row')
    assert page.index('href="/tracks"', page.index("<main")) < page.index('class="offering-row')


def test_closed_or_future_offerings_are_not_listed(app, client):
    from datetime import timedelta

    from portal.timeutil import utcnow

    shown = factories.offering(track=factories.track(title_fr="Visible"))
    factories.offering(track=factories.track(title_fr="Fermée"), status="closed")
    factories.offering(track=factories.track(title_fr="Future"), opens_at=utcnow() + timedelta(days=3))
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert shown.track.title_fr in page
    assert "Fermée" not in page and "Future" not in page


def test_catalogue_filters_by_city_and_domain(app, client):
    seed_catalogue()
    db.session.commit()
    rabat = db.session.scalar(select(City).where(City.slug == "rabat"))
    page = client.get(f"/tracks?city={rabat.id}").get_data(as_text=True)
    assert page.count('class="card card-offering') == 3
    page = client.get("/tracks?domain=management").get_data(as_text=True)
    assert page.count('class="card card-offering') == 4
    assert "Transformation numérique" not in page
    page = client.get(f"/tracks?city={rabat.id}&domain=management").get_data(as_text=True)
    assert page.count('class="card card-offering') == 0


def test_catalogue_ignores_garbage_filters(app, client):
    seed_catalogue()
    db.session.commit()
    for query in ("city=abc", "domain=<script>", "city=999999", "city=-1&domain=digital"):
        assert client.get(f"/tracks?{query}").status_code == 200


def test_track_page_lists_its_offerings(app, client):
    seed_catalogue()
    db.session.commit()
    page = client.get("/tracks/GEST-AF").get_data(as_text=True)
    assert "Gestion administrative et financière" in page
    assert page.count('class="card card-offering') == 2
    assert client.get("/tracks/gest-af").status_code == 200
    assert client.get("/tracks/NOPE").status_code == 404


def test_privacy_notice_states_purpose_retention_rights_and_version(app, client):
    page = client.get("/privacy").get_data(as_text=True)
    for words in (
        "Finalité",
        "Durée de conservation",
        "Vos droits",
        "09-08",
        app.config["PRIVACY_NOTICE_VERSION"],
    ):
        assert words in page


def test_language_switch_renders_arabic_right_to_left_and_is_remembered(app, client):
    seed_catalogue()
    db.session.commit()
    response = client.post("/lang/ar", data={"next": "/tracks"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tracks")
    page = client.get("/tracks").get_data(as_text=True)
    assert re.search(r'<html lang="ar" dir="rtl">', page)
    assert re.search(r'href="/static/vendor/bootstrap/bootstrap\.rtl\.min(-[0-9a-f]{32})?\.css"', page)
    assert "التحول الرقمي للجمعيات" in page
    client.post("/lang/en")
    assert client.get("/").get_data(as_text=True).startswith('<!doctype html>\n<html lang="en" dir="ltr">')


def test_language_switch_refuses_unknown_language_and_foreign_redirects(client):
    assert client.post("/lang/xx").status_code == 404
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post("/lang/fr", data={"next": target})
        assert response.headers["Location"] in ("/", "http://localhost/")


def test_healthz_is_json(client):
    assert client.get("/healthz").json["database"] == "ok"
