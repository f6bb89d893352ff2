"""Helpers of the browser tests: test data, logging in, visiting pages, recording axe results."""

import json
import re
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from portal.auth.models import User
from portal.catalog.models import City, Offering, Track
from portal.catalog.operations import seed_catalogue
from portal.extensions import db
from tests import factories
from tests.browser.conftest import SCREENSHOTS
from tests.samples import PDF

MOTIVATION = (
    "Notre association accompagne les jeunes du quartier et je souhaite apprendre à "
    "numériser nos activités pour mieux suivre nos bénéficiaires et nos projets."
)
BENEFIT = "Un suivi numérique des adhérents et des projets de l'association."
IMPACTS = ("minor", "moderate", "serious", "critical")
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def release_database():
    """End the test's own transaction so that the live server can write.

    Outside a request the portal starts SQLite transactions with BEGIN IMMEDIATE (and a
    writer lock), so a test that read something would otherwise block the server.
    """
    db.session.commit()


def pdf_upload(name="attestation.pdf"):
    """A small PDF for ``page.set_input_files``."""
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def seed():
    """The shipped catalogue (12 regions, their cities, 5 tracks, 10 open offerings), committed."""
    seed_catalogue()
    db.session.commit()


def offering_of(code, city_slug):
    """The current offering of track ``code`` in the city ``city_slug``."""
    return db.session.scalar(
        select(Offering)
        .join(Offering.track)
        .join(Offering.city)
        .where(Track.code == code, City.slug == city_slug)
    )


def city(slug):
    """The seeded city ``slug``."""
    return db.session.scalar(select(City).where(City.slug == slug))


class Journey:
    """Follows one browser page through a journey.

    Every page visited is checked for JavaScript errors (collected per page so that a
    failure names the page) and can be photographed into screenshots/.
    """

    def __init__(self, browser_page, language):
        self.bp = browser_page
        self.page = browser_page.page
        self.language = language
        self.errors_by_page = {}
        self._seen = 0
        self.page.on("dialog", lambda dialog: dialog.accept())

    def goto(self, path):
        """Open ``path`` on the live server and check the page."""
        release_database()
        response = self.bp.goto(path)
        assert response.status < 400, f"{path}: HTTP {response.status}"
        self.check()
        return response

    def check(self, name=None):
        """Check the page now shown: valid HTML, right language and direction, no new console error."""
        self.page.wait_for_load_state("load")
        self.bp.check_html()
        html = self.page.locator("html")
        assert html.get_attribute("lang") == self.language, self.page.url
        assert html.get_attribute("dir") == ("rtl" if self.language == "ar" else "ltr"), self.page.url
        new = self.bp.console_errors[self._seen :]
        self._seen = len(self.bp.console_errors)
        if new:
            self.errors_by_page.setdefault(self.page.url, []).extend(new)
        assert self.bp.console_errors == [], f"JavaScript errors: {self.errors_by_page}"
        if name:
            self.shot(name)

    def shot(self, name):
        """Save a viewport screenshot ``<name>-<language>-<viewport>.png`` under screenshots/."""
        SCREENSHOTS.mkdir(exist_ok=True)
        # The top of the page, whatever the test scrolled to (focus is left where it is).
        self.page.evaluate("() => window.scrollTo(0, 0)")
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{self.language}-{self.bp.viewport}.png"))

    def submit(self, selector="form button[type=submit]", *, expect_url=None):
        """Click a submit button and wait for the page it leads to."""
        release_database()
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        if expect_url:
            assert re.search(expect_url, self.page.url), f"{self.page.url} !~ {expect_url}"
        self.check()


def switch_language(browser_page, language):
    """Choose ``language`` as a visitor does: the menu's button on the home page (a small form)."""
    release_database()
    page = browser_page.page
    browser_page.goto("/")
    button = page.locator(f'form[action="/lang/{language}"] button')
    if not button.count():
        return  # already the page's language: the menu offers the others only
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()  # phones: the menu is collapsed
        # As in log_out: wait for the end of the menu's opening animation, or the click may
        # land while the button still slides and submit nothing (seen once under load).
        page.locator("#main-nav.show").wait_for(state="visible")
    button.wait_for(state="visible")
    with page.expect_navigation():
        button.click()
    browser_page.check_html()


