"""Accessibility in Chromium: axe-core on the main pages in French, Arabic and English,
keyboard, focus, RTL.

The tests fail on any serious or critical axe violation; every page's counts by impact
are recorded and written to screenshots/axe-summary.md at the end of the run.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.applications.models import Interest
from portal.associations.operations import find_or_declare
from portal.audit import record
from portal.auth.models import User
from portal.certificates.operations import issue, revoke
from portal.extensions import db
from portal.timeutil import utcnow
from portal.vocabulary import ApplicationStatus, AssociationField, CertificateLanguage
from tests import factories
from tests.browser.helpers import (
    city,
    offering_of,
    record_axe,
    release_database,
    start_journey,
)
from tests.factories import PASSWORD

LANGUAGES = ["fr", "ar", "en"]
ARABIC = re.compile(r"[\u0600-\u06ff]")


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


@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages_have_no_serious_violation(browser_page, people, language):
    journey = start_journey(browser_page, language)
    pages = [
        ("home", "/"),
        ("catalogue", "/tracks"),
        ("programme", "/programme"),
        ("register", "/auth/register"),
        ("login", "/auth/login"),
    ]
    assert audit_pages(journey, pages) == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_applicant_pages_have_no_serious_violation(app, browser_page, people, language):
    journey = start_journey(browser_page, language, people["applicant"])
    # A second device, so that the devices page shows its form and its "log out" buttons.
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile Safari/537.36"
    )
    assert (
        phone.post("/auth/login", data={"email": people["applicant"], "password": PASSWORD}).status_code
        == 302
    )
    # A wish for a track in a new city: the dashboard lists it with its "remove" form.
    user = db.session.scalar(select(User).where(User.email == people["applicant"]))
    wish = offering_of("GEST-AF", "tanger")
    db.session.add(Interest(applicant_id=user.id, track_id=wish.track_id, city_id=city("fes").id))
    release_database()
    pages = [
        ("apply", f"/apply/{people['apply_to']}"),
        ("applicant dashboard", "/me"),
        ("profile", "/me/profile"),
        ("devices", "/me/sessions"),
    ]
    assert audit_pages(journey, pages) == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_reviewer_pages_have_no_serious_violation(browser_page, people, language):
    journey = start_journey(browser_page, language, people["reviewer"])
    pages = [("review queue", "/review"), ("review page", f"/review/applications/{people['reference']}")]
    assert audit_pages(journey, pages) == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_cohort_page_has_no_serious_violation(browser_page, people, language):
    rabat = offering_of("NUM-TRANS", "rabat")
    before_id = rabat.id
    started = offering_of("COM-DIG", "rabat")
    started.course_starts_on = started.course_starts_on.replace(year=2000)
    for status in ("confirmed", "completed", "not_completed"):
        factories.application(offering_=started, status=status)
    factories.application(offering_=rabat, status="confirmed")
    reviewer = db.session.scalar(select(User).where(User.email == people["reviewer"]))
    reviewer.reviewed_offerings.append(started)
    started_id = started.id
    db.session.commit()
    release_database()
    journey = start_journey(browser_page, language, people["reviewer"])
    pages = [
        ("cohort before the start", f"/review/offerings/{before_id}/cohort"),
        ("cohort", f"/review/offerings/{started_id}/cohort"),
    ]
    assert audit_pages(journey, pages) == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_pages_have_no_serious_violation(browser_page, people, language):
    offering = offering_of("NUM-TRANS", "rabat")
    admin = db.session.scalar(select(User).where(User.email == people["admin"]))
    record(admin, "offering.update", "offering", offering.id, before={"seats": 25}, after={"seats": 30})
    offering_id = offering.id
    keep, drop = (
        find_or_declare(name_fr=name, registration_number=number, field=AssociationField.SOCIAL)
        for name, number in (("Association Al Amal", "RSK-2015-0421"), ("Al Amal (doublon)", "RSK-2015-0412"))
    )
    keep_id, drop_id = keep.id, drop.id
    db.session.commit()
    release_database()
    journey = start_journey(browser_page, language, people["admin"])
    pages = [
        ("admin dashboard", "/admin"),
        ("reach", "/admin/reach"),
        ("admin offering form", "/admin/offerings/new"),
        ("admin offering", f"/admin/offerings/{offering_id}"),
        ("admin users", "/admin/users"),
        ("audit log", "/admin/audit"),
        ("register", "/admin/associations"),
        ("register entry form", f"/admin/associations/{keep_id}/edit"),
        ("register merge search", f"/admin/associations/{drop_id}/merge"),
        ("register merge confirmation", f"/admin/associations/{drop_id}/merge?keep={keep_id}"),
        ("certificates", "/admin/certificates"),
    ]
    assert audit_pages(journey, pages) == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_certificate_pages_have_no_serious_violation(browser_page, people, language):
    """The participant's certificate block, the public verification (valid, revoked, unknown, form)."""
    applicant = db.session.scalar(select(User).where(User.email == people["applicant"]))
    started = offering_of("IA-APPL", "casablanca")
    started.course_starts_on = utcnow() - timedelta(days=60)
    application = factories.application(applicant, started, status="completed")
    valid = issue(application, CertificateLanguage.FR)
    other = factories.application(factories.user(), started, status="completed")
    revoked = issue(other, CertificateLanguage.AR)
    admin = db.session.scalar(select(User).where(User.email == people["admin"]))
    revoke(admin, revoked, "Erreur de saisie")
    reference, valid_number, revoked_number = application.reference, valid.number, revoked.number
    db.session.commit()
    release_database()
    visitor = start_journey(browser_page, language)
    pages = [
        ("verify form", "/verify"),
        ("verify valid", f"/verify/{valid_number}"),
        ("verify revoked", f"/verify/{revoked_number}"),
    ]
    assert audit_pages(visitor, pages) == {}
    visitor.shot("verify-revoked")
    visitor.goto(f"/verify/{valid_number}")
    visitor.shot("verify-valid")
    participant = start_journey(browser_page, language, people["applicant"])
    assert audit_pages(participant, [("completed application", f"/me/applications/{reference}")]) == {}
    participant.shot("certificate-download")
    # Last: the browser logs the 404 as a console error, which the journey's checks refuse.
    assert browser_page.goto("/verify/OFPPT-2026-AAAA-AAAA").status == 404
    assert audit(participant, "verify unknown") == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_skip_link_is_the_first_stop_and_focus_is_visible(browser_page, people, language):
    journey = start_journey(browser_page, language)
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
    journey = start_journey(browser_page, language)
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
    # The summary lists each field in error, linked to it, with its label and its message.
    for name in ("last_name", "cin", "birth_date", "city_id", "email", "password", "consent"):
        link = summary.locator(f"a[href='#{name}']")
        text = link.inner_text()
        assert page.locator(f"#{name}-error").inner_text().strip() in text, name
        assert page.locator(f"label[for={name}]").inner_text().strip() in text, name
    assert summary.locator("a[href='#first_name']").count() == 0
    assert audit(journey, "register with errors") == []
    journey.shot("register-errors")


