"""Browser fixtures: the portal served on loopback, Debian's Chromium driven by Playwright.

A missing browser is a failure, not a skip: CI installs the ``chromium`` package.
Screenshots go to ``screenshots/`` (git-ignored).
"""

import functools
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.helpers import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
VIEWPORTS = {"phone": {"width": 375, "height": 667}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def live_server(_app):
    """The test application served over HTTP on a free loopback port, in a thread."""
    port = free_port()
    server = make_server("127.0.0.1", port, _app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the run."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@functools.cache
def _axe_source():
    """axe-core's source, wrapped so that evaluating it defines ``window.axe``."""
    return "() => { " + AXE.read_text(encoding="utf-8") + "\n}"


class Page:
    """A Playwright page that records console errors and can run axe and take screenshots.

    Every HTML document the page receives is kept until ``check_html`` sends it, as the
    server wrote it (not the DOM the browser rebuilt from it), to the Nu HTML Checker.
    """

    def __init__(self, page, base_url, viewport_name, html_checker):
        self.page = page
        self.base_url = base_url
        self.viewport = viewport_name
        self.html_checker = html_checker
        self.console_errors = []
        self._documents = []
        page.on(
            "console", lambda message: message.type == "error" and self.console_errors.append(message.text)
        )
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.on("response", self._keep_document)

    def _keep_document(self, response):
        html = "text/html" in (response.header_value("content-type") or "")
        if response.request.resource_type == "document" and html and not 300 <= response.status < 400:
            # Read now: Chromium forgets a document's body once the next one arrives.
            self._documents.append((response, response.body()))

    def goto(self, path):
        """Open ``path`` on the live server; check its HTML."""
        response = self.page.goto(self.base_url + path)
        self.check_html()
        return response

    def check_html(self):
        """Send the HTML documents received since the last call to the Nu HTML Checker."""
        documents, self._documents = self._documents, []
        for response, body in documents:
            path = response.url.removeprefix(self.base_url)
            page = f"{response.request.method} {path} (HTTP {response.status})"
            self.html_checker.assert_valid(body.decode("utf-8"), page)

    def axe(self):
        """Run axe-core on the current page; return its violations.

        axe is evaluated through the DevTools protocol rather than added as a <script>:
        the portal's Content-Security-Policy (enforced in these tests, so that a violation
        shows up as a console error) would refuse an inline script.
        """
        # No colour in mid-transition: the pointer left where the last click put it may
        # hover a button just drawn there, and axe would measure the colours half-way.
        self.page.emulate_media(reduced_motion="reduce")
        self.page.mouse.move(0, 0)
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.evaluate(_axe_source())
        result = self.page.evaluate(
            "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        )
        return result["violations"]

    def serious_violations(self):
        """axe violations of impact serious or critical, as readable strings."""
        return [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in self.axe()
            if v["impact"] in ("serious", "critical")
        ]

    def screenshot(self, name):
        """Save a full-page screenshot under screenshots/."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}-{self.viewport}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(params=list(VIEWPORTS))
def browser_page(request, browser, live_server, app, html_checker):
    """A fresh browser context (no cookies) on a phone or desktop viewport.

    Every page it received is valid HTML by the end of the test.
    """
    # Emailed links must point at the live server; the app fixture restores the config.
    app.config["BASE_URL"] = live_server
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    # Fail fast: every page of the portal answers in well under a second.
    context.set_default_timeout(10_000)
    page = Page(context.new_page(), live_server, request.param, html_checker)
    yield page
    try:
        page.check_html()
    finally:
        context.close()


def pytest_sessionfinish(session):
    """Write the axe summary (screenshots/axe-summary.md) when axe ran."""
    from tests.browser.helpers import write_axe_summary

    write_axe_summary()


@pytest.fixture
def people(app, language):
    """The catalogue, an applicant with an application, its reviewer and an administrator.

    Their accounts are in the test's ``language``: the portal renders a logged-in user's
    pages in the language of the account. Returns what the tests need to find them.
    """
    from portal.extensions import db
    from tests import factories
    from tests.browser.helpers import offering_of, seed

    seed()
    rabat = offering_of("NUM-TRANS", "rabat")
    applicant = factories.user(
        profile={"cin": "AB123456", "phone": "+212612345678", "association_registration": "REC-2019-0042"},
        locale=language,
    )
    application = factories.application(applicant, rabat, reference="APP-2026-000123")
    reviewer = factories.reviewer(rabat, email="evaluatrice@example.org", locale=language)
    admin = factories.user(role="admin", email="admin@example.org", locale=language)
    data = {
        "applicant": applicant.email,
        "reviewer": reviewer.email,
        "admin": admin.email,
        "reference": application.reference,
        "cin": "AB123456",
        "phone": "+212612345678",
        "apply_to": offering_of("IA-APPL", "rabat").id,
    }
    # The live server must be able to write: end the test's transaction.
    db.session.commit()
    return data
