"""Layout on a 375×667 phone (and a desktop where alignment matters), in French and Arabic.

Staff tables show each row as a card: the page never scrolls sideways, no column is cut
off, and codes, references and academic years stay whole. The review queue's filters
line up. The home page shows its main action in the first screen and groups the
offerings by track.
"""

from datetime import timedelta

import pytest

from portal.audit import record
from portal.auth.models import User
from portal.certificates.operations import issue
from portal.extensions import db
from portal.timeutil import utcnow
from portal.vocabulary import CertificateLanguage
from tests import factories
from tests.browser.helpers import offering_of, start_journey

LANGUAGES = ["fr", "ar"]

# Whether the page is wider than the screen, and which "unbreakable" words were broken.
LAYOUT = """() => {
  const doc = document.documentElement;
  const shown = e => e.offsetParent !== null && !(e.closest('thead') && e.closest('thead').getBoundingClientRect().height <= 1);
  const scrollers = Array.from(document.querySelectorAll('main .table-responsive'))
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.querySelector('table')?.id || '?');
  // Broken: its boxes are on more than one line (right-to-left text may split a line
  // into several boxes, all at the same height).
  const broken = Array.from(document.querySelectorAll('main .text-nowrap')).filter(shown)
    .filter(e => { const tops = Array.from(e.getClientRects()).map(r => Math.round(r.top));
                   return Math.max(...tops) - Math.min(...tops) > 2; })
    .map(e => e.textContent.trim());
  const cut = Array.from(document.querySelectorAll('main td, main th')).filter(shown)
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 1 && (r.right > innerWidth + 1 || r.left < -1); })
    .map(e => e.textContent.trim().slice(0, 30));
  return {overflow: doc.scrollWidth - innerWidth, scrollers, broken, cut};
}"""


def assert_fits(journey, name):
    """The page fits the screen: no sideways scroll, no cell cut off, no code broken."""
    layout = journey.page.evaluate(LAYOUT)
    journey.bp.screenshot(f"full-{name}-{journey.language}")
    assert layout == {"overflow": 0, "scrollers": [], "broken": [], "cut": []}, (journey.page.url, layout)


@pytest.fixture
def busy(people):
    """More rows: applications from several applicants, a second track code, audit events."""
    rabat = offering_of("COM-DIG", "rabat")
    reviewer = db.session.query(User).filter_by(email=people["reviewer"]).one()
    reviewer.reviewed_offerings.append(rabat)
    for _ in range(3):
        factories.application(
            factories.user(profile={"first_name": "Fatima-Zahra", "last_name": "El Ouazzani"}), rabat
        )
    admin = db.session.query(User).filter_by(email=people["admin"]).one()
    record(admin, "offering_changed", "offering", rabat.id, before={"seats": 20}, after={"seats": 25})
    db.session.commit()
    return people


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_review_queue_fits_a_phone(browser_page, busy, language):
    journey = start_journey(browser_page, language, busy["reviewer"])
    journey.goto("/review")
    assert_fits(journey, "layout-review-queue")
    if browser_page.viewport == "phone":
        # Rows are cards: the header row is hidden, each cell carries its label.
        row = journey.page.locator("#queue tbody tr").first
        assert row.evaluate("e => getComputedStyle(e).display") == "block"
        assert journey.page.locator("#queue thead").evaluate("e => e.getBoundingClientRect().height") <= 1
        label = row.locator("td[data-label]").first.evaluate("e => getComputedStyle(e, '::before').content")
        assert label not in ("none", "normal", '""')


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_cohort_fits_a_phone(browser_page, busy, language):
    """The cohort page once the course has started: each participant a card, with its buttons."""
    rabat = offering_of("COM-DIG", "rabat")
    rabat.course_starts_on = rabat.course_starts_on.replace(year=2000)
    for status in ("confirmed", "confirmed", "completed", "not_completed"):
        factories.application(
            factories.user(profile={"first_name": "Fatima-Zahra", "last_name": "El Ouazzani"}),
            rabat,
            status=status,
        )
    offering_id = rabat.id
    db.session.commit()
    journey = start_journey(browser_page, language, busy["reviewer"])
    journey.goto(f"/review/offerings/{offering_id}/cohort")
    assert journey.page.locator("#cohort .row-outcome").count() == 2
    assert_fits(journey, "layout-cohort")
    if browser_page.viewport == "phone":
        row = journey.page.locator("#cohort tbody tr").first
        assert row.evaluate("e => getComputedStyle(e).display") == "block"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_queue_filters_line_up(browser_page, busy, language):
    journey = start_journey(browser_page, language, busy["reviewer"])
    page = journey.page
    journey.goto("/review")
    if browser_page.viewport == "desktop":
        controls = [
            page.locator(f"#queue-filters #{name}").bounding_box()
            for name in ("offering", "status", "q", "sort")
        ]
        button = page.locator("#queue-filters button[type=submit]").bounding_box()
        tops = {round(box["y"]) for box in controls}
        assert max(tops) - min(tops) <= 1, tops
        assert abs((button["y"] + button["height"]) - (controls[0]["y"] + controls[0]["height"])) <= 2
        labels = [
            page.locator(f"#queue-filters label[for={name}]").bounding_box()["y"]
            for name in ("offering", "status", "q", "sort")
        ]
        assert max(labels) - min(labels) <= 1, labels
    cin = page.locator("#cin").bounding_box()
    cin_button = page.locator("#cin-search button[type=submit]").bounding_box()
    assert abs((cin["y"] + cin["height"]) - (cin_button["y"] + cin_button["height"])) <= 2
    # Optional: no asterisk, and the browser does not require it.
    assert page.locator("#cin-search .text-danger").count() == 0
    assert page.locator("#cin").get_attribute("required") is None


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "path,name",
    [
        ("/admin/offerings", "layout-admin-offerings"),
        ("/admin/users", "layout-admin-users"),
        ("/admin/cities", "layout-admin-cities"),
        ("/admin/tracks", "layout-admin-tracks"),
        ("/admin/associations", "layout-admin-associations"),
        ("/admin/outbox", "layout-admin-outbox"),
        ("/admin/audit", "layout-admin-audit"),
    ],
)
def test_admin_tables_fit_a_phone(browser_page, busy, language, path, name):
    journey = start_journey(browser_page, language, busy["admin"])
    journey.goto(path)
    assert_fits(journey, name)