@pytest.mark.parametrize("language", ["ar"])
def test_an_empty_form_is_answered_by_the_portal_in_the_pages_language(browser_page, people, language):
    """No browser bubble ("Please fill out this field."): the form goes to the server, which answers."""
    journey = start_journey(browser_page, language)
    page = journey.page
    journey.goto("/auth/register")
    assert page.locator("main form").first.get_attribute("novalidate") is not None
    # Still required for assistive technology.
    assert page.locator("#cin").evaluate("e => e.required && e.validity.valueMissing")
    # A bubble would stop the form here: submit() waits for the server's page.
    journey.submit("main form button[type=submit]")
    assert page.evaluate("() => document.activeElement.id") == "form-errors"
    message = page.locator("#cin-error").inner_text()
    assert ARABIC.search(message), message
    link = page.locator("#form-errors a[href='#cin']")
    assert message in link.inner_text()
    # Following the link puts the keyboard in the field, with its label in view.
    page.locator("#form-errors a").first.focus()
    link.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "cin"
    # Scrolling may be smooth: wait for the label to arrive.
    page.wait_for_function(
        "() => { const box = document.querySelector('label[for=cin]').getBoundingClientRect();"
        " return box.top >= 0 && box.bottom <= window.innerHeight; }"
    )
    journey.check()


