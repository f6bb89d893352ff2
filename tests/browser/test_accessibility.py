"""Accessibility in Chromium: axe-core on the main pages in French and Arabic, keyboard, RTL.

The tests fail on any serious or critical axe violation; every page's counts by impact
are recorded and written to screenshots/axe-summary.md at the end of the run.
"""

import pytest

from tests.browser.helpers import Journey, choose_language, log_in, record_axe
from tests.factories import PASSWORD

LANGUAGES = ["fr", "ar"]


def audit(journey, name):
    """Run axe on the page shown; record its counts; return its serious and critical violations."""
    violations = journey.bp.axe()
    record_axe(name, journey.language, journey.bp.viewport, violations)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def audit_pages(journey, pages):
    """Open and audit each (name, path); return the serious and critical violations by page."""
    serious = {}
    for name, path in pages:
        journey.goto(path)
        found = audit(journey, name)
        if found:
            serious[name] = found
    return serious


def _journey(browser_page, language, user=None):
    journey = Journey(browser_page, language)
    choose_language(journey)
    if user:
        log_in(journey, user)
    return journey


@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages_have_no_serious_violation(browser_page, people, language):
    journey = _journey(browser_page, language)
    pages = [
        ("home", "/"),
        ("catalogue", "/tracks"),
        ("register", "/auth/register"),
        ("login", "/auth/login"),
    ]
    assert audit_pages(journey, pages) == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_applicant_pages_have_no_serious_violation(app, browser_page, people, language):
    journey = _journey(browser_page, language, people["applicant"])
    # A second device, so that the devices page shows its form and its "log out" buttons.
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile Safari/537.36"
    )
    assert (
        phone.post("/auth/login", data={"email": people["applicant"], "password": PASSWORD}).status_code
        == 302
    )
    pages = [
        ("apply", f"/apply/{people['apply_to']}"),
        ("applicant dashboard", "/me"),
        ("devices", "/me/sessions"),
    ]
    assert audit_pages(journey, pages) == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_reviewer_pages_have_no_serious_violation(browser_page, people, language):
    journey = _journey(browser_page, language, people["reviewer"])
    pages = [("review queue", "/review"), ("review page", f"/review/applications/{people['reference']}")]
    assert audit_pages(journey, pages) == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_pages_have_no_serious_violation(browser_page, people, language):
    journey = _journey(browser_page, language, people["admin"])
    pages = [("admin dashboard", "/admin"), ("admin offering form", "/admin/offerings/new")]
    assert audit_pages(journey, pages) == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_skip_link_is_the_first_stop_and_focus_is_visible(browser_page, people, language):
    journey = _journey(browser_page, language)
    page = journey.page
    journey.goto("/tracks")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.className")
    assert "skip-link" in focused
    # Shown when focused, inside the viewport (on the right in Arabic), with a visible outline.
    box = page.locator(".skip-link").bounding_box()
    width = page.viewport_size["width"]
    assert box["width"] > 20 and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert (box["x"] > width / 2) == (language == "ar")
    assert _outline_of_focused(page) >= 2
    # Following it puts the keyboard in the content: the next stop is the first filter.
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "filter-city"
    assert _outline_of_focused(page) >= 2
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.tagName") == "BUTTON"
    assert _outline_of_focused(page) >= 2


def _outline_of_focused(page):
    """Width in pixels of the focused element's outline (0 when there is none)."""
    return page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth); }"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_form_errors_are_announced_and_tied_to_their_fields(browser_page, people, language):
    journey = _journey(browser_page, language)
    page = journey.page
    journey.goto("/auth/register")
    page.fill("#first_name", "Amina")
    page.fill("#cin", "pas une CIN")
    journey.submit("main form button[type=submit]")
    summary = page.locator("#form-errors")
    assert summary.get_attribute("role") == "alert"
    assert page.evaluate("() => document.activeElement.id") == "form-errors"
    assert page.locator("#first_name").input_value() == "Amina"
    for name in ("last_name", "cin", "birth_date", "city_id", "email", "password", "consent"):
        control = page.locator(f"#{name}")
        assert control.get_attribute("aria-invalid") == "true", name
        assert f"{name}-error" in control.get_attribute("aria-describedby").split(), name
        error = page.locator(f"#{name}-error")
        assert error.is_visible() and error.inner_text().strip(), name
    assert page.locator("#first_name").get_attribute("aria-invalid") is None
    assert audit(journey, "register with errors") == []
    journey.shot("register-errors")


@pytest.mark.parametrize("language", LANGUAGES)
def test_status_badges_do_not_rely_on_colour(browser_page, people, language):
    journey = _journey(browser_page, language, people["reviewer"])
    page = journey.page
    journey.goto("/review")
    badges = page.locator("#status-counts .status-badge")
    assert badges.count() == 8
    symbols, labels = set(), set()
    for i in range(badges.count()):
        badge = badges.nth(i)
        symbols.add(badge.locator("[aria-hidden=true]").inner_text())
        labels.add(badge.inner_text().replace(badge.locator("[aria-hidden=true]").inner_text(), "").strip())
    # Each status has its own symbol and its own words, whatever the colours.
    assert len(symbols) == 8 and len(labels) == 8 and "" not in labels


@pytest.mark.parametrize("language", ["fr"])
def test_the_idle_warning_lets_the_user_stay_logged_in(app, browser_page, people, language):
    """WCAG 2.2.1: warned before the session ends for want of activity, one button extends it."""
    # 186 s of idle time: the warning (3 minutes before the end) comes after 6 seconds.
    app.config["SESSION_IDLE_MINUTES"] = 3.1
    journey = _journey(browser_page, language, people["applicant"])
    journey.goto(f"/apply/{people['apply_to']}")
    page = journey.page
    page.locator("#motivation").fill("Un texte que je ne veux pas perdre.")
    warning = page.locator("#session-warning")
    assert warning.is_hidden()
    warning.wait_for(state="visible", timeout=15_000)
    assert warning.get_attribute("role") == "alert"
    assert "votre session va se fermer" in warning.inner_text()
    with page.expect_response(lambda r: r.url.endswith("/auth/keepalive")) as answer:
        warning.locator("[data-session-stay]").click()
    assert answer.value.json()["seconds_left"] >= 185
    assert page.evaluate("() => document.getElementById('session-warning').hidden")
    assert page.locator("#motivation").input_value() == "Un texte que je ne veux pas perdre."
    assert browser_page.console_errors == []


@pytest.mark.parametrize("language", ["ar"])
def test_the_idle_warning_says_when_the_session_has_ended(app, browser_page, people, language):
    journey = _journey(browser_page, language, people["applicant"])
    # 4 seconds of idle time: warned at once, then told the session has ended.
    app.config["SESSION_IDLE_MINUTES"] = 4 / 60
    journey.goto("/me/profile")
    ended = journey.page.locator("#session-warning [data-session-state=ended]")
    ended.wait_for(state="visible", timeout=15_000)
    login_link = journey.page.locator("#session-warning [data-session-login]")
    assert login_link.is_visible() and login_link.get_attribute("target") == "_blank"
    assert journey.page.locator("#session-warning [data-session-stay]").is_hidden()
    assert browser_page.console_errors == []