@pytest.mark.parametrize("language", LANGUAGES)
def test_certificate_pages_fit_a_phone(browser_page, people, language):
    started = offering_of("IA-APPL", "casablanca")
    started.course_starts_on = utcnow() - timedelta(days=60)
    participant = factories.user(profile={"first_name": "Fatima-Zahra", "last_name": "El Ouazzani"})
    number = issue(
        factories.application(participant, started, status="completed"), CertificateLanguage.FR
    ).number
    db.session.commit()
    visitor = start_journey(browser_page, language)
    visitor.goto(f"/verify/{number}")
    assert_fits(visitor, "layout-verify")
    admin = start_journey(browser_page, language, people["admin"])
    admin.goto("/admin/certificates")
    assert_fits(admin, "layout-admin-certificates")


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_home_page_shows_its_main_action_first_and_groups_offerings(browser_page, people, language):
    journey = start_journey(browser_page, language)
    page = journey.page
    journey.goto("/")
    journey.shot("layout-home")
    browser_page.screenshot(f"full-layout-home-{language}")
    height = page.viewport_size["height"]
    action = page.locator(".home-actions .btn-primary").bounding_box()
    catalogue = page.locator(".home-actions a[href$='/tracks']").bounding_box()
    assert action["y"] + action["height"] <= height and catalogue["y"] + catalogue["height"] <= height
    # Five track groups, each with its cities, deadline and seats left.
    assert page.locator(".track-group").count() == 5
    assert page.locator(".offering-row").count() == 10
    total = page.evaluate("() => document.documentElement.scrollHeight")
    # It was six phone screens with ten cards; grouped, it is at most four.
    assert total <= 4 * height, total
    assert page.evaluate(LAYOUT)["overflow"] == 0


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "path,name,who",
    [("/admin/reach", "layout-admin-reach", "admin"), ("/programme", "layout-programme", None)],
)
def test_the_reach_pages_fit_a_phone(browser_page, busy, language, path, name, who):
    """The figures' tables turn into cards and the twelve regions' chart keeps to the screen."""
    journey = start_journey(browser_page, language, busy[who] if who else None)
    journey.goto(path)
    assert_fits(journey, name)