# The focused element's outline: its colour, the colour behind it (the element's own
# background when the ring is drawn inside it, else what its ancestors paint, composited over
# white), and the contrast ratio of the two (WCAG relative luminance).
FOCUS_RING = """(el) => {
  const rgba = (text) => {
    const p = text.match(/rgba?\\(([^)]+)\\)/)[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const style = getComputedStyle(el);
  const layers = [];
  let node = parseFloat(style.outlineOffset) < 0 ? el : el.parentElement;
  for (; node; node = node.parentElement) {
    const colour = rgba(getComputedStyle(node).backgroundColor);
    if (colour[3] > 0) { layers.push(colour); if (colour[3] >= 1) break; }
  }
  let behind = [255, 255, 255];
  for (const c of layers.reverse()) behind = behind.map((v, i) => c[i] * c[3] + v * (1 - c[3]));
  const luminance = (c) => {
    const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(rgba(style.outlineColor).slice(0, 3)), luminance(behind)].sort((a, b) => b - a);
  return {
    visible: el.matches(":focus-visible") && style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    ring: style.outlineColor,
    behind: "rgb(" + behind.map(Math.round).join(", ") + ")",
    contrast: Math.round((light + 0.05) / (dark + 0.05) * 100) / 100,
  };
}"""


def _focus_rings(page, targets):
    """{name: problem} for the targets whose keyboard focus ring is missing or under 3:1."""
    problems = {}
    for name, selector in targets:
        element = page.locator(selector).first
        element.focus()
        ring = element.evaluate(FOCUS_RING)
        if not ring["visible"] or ring["contrast"] < 3:
            problems[name] = ring
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_focus_ring_contrasts_with_every_background(browser_page, people, language):
    """WCAG 1.4.11: 3:1 against white, the dark navbar, the light footer, alerts, around buttons."""
    journey = start_journey(browser_page, language)
    page = journey.page
    journey.goto("/auth/register")
    journey.submit("main form button[type=submit]")
    # Keyboard focus: the ring is for keyboard users (:focus-visible).
    page.keyboard.press("Tab")
    phone = journey.bp.viewport == "phone"
    targets = [
        ("skip link", ".skip-link"),
        ("brand, on the navbar", ".navbar-brand"),
        ("menu button, on the navbar", ".navbar-toggler")
        if phone
        else ("navbar link", "#main-nav .nav-link"),
        ("link of the error summary", "#form-errors a"),
        ("text field", "#first_name"),
        ("list", "#city_id"),
        ("check box", "#consent"),
        ("primary button", "main form button[type=submit]"),
        ("footer link", "footer a"),
    ]
    if not phone:
        targets.append(("light button, on the navbar", "#main-nav .btn-light"))
    problems = _focus_rings(page, targets)
    if phone:
        page.locator(".navbar-toggler").focus()
        page.keyboard.press("Enter")
        page.locator("#main-nav.show").wait_for(state="visible")
        problems.update(
            _focus_rings(
                page,
                [("menu link", "#main-nav .nav-link"), ("light button, in the menu", "#main-nav .btn-light")],
            )
        )
    assert problems == {}


