"""Right-to-left Arabic in Chromium: direction, Bootstrap's RTL build, mirrored layout, and
Latin content (emails, CIN, references, phone numbers) kept left-to-right and isolated."""

import re

import pytest

from tests.browser.helpers import assert_isolated_ltr, choose_language, log_in, start_journey

STYLESHEETS = """() => Array.from(document.styleSheets)
  .filter(sheet => sheet.href && sheet.href.includes('/vendor/bootstrap/'))
  .map(sheet => sheet.href.split('/').pop() + ':' + sheet.cssRules.length)"""


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_arabic_loads_bootstrap_rtl_and_mirrors_the_layout(browser_page, people, language):
    journey = start_journey(browser_page, language)
    page = journey.page
    journey.goto("/auth/register")
    (sheet,) = page.evaluate(STYLESHEETS)
    name, rules = sheet.split(":")
    name = re.sub(r"-[0-9a-f]{32}(?=\.css$)", "", name)  # the fingerprint (portal/assets.py)
    assert name == ("bootstrap.rtl.min.css" if language == "ar" else "bootstrap.min.css")
    assert int(rules) > 100

    # The brand sits at the start of the navbar: on the right in Arabic.
    brand = page.locator(".navbar-brand").bounding_box()
    bar = page.locator(".navbar > .container").bounding_box()
    if language == "ar":
        assert bar["x"] + bar["width"] - (brand["x"] + brand["width"]) < 20
    else:
        assert brand["x"] - bar["x"] < 20

    # Labels start where their field starts: its right edge in Arabic, its left in French.
    label = page.locator("label[for=first_name]").bounding_box()
    field = page.locator("#first_name").bounding_box()
    label_right, field_right = label["x"] + label["width"], field["x"] + field["width"]
    if language == "ar":
        assert abs(label_right - field_right) < 2
        assert label["x"] > field["x"] + 20
    else:
        assert abs(label["x"] - field["x"]) < 2
        assert label_right < field_right - 20
    # On a desktop the first column of the form is on the right in Arabic.
    if journey.bp.viewport == "desktop":
        last_name = page.locator("#last_name").bounding_box()
        assert (field["x"] > last_name["x"]) == (language == "ar")
    # Latin-only fields stay left-to-right inside the Arabic form.
    for name in ("cin", "phone", "email", "association_registration"):
        assert page.locator(f"#{name}").evaluate("e => getComputedStyle(e).direction") == "ltr", name
    journey.shot("register-layout")


def _switch_user(journey, email):
    """Start again as another user (a new visitor who chooses the language, then logs in)."""
    journey.page.context.clear_cookies()
    choose_language(journey)
    log_in(journey, email)


@pytest.mark.parametrize("language", ["ar"])
def test_latin_content_stays_readable_in_arabic_pages(browser_page, people, language):
    journey = start_journey(browser_page, language, people["applicant"])
    page, reference = journey.page, people["reference"]
    journey.goto("/me")
    assert_isolated_ltr(journey, reference)
    journey.goto(f"/me/applications/{reference}")
    assert_isolated_ltr(journey, reference)
    journey.goto("/me/profile")
    for name in ("email", "cin", "phone", "association_registration"):
        assert page.locator(f"#{name}").get_attribute("dir") == "ltr", name
    assert page.locator("#cin").input_value() == people["cin"]

    _switch_user(journey, people["reviewer"])
    assert_isolated_ltr(journey, reference)
    journey.goto(f"/review/applications/{reference}")
    assert_isolated_ltr(
        journey, reference, people["cin"], people["phone"], people["applicant"], "REC-2019-0042"
    )
    journey.shot("review-page")

    _switch_user(journey, people["admin"])
    journey.goto("/admin/users")
    assert_isolated_ltr(journey, people["applicant"], people["reviewer"])
    journey.shot("admin-users")
