"""The programme's reach: the administrators' figures on a hand-made year, their exports,
and the public page's aggregates with small counts withheld."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.applications.models import Interest
from portal.associations.models import Association
from portal.audit import AuditEvent
from portal.catalog.models import City
from portal.catalog.operations import academic_year
from portal.extensions import db
from portal.reach import disclosure
from portal.timeutil import utcnow
from tests import factories
from tests.helpers import admin_client, page_text
from tests.helpers import reach_cells as cells

YEAR = academic_year(utcnow())


def association(name):
    """A register entry."""
    entry = Association(
        name_fr=name, registration_number=f"RSK-{name}", registration_key=f"RSK{name}".upper(), field="social"
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def member(entry=None, **kw):
    """An applicant whose profile names ``entry``."""
    applicant = factories.user(**kw)
    applicant.profile.association = entry
    db.session.flush()
    return applicant


@pytest.fixture
def year_world(app):
    """Two regions: A (cities A1 and A2) and B (city B1, and B2 without any offering).

    Tracks T1 and T2, offerings T1/A1, T2/A1, T1/A2, T1/B1. Associations X (u1, u2, u3),
    Z (u9), Y (u4); u5 to u8 without one. u1 completes two tracks in A1 (one actor, one
    association), then moves to another association (still counted in X, where the seat was).
    """
    a, b = factories.region(code="RA"), factories.region(code="RB")
    a1, a2 = factories.city("Alpha", region=a, slug="alpha"), factories.city("Aleph", region=a, slug="aleph")
    b1, b2 = factories.city("Beta", region=b, slug="beta"), factories.city("Bravo", region=b, slug="bravo")
    t1, t2 = factories.track(code="T1"), factories.track(code="T2")
    t1a1 = factories.offering(track=t1, city=a1)
    t2a1 = factories.offering(track=t2, city=a1)
    t1a2 = factories.offering(track=t1, city=a2)
    t1b1 = factories.offering(track=t1, city=b1)
    x, y, z = association("X"), association("Y"), association("Z")
    u1, u2, u3, u4, u9 = member(x), member(x), member(x), member(y), member(z)
    u5, u6, u7, u8 = member(), member(), member(), member()
    factories.application(u1, t1a1, status="completed")
    factories.application(u1, t2a1, status="completed")
    factories.application(u3, t1a1, status="not_completed")
    factories.application(u5, t1a1, status="rejected")
    factories.application(u6, t1a1, status="waitlisted")
    factories.application(u7, t1a1, status="withdrawn")
    factories.application(u8, t1a1, status="submitted")
    factories.application(u9, t2a1, status="confirmed")
    factories.application(u2, t1a2, status="confirmed")
    factories.application(u4, t1b1, status="completed")
    u1.profile.association = association("W")
    # Another year's completion counts in that year only.
    last_year = factories.offering(track=t1, city=b1, academic_year="2001-2002")
    factories.application(member(y), last_year, status="completed")
    # Demand: T2 is offered nowhere in region B, T1 is offered in A1 (that wish is met).
    db.session.add_all(
        [
            Interest(applicant_id=u5.id, track_id=t2.id, city_id=b1.id),
            Interest(applicant_id=u6.id, track_id=t1.id, city_id=b2.id),
            Interest(applicant_id=u7.id, track_id=t1.id, city_id=a1.id),
        ]
    )
    db.session.commit()


def test_the_figures_of_a_hand_made_year(app, year_world):
    client, _admin = admin_client(app)
    html = client.get("/admin/reach").get_data(as_text=True)
    # 10 applications; associations X, Z, Y (not W: u1's seats were counted in X); actors u1, u4.
    assert cells(html, "total") == {
        "associations": "3",
        "actors": "2",
        "applications": "10",
        # Accepted at some point: u1 ×2, u3, u9, u2, u4 = 6, over those + rejected + waitlisted = 8.
        "acceptance": "75,0 %",
        # Completed 3 (u1 ×2, u4) over outcomes 4 (and u3's not completed).
        "completion": "75,0 %",
        "demand": "2",
    }
    assert cells(html, "region-RA") == {
        "associations": "2",
        "actors": "1",
        "applications": "9",
        "acceptance": "71,4 %",
        "completion": "66,7 %",
        "demand": "0",
    }
    assert cells(html, "city-alpha") | {} == {
        "associations": "2",
        "actors": "1",
        "applications": "8",
        "acceptance": "66,7 %",
        "completion": "66,7 %",
        "demand": "0",
    }
    assert cells(html, "city-aleph")["associations"] == "1"
    assert cells(html, "city-aleph")["completion"] == "—"
    # X in Alpha and in Aleph is one association of the region for T1.
    assert cells(html, "track-RA-T1")["associations"] == "1"
    assert cells(html, "track-RA-T1")["applications"] == "7"
    assert cells(html, "track-RA-T2")["associations"] == "2"
    assert cells(html, "region-RB") == {
        "associations": "1",
        "actors": "1",
        "applications": "1",
        "acceptance": "100,0 %",
        "completion": "100,0 %",
        "demand": "2",
    }
    # Bravo has no application but a wish; T2 in region B is a wish only.
    assert cells(html, "city-bravo")["demand"] == "1"
    assert cells(html, "track-RB-T2") | {} == {
        "associations": "0",
        "actors": "0",
        "applications": "0",
        "acceptance": "—",
        "completion": "—",
        "demand": "1",
    }
    # The chart draws the two regions (actors and associations) with its table beside it.
    assert 'role="img"' in html and '<title id="region-chart-title">' in html
    table = re.search(r'id="region-chart-table".*?</table>', html, re.S).group(0)
    assert re.search(r"Région \d+</th><td[^>]*>1</td><td[^>]*>2</td>", table)


def test_another_year_and_a_malformed_one(app, year_world):
    client, _admin = admin_client(app)
    html = client.get("/admin/reach?year=2001-2002").get_data(as_text=True)
    assert cells(html, "total")["actors"] == "1"
    assert cells(html, "total")["applications"] == "1"
    # A year that has no offering falls back to the current one.
    html = client.get("/admin/reach?year=1999-2000x").get_data(as_text=True)
    assert cells(html, "total")["applications"] == "10"


def test_csv_and_xlsx_exports_are_the_table_and_are_audited(app, year_world):
    client, admin = admin_client(app)
    # A city named like a formula is made inert.
    db.session.scalar(select(City).where(City.slug == "beta")).name_fr = "=HYPERLINK(1)"
    db.session.commit()
    response = client.get("/admin/reach.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:6] == [
        "Niveau",
        "Région",
        "Ville",
        "Formation",
        "Associations touchées",
        "Acteurs formés",
    ]
    assert rows[1][:7] == ["Ensemble du programme", "", "", "", "3", "2", "10"]
    assert rows[1][-1] == "2"
    assert any(row[2] == "'=HYPERLINK(1)" for row in rows)
    response = client.get("/admin/reach.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][4:7] == [3, 2, 10]
    beta = next(row for row in sheet.iter_rows() if row[2].value == "=HYPERLINK(1)")
    assert beta[2].data_type == "s"
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "reach_export").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.after["format"], e.after["year"]) for e in events] == [
        (admin.id, "csv", YEAR),
        (admin.id, "xlsx", YEAR),
    ]


def test_the_public_page_shows_aggregates_of_the_hand_made_year(app, client, year_world):
    app.config["VISITOR_PAGE_CACHE_SECONDS"] = 0
    html = client.get("/programme").get_data(as_text=True)
    totals = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', html))
    # Every count of this small year is below 5: shown as such, rates withheld; 0 stays 0.
    assert totals == {
        "associations": "moins de 5",
        "actors": "moins de 5",
        "applications": "10",
        "acceptance": "moins de 5",
        "completion": "moins de 5",
        "demand": "moins de 5",
    }
    assert "Alpha" not in html  # no city on the public page


def completed(n, track, city):
    """``n`` participants who completed ``track`` in ``city``, each of their own association."""
    offering = factories.offering(track=track, city=city)
    for i in range(n):
        factories.application(
            member(association(f"{city.slug}-{track.code}-{i}")), offering, status="completed"
        )


@pytest.mark.parametrize(("n", "shown"), [(4, "moins de 5"), (5, "5")])
def test_fewer_than_five_is_withheld_five_is_shown(app, client, n, shown):
    app.config["VISITOR_PAGE_CACHE_SECONDS"] = 0
    completed(n, factories.track(code="T1"), factories.city("Alpha"))
    db.session.commit()
    html = client.get("/programme").get_data(as_text=True)
    totals = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', html))
    assert totals["actors"] == shown
    assert totals["associations"] == shown
    assert totals["applications"] == shown
    # Everyone who ended the course completed it: 100 % from 5, nothing below.
    assert totals["completion"] == ("moins de 5" if n == 4 else "100 %")
    region = re.search(r'id="regions-table".*?</table>', html, re.S).group(0)
    assert f">{shown}</td>" in region


def test_a_single_small_region_cannot_be_deduced_from_the_total(app, client):
    app.config["VISITOR_PAGE_CACHE_SECONDS"] = 0
    track = factories.track(code="T1")
    for n, name in ((4, "Alpha"), (5, "Beta"), (6, "Gamma")):
        completed(n, track, factories.city(name))
    db.session.commit()
    html = client.get("/programme").get_data(as_text=True)
    region = re.search(r'id="regions-table".*?</table>', html, re.S).group(0)
    actors = re.findall(r'data-label="Acteurs formés">([^<]*)<', region)
    # Region order is by name: Région N (4), (5), (6); 4 + 5 are withheld, 6 shown, total 15.
    assert sorted(actors) == sorted(["moins de 5", "masqué", "6"])
    assert 'data-figure="actors">15<' in html


def test_disclosure_rules():
    assert disclosure.count(4).withheld == "small"
    assert disclosure.count(5) == disclosure.Shown(5)
    assert disclosure.count(0) == disclosure.Shown(0)
    assert disclosure.rate(5, 10).value == 0.5
    assert disclosure.rate(4, 10).withheld == "small"  # the numerator is small
    assert disclosure.rate(6, 10).withheld == "small"  # the rest (4) is small
    assert disclosure.rate(4, 4).withheld == "small"  # the base is small
    assert disclosure.rate(0, 7).value == 0
    assert disclosure.rate(7, 7).value == 1
    shown = disclosure.breakdown([0, 3, 8, 5, 20])
    assert [s.withheld for s in shown] == [None, "small", None, "hidden", None]
    assert [s.withheld for s in disclosure.breakdown([3, 2, 9])] == ["small", "small", None]
    assert [s.withheld for s in disclosure.breakdown([0, 5, 9])] == [None, None, None]


def test_the_public_page_in_three_languages_linked_from_every_page(app, client):
    app.config["VISITOR_PAGE_CACHE_SECONDS"] = 0
    completed(4, factories.track(code="T1"), factories.city("Alpha"))
    db.session.commit()
    home = client.get("/").get_data(as_text=True)
    assert 'href="/programme"' in home
    for language, words in (("fr", "moins de 5"), ("en", "fewer than 5"), ("ar", "أقل من 5")):
        client.post(f"/lang/{language}")
        response = client.get("/programme")
        assert response.status_code == 200
        assert words in page_text(response)


def test_the_public_page_is_served_from_the_visitor_cache(app, client):
    app.config["VISITOR_PAGE_CACHE_SECONDS"] = 60
    track, city = factories.track(code="T1"), factories.city("Alpha")
    completed(5, track, city)
    db.session.commit()
    assert 'data-figure="demand">0<' in client.get("/programme").get_data(as_text=True)
    for _ in range(5):
        db.session.add(Interest(applicant_id=member().id, track_id=track.id, city_id=factories.city().id))
    db.session.commit()
    # Within the cache's duration the first rendering is served again; without it, the new one.
    assert 'data-figure="demand">0<' in client.get("/programme").get_data(as_text=True)
    app.config["VISITOR_PAGE_CACHE_SECONDS"] = 0
    assert 'data-figure="demand">5<' in client.get("/programme").get_data(as_text=True)


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_reach_pages_pass_the_nu_html_checker(app, html_checker, year_world, language):
    from tests.html_checker import structure_problems

    app.config["VISITOR_PAGE_CACHE_SECONDS"] = 0
    client, _admin = admin_client(app, locale=language)
    visitor = app.test_client()
    visitor.post(f"/lang/{language}")
    for name, response in (("reach", client.get("/admin/reach")), ("programme", visitor.get("/programme"))):
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and f'lang="{language}"' in html, name
        html_checker.assert_valid(html, f"{name} in {language}")
        assert structure_problems(html) == [], name
