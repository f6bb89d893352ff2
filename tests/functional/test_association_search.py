"""The register's search box (issue 14, item 1): applicants find their association by name,
number or city at registration and on their profile, with and without script."""

import html
import re

import pytest
from sqlalchemy import select

from portal.associations import operations as assoc_ops
from portal.associations.models import Association
from portal.auth.models import User
from portal.extensions import db
from portal.vocabulary import AssociationField
from tests import factories
from tests.helpers import assert_throttled
from tests.security import formdata


@pytest.fixture
def register_entries(app, city):
    """A verified entry with an Arabic name in ``city``, one to verify, and one elsewhere."""
    other_city = factories.city(name="Oujda")
    verified = assoc_ops.find_or_declare(
        name_fr="Association Espoir Jeunesse",
        name_ar="جمعية أمل الشباب",
        registration_number="RAB-2015-0421",
        field=AssociationField.EDUCATION,
        city_id=city.id,
    )
    admin = factories.user("admin")
    assoc_ops.verify_association(admin, verified)
    pending = assoc_ops.find_or_declare(
        name_fr="Espoir des Femmes", registration_number="RAB-2020-0007", field=AssociationField.SOCIAL
    )
    elsewhere = assoc_ops.find_or_declare(
        name_fr="Les Amis de la Mer",
        registration_number="OUJ-2001-0100",
        field=AssociationField.ENVIRONMENT,
        city_id=other_city.id,
    )
    db.session.commit()
    return verified, pending, elsewhere


def _choices(page):
    """The ids offered by the page's "choose" buttons or links."""
    return [int(i) for i in re.findall(r'(?:name="association_pick" value="|\?association=)(\d+)"', page)]


def test_the_search_page_finds_by_name_number_or_city_and_leads_back_to_the_form(
    client, register_entries, city
):
    verified, pending, elsewhere = register_entries
    page = client.get("/associations/search?q=espoir").text
    # A name that starts with the text comes first.
    assert _choices(page) == [pending.id, verified.id]
    assert "جمعية أمل الشباب" in page and "RAB-2015-0421" in page and html.escape(city.name) in page
    # The one to verify says so; the verified one does not.
    rows = page.split('class="list-group-item')[1:]
    assert "À vérifier" in rows[0] and "À vérifier" not in rows[1]
    assert f'href="/auth/register?association={verified.id}"' in page
    # A number in another spelling, a city, the profile as the way back.
    page = client.get("/associations/search?q=rab 2015/0421&for=profile").text
    assert _choices(page) == [verified.id] and f'href="/me/profile?association={verified.id}"' in page
    assert _choices(client.get("/associations/search?q=oujda").text) == [elsewhere.id]
    # Too short, or unknown: nothing listed, and the way to declare it.
    assert _choices(client.get("/associations/search?q=e").text) == []
    page = client.get("/associations/search?q=zzzz").text
    assert "Aucune association du registre ne correspond" in page
    assert 'href="/auth/register"' in page
    # Nothing else about the entries: no contact email, no members.
    assert "@" not in client.get("/associations/search?q=espoir").text.split("<main")[1].split("</main>")[0]


def test_the_search_answers_json_to_the_script(client, register_entries):
    verified, pending, _ = register_entries
    response = client.get("/associations/search?q=ESPOIR JEUN", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "Accept" in response.headers["Vary"]
    results = response.get_json()["results"]
    assert [r["id"] for r in results] == [verified.id]
    assert results[0] == {
        "id": verified.id,
        "name": "Association Espoir Jeunesse",
        "name_ar": "جمعية أمل الشباب",
        "number": "RAB-2015-0421",
        "city": verified.city.name,
        "city_id": verified.city_id,
        "field": "education",
        "checked": True,
    }
    results = client.get("/associations/search?q=femmes", headers={"Accept": "application/json"}).get_json()
    assert [(r["id"], r["checked"]) for r in results["results"]] == [(pending.id, False)]
    # Wildcards are text: "%" matches no entry.
    empty = client.get("/associations/search?q=%25%25", headers={"Accept": "application/json"}).get_json()
    assert empty["results"] == []


def test_at_most_ten_entries_and_bounded_input(client, app):
    for n in range(15):
        assoc_ops.find_or_declare(
            name_fr=f"Association Atlas {n:02d}",
            registration_number=f"ATL-{n:04d}",
            field=AssociationField.SOCIAL,
        )
    db.session.commit()
    data = client.get("/associations/search?q=atlas", headers={"Accept": "application/json"}).get_json()
    assert len(data["results"]) == 10
    long = "atlas" + "x" * 10_000
    response = client.get(f"/associations/search?q={long}", headers={"Accept": "application/json"})
    assert response.status_code == 200 and len(response.get_json()["query"]) == 100
    assert client.get("/associations/search?q=%00atlas").status_code < 500


def test_registration_without_script_finds_chooses_and_links_the_entry(client, register_entries, city):
    verified, _, _ = register_entries
    data = formdata.registration(
        city,
        association_name="",
        association_registration="",
        association_city_id="",
        association_field="",
        association_search="espoir jeunesse",
        association_find="1",
    )
    page = client.post("/auth/register", data=data)
    assert page.status_code == 200
    text = page.text
    # The entries found, each with its button; what was typed is all there; nothing saved.
    assert _choices(text) == [verified.id]
    assert 'value="El Idrissi"' in text and 'value="Trésorière"' in text and 'value="espoir jeunesse"' in text
    assert 'id="form-errors"' not in text
    assert db.session.scalar(select(User).where(User.email == "amina.new@example.org")) is None

    data.pop("association_find")
    page = client.post("/auth/register", data={**data, "association_pick": str(verified.id)}).text
    assert "Association choisie : Association Espoir Jeunesse" in page
    assert 'value="RAB-2015-0421"' in page and 'value="Association Espoir Jeunesse"' in page
    assert re.search(rf'<option selected value="{city.id}">|<option value="{city.id}" selected', page)
    assert 'id="form-errors"' not in page

    # The form as the page now holds it is sent: the account is linked to that entry.
    sent = {
        **data,
        "association_name": "Association Espoir Jeunesse",
        "association_registration": "RAB-2015-0421",
        "association_city_id": str(city.id),
        "association_field": "education",
    }
    response = client.post("/auth/register", data=sent)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "amina.new@example.org"))
    assert user.profile.association_id == verified.id
    assert db.session.scalar(select(db.func.count()).select_from(Association)) == 3