def choose_language(journey):
    """Choose the journey's language as a visitor does, with the menu (back to the home page)."""
    switch_language(journey.bp, journey.language)
    journey.check()


def log_in(journey, email, password=factories.PASSWORD):
    """Log in through the real form; pass a second-factor step if the portal asks for one."""
    journey.goto("/auth/login")
    page = journey.page
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    journey.submit("main form button[type=submit]")
    code_input = page.locator("input[autocomplete='one-time-code'], input[name='code'], input[name='totp']")
    if code_input.count():
        code_input.first.fill(_totp_now(email))
        journey.submit("main form button[type=submit]")
    assert "/auth/login" not in page.url, f"login failed for {email}"


def start_journey(browser_page, language, email=None):
    """A journey in ``language``, chosen with the menu, logged in as ``email`` if given."""
    journey = Journey(browser_page, language)
    choose_language(journey)
    if email:
        log_in(journey, email)
    return journey


def _totp_now(email):
    """The current TOTP code of ``email``, from the secret stored on the account."""
    import pyotp

    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == email))
    secret = next(
        getattr(user, name)
        for name in ("totp_secret", "two_factor_secret", "otp_secret")
        if getattr(user, name, None)
    )
    db.session.commit()
    return pyotp.TOTP(secret).now()


def log_out(journey):
    """Log out with the navbar's button (opening the menu on a phone)."""
    page = journey.page
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        # Bootstrap marks the menu ``.show`` once its opening animation ends: a click while
        # it still slides can miss the button (seen once on a loaded machine).
        page.locator("#main-nav.show").wait_for(state="visible")
    logout = page.locator("header form[action$='/auth/logout'] button")
    logout.wait_for(state="visible")
    with page.expect_navigation():
        logout.click()
    journey.check()


# Where a text node of ``main`` containing the value sits: its element's direction and
# whether that element isolates it from the surrounding Arabic (bdi, dir="ltr", .ltr).
# Text only read out by screen readers (.visually-hidden) is not laid out, so not checked.
TEXT_DIRECTIONS = """(text) => {
  const found = [];
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.nodeValue.includes(text) && !node.parentElement.closest('.visually-hidden')) {
      const style = getComputedStyle(node.parentElement);
      found.push(node.parentElement.tagName + ':' + style.direction + ':' + style.unicodeBidi);
    }
  }
  return found;
}"""


def assert_isolated_ltr(journey, *values):
    """Each value appears in ``main`` only inside an isolated left-to-right element."""
    for value in values:
        places = journey.page.evaluate(TEXT_DIRECTIONS, value)
        assert places, f"{value!r} not found on {journey.page.url}"
        for place in places:
            _tag, direction, bidi = place.split(":")
            assert direction == "ltr" and bidi in ("isolate", "plaintext"), (value, place, journey.page.url)


# axe-core results ------------------------------------------------------------------------

_AXE_RESULTS = {}


def record_axe(page_name, language, viewport, violations):
    """Remember the violations of a page by impact, for the summary written at the end."""
    counts = Counter(v["impact"] for v in violations)
    _AXE_RESULTS[(page_name, language, viewport)] = {
        "counts": {impact: counts.get(impact, 0) for impact in IMPACTS},
        "rules": sorted(f"{v['id']} ({v['impact']})" for v in violations),
    }


def write_axe_summary():
    """Write screenshots/axe-summary.md and .json: violations per page by impact."""
    if not _AXE_RESULTS:
        return
    SCREENSHOTS.mkdir(exist_ok=True)
    rows = sorted(_AXE_RESULTS.items())
    lines = [
        "# axe-core results (WCAG 2.1 A/AA + best practices)",
        "",
        "| page | language | viewport | minor | moderate | serious | critical | rules |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (name, language, viewport), result in rows:
        c = result["counts"]
        rules = ", ".join(result["rules"]) or "—"
        lines.append(
            f"| {name} | {language} | {viewport} | {c['minor']} | {c['moderate']} | {c['serious']} | {c['critical']} | {rules} |"
        )
    (SCREENSHOTS / "axe-summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = [
        {"page": name, "language": language, "viewport": viewport, **result}
        for (name, language, viewport), result in rows
    ]
    (SCREENSHOTS / "axe-summary.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    print("\n" + "\n".join(lines))
