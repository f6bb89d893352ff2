"""Public pages in Chromium: no console error, no serious accessibility violation, RTL in Arabic."""

import pytest

from tests.browser.helpers import switch_language


@pytest.mark.parametrize("language", ["fr", "ar"])
@pytest.mark.parametrize(
    "path,name", [("/", "home"), ("/tracks", "catalogue"), ("/tracks/NUM-TRANS", "track")]
)
def test_public_page(browser_page, catalogue, language, path, name):
    switch_language(browser_page, language)
    response = browser_page.goto(path)
    assert response.status == 200
    html = browser_page.page.locator("html")
    assert html.get_attribute("lang") == language
    assert html.get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    assert browser_page.serious_violations() == []
    assert browser_page.console_errors == []
    browser_page.screenshot(f"full-{name}-{language}")


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_password_can_be_shown_while_typing_it(browser_page, catalogue, language):
    """ASVS 2.1.12: a button shows what was typed; it is hidden again before the form is sent."""
    switch_language(browser_page, language)
    browser_page.goto("/auth/login")
    page = browser_page.page
    field = page.locator("#password")
    button = page.locator("button[data-reveal=password]")
    assert button.is_visible() and field.get_attribute("type") == "password"
    field.fill("correct horse battery")
    shown_label = button.inner_text()
    button.click()
    assert field.get_attribute("type") == "text" and field.input_value() == "correct horse battery"
    assert button.inner_text() != shown_label  # "Masquer" / "إخفاء"
    assert page.evaluate("() => document.activeElement.id") == "password"
    button.click()
    assert field.get_attribute("type") == "password" and button.inner_text() == shown_label
    # Shown when the form is sent: hidden again before the page changes.
    button.click()
    page.locator("#email").fill("nobody@example.org")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.locator("#password").get_attribute("type") == "password"
    assert browser_page.console_errors == []