def test_the_search_page_link_fills_the_registration_and_profile_forms(client, register_entries, app):
    verified, pending, _ = register_entries
    page = client.get(f"/auth/register?association={pending.id}").text
    assert 'value="RAB-2020-0007"' in page and "Association choisie : Espoir des Femmes" in page
    assert client.get("/auth/register?association=999999999").status_code == 200
    assert client.get("/auth/register?association=99999999999999999999").status_code == 200

    applicant = factories.user()
    db.session.commit()
    factories.login(client, applicant)
    page = client.get(f"/me/profile?association={verified.id}").text
    assert 'value="RAB-2015-0421"' in page
    # The profile's own search (no script) keeps the profile as typed.
    data = formdata.profile(applicant, association_search="oujda", association_find="1", first_name="Hind")
    page = client.post("/me/profile", data=data).text
    assert 'value="Hind"' in page and "Les Amis de la Mer" in page
    db.session.expire_all()
    assert db.session.get(User, applicant.id).profile.first_name != "Hind"


def test_the_search_is_throttled_per_address(client, throttled, register_entries):
    throttled.config["ASSOCIATION_SEARCH_ADDRESS_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert client.get("/associations/search?q=espoir").status_code == 200
    assert_throttled(client.get("/associations/search?q=espoir"), window=60)
    assert_throttled(
        client.get("/associations/search?q=x", headers={"Accept": "application/json"}), window=60
    )


@pytest.mark.parametrize(
    ("lang", "title", "badge"),
    [("en", "Find your association", "To verify"), ("ar", "ابحث عن جمعيتك", "قيد التحقق")],
)
def test_the_search_page_speaks_the_visitors_language(client, register_entries, lang, title, badge):
    client.post(f"/lang/{lang}")
    page = client.get("/associations/search?q=espoir").text
    assert title in page and "Trouver votre association" not in page
    assert badge in page and "À vérifier" not in page


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_the_search_pages_and_the_form_with_results_are_valid_html(
    client, register_entries, city, html_checker, lang
):
    verified, _, _ = register_entries
    client.post(f"/lang/{lang}")
    html_checker.assert_valid(client.get("/associations/search?q=espoir").text, "search with results")
    html_checker.assert_valid(client.get("/associations/search?q=zzzz").text, "search without results")
    data = formdata.registration(city, association_search="espoir", association_find="1")
    html_checker.assert_valid(client.post("/auth/register", data=data).text, "registration with results")
    data = formdata.registration(city, association_search="zzzz", association_find="1")
    html_checker.assert_valid(client.post("/auth/register", data=data).text, "registration, nothing found")
    page = client.get(f"/auth/register?association={verified.id}").text
    html_checker.assert_valid(page, "registration with an entry chosen")


def test_choosing_an_entry_on_the_profile_links_the_profile_to_it(client, register_entries):
    verified, _, _ = register_entries
    applicant = factories.user()
    db.session.commit()
    factories.login(client, applicant)
    data = formdata.profile(applicant, last_name="Alaoui", association_pick=str(verified.id))
    page = client.post("/me/profile", data=data).text
    assert "Association choisie : Association Espoir Jeunesse" in page
    sent = {
        **formdata.profile(applicant, last_name="Alaoui"),
        "association_name": verified.name_fr,
        "association_registration": verified.registration_number,
        "association_city_id": str(verified.city_id),
        "association_field": verified.field,
    }
    response = client.post("/me/profile", data=sent)
    assert response.status_code == 302, re.findall(r"invalid-feedback[^>]*>([^<]*)", response.text)
    db.session.expire_all()
    assert db.session.get(User, applicant.id).profile.association_id == verified.id
