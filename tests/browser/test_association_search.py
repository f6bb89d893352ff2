"""The register's search box with script: a live list under the field (ARIA combobox and
listbox), keyboard and mouse, in French and in Arabic (right to left)."""

import pytest

from portal.associations import operations as assoc_ops
from portal.extensions import db
from portal.vocabulary import AssociationField
from tests import factories
from tests.browser.helpers import city, release_database, seed, start_journey


@pytest.fixture
def entries(app):
    """The catalogue, a verified entry in Rabat (with its Arabic name) and one to verify."""
    seed()
    rabat = city("rabat")
    verified = assoc_ops.find_or_declare(
        name_fr="Association Espoir Jeunesse",
        name_ar="جمعية أمل الشباب",
        registration_number="RAB-2015-0421",
        field=AssociationField.YOUTH,
        city_id=rabat.id,
    )
    assoc_ops.verify_association(factories.user("admin"), verified)
    pending = assoc_ops.find_or_declare(
        name_fr="Espoir des Femmes", registration_number="RAB-2020-0007", field=AssociationField.WOMEN
    )
    release_database()
    return {"verified": verified.id, "pending": pending.id, "rabat": rabat.id}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_live_list_finds_and_fills_the_association_fields(browser_page, entries, language):
    journey = start_journey(browser_page, language)
    page = journey.page
    journey.goto("/auth/register")
    page.fill("#first_name", "Amina")
    search = page.locator("#association_search")
    assert search.get_attribute("role") == "combobox"
    assert search.get_attribute("aria-expanded") == "false"
    listbox = page.locator("#association_search-list")

    search.press_sequentially("espoir", delay=30)
    listbox.wait_for(state="visible")
    options = listbox.locator("[role=option]")
    options.nth(1).wait_for()
    assert options.count() == 2
    assert search.get_attribute("aria-expanded") == "true"
    assert search.get_attribute("aria-controls") == "association_search-list"
    # Starts-with first: the entry to verify says so; the verified one shows its Arabic name.
    assert "Espoir des Femmes" in options.nth(0).inner_text()
    assert options.nth(0).locator(".badge").count() == 1
    assert options.nth(1).locator("[lang=ar]").inner_text() == "جمعية أمل الشباب"
    assert "RAB-2015-0421" in options.nth(1).inner_text()
    assert "Rabat" in options.nth(1).inner_text() or "الرباط" in options.nth(1).inner_text()
    status = page.locator("[data-search-status]")
    assert "2" in status.inner_text()
    # The list sits under the field, lined up with it on the side where the text starts.
    field_box = page.locator(".association-search .input-group").bounding_box()
    list_box = listbox.bounding_box()
    assert list_box["y"] >= field_box["y"] + field_box["height"] - 1
    if language == "ar":
        assert abs((list_box["x"] + list_box["width"]) - (field_box["x"] + field_box["width"])) < 2
    else:
        assert abs(list_box["x"] - field_box["x"]) < 2
    assert journey.bp.serious_violations() == []
    journey.shot("association-search-list")

    # Keyboard: down twice, Enter chooses (the form is not sent).
    search.press("ArrowDown")
    assert search.get_attribute("aria-activedescendant") == "association_search-list-0"
    assert options.nth(0).get_attribute("aria-selected") == "true"
    search.press("ArrowDown")
    assert options.nth(1).get_attribute("aria-selected") == "true"
    search.press("Enter")
    assert listbox.is_hidden() and search.get_attribute("aria-expanded") == "false"
    assert page.url.endswith("/auth/register")
    assert page.locator("#association_name").input_value() == "Association Espoir Jeunesse"
    assert page.locator("#association_registration").input_value() == "RAB-2015-0421"
    assert page.locator("#association_city_id").input_value() == str(entries["rabat"])
    assert page.locator("#association_field").input_value() == "youth"
    assert "Association Espoir Jeunesse" in status.inner_text()
    assert page.locator("#first_name").input_value() == "Amina"

    # The mouse: another search, a click on the first entry.
    search.fill("")
    search.press_sequentially("femmes", delay=30)
    options.first.wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll('#association_search-list [role=option]').length === 1"
    )
    options.first.click()
    assert page.locator("#association_registration").input_value() == "RAB-2020-0007"
    assert listbox.is_hidden()

    # Enter in another field sends the form to be saved, not the association search.
    release_database()
    with page.expect_navigation():
        page.locator("#first_name").press("Enter")
    journey.check()
    assert page.locator("#form-errors").count() == 1
    assert page.locator("#association-results").count() == 0
    assert page.locator("#association_registration").input_value() == "RAB-2020-0007"
    db.session.expire_all()