@pytest.mark.parametrize("browser_page", ["phone"], indirect=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_escape_closes_the_phone_menu_and_returns_to_its_button(browser_page, people, language):
    journey = start_journey(browser_page, language)
    page = journey.page
    toggler = page.locator(".navbar-toggler")
    toggler.focus()
    page.keyboard.press("Enter")
    page.locator("#main-nav.show").wait_for(state="visible")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('#main-nav') !== null")
    page.keyboard.press("Escape")
    page.locator("#main-nav").wait_for(state="hidden")
    assert toggler.get_attribute("aria-expanded") == "false"
    assert page.evaluate("() => document.activeElement.classList.contains('navbar-toggler')")
    assert browser_page.console_errors == []


@pytest.mark.parametrize("browser_page", ["phone"], indirect=True)
@pytest.mark.parametrize("language", ["ar", "en"])
def test_a_table_wider_than_the_phone_scrolls_with_the_keyboard(browser_page, people, language):
    admin = db.session.scalar(select(User).where(User.email == people["admin"]))
    offering_id = offering_of("NUM-TRANS", "rabat").id
    for seats in (26, 27, 28):
        record(
            admin,
            "offering.update",
            "offering",
            offering_id,
            before={"seats": seats - 1},
            after={"seats": seats},
        )
    release_database()
    journey = start_journey(browser_page, language, people["admin"])
    page = journey.page
    # The audit log turns into stacked cards on a phone: nothing to scroll sideways.
    journey.goto("/admin/audit")
    audit = page.locator("main .table-responsive")
    assert audit.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    # The dashboard's table of statuses per session stays a table, wider than the phone.
    journey.goto("/admin")
    region = page.locator("main .table-responsive[aria-labelledby='status-title']")
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")
    assert region.get_attribute("role") == "region" and region.get_attribute("aria-labelledby")
    # Reached with Tab alone, then scrolled with the arrow towards the end of the line.
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.getAttribute('aria-labelledby') === 'status-title'"):
            break
    else:
        raise AssertionError("the table is not reachable with Tab")
    for _ in range(5):
        page.keyboard.press("ArrowLeft" if language == "ar" else "ArrowRight")
    # Scrolling may be smooth: wait for it to move.
    page.wait_for_function("() => Math.abs(document.activeElement.scrollLeft) > 0")


@pytest.mark.parametrize("language", LANGUAGES)
def test_status_badges_do_not_rely_on_colour(browser_page, people, language):
    journey = start_journey(browser_page, language, people["reviewer"])
    page = journey.page
    journey.goto("/review")
    badges = page.locator("#status-counts .status-badge")
    # One badge per status of the vocabulary.
    assert badges.count() == len(ApplicationStatus) == 10
    symbols, labels = set(), set()
    for i in range(badges.count()):
        badge = badges.nth(i)
        symbols.add(badge.locator("[aria-hidden=true]").inner_text())
        labels.add(badge.inner_text().replace(badge.locator("[aria-hidden=true]").inner_text(), "").strip())
    # Each status has its own symbol and its own words, whatever the colours.
    assert len(symbols) == len(labels) == len(ApplicationStatus) and "" not in labels


@pytest.mark.parametrize("language", ["fr"])
def test_the_idle_warning_lets_the_user_stay_logged_in(app, browser_page, people, language):
    """WCAG 2.2.1: warned before the session ends for want of activity, one button extends it."""
    # 186 s of idle time: the warning (3 minutes before the end) comes after 6 seconds.
    app.config["SESSION_IDLE_MINUTES"] = 3.1
    journey = start_journey(browser_page, language, people["applicant"])
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
    journey = start_journey(browser_page, language, people["applicant"])
    # 4 seconds of idle time: warned at once, then told the session has ended.
    app.config["SESSION_IDLE_MINUTES"] = 4 / 60
    journey.goto("/me/profile")
    ended = journey.page.locator("#session-warning [data-session-state=ended]")
    ended.wait_for(state="visible", timeout=15_000)
    login_link = journey.page.locator("#session-warning [data-session-login]")
    assert login_link.is_visible() and login_link.get_attribute("target") == "_blank"
    assert journey.page.locator("#session-warning [data-session-stay]").is_hidden()
    assert browser_page.console_errors == []
