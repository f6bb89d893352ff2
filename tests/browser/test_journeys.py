"""The three journeys of the portal in Chromium, in French, Arabic and English, on a phone and a desktop.

(a) an applicant registers, confirms through the emailed link, applies with a PDF and
confirms the seat a reviewer offered; (b) a reviewer scores and accepts an application and
wait-lists another; (c) an administrator opens a track in a new city. Every page visited
must be valid HTML in the chosen language and direction and log no JavaScript error; the
main pages are photographed into screenshots/.
"""

import re

import pytest
from sqlalchemy import select

from portal.applications.models import Application
from portal.applications.workflow import transition
from portal.auth.models import User
from portal.catalog.models import Offering
from portal.extensions import db
from tests import factories
from tests.browser.helpers import (
    BENEFIT,
    MOTIVATION,
    Journey,
    assert_isolated_ltr,
    choose_language,
    city,
    log_in,
    log_out,
    offering_of,
    pdf_upload,
    seed,
)
from tests.helpers import find_link

LANGUAGES = ["fr", "ar", "en"]
PASSWORD = "une phrase de passe assez longue"
REFERENCE = re.compile(r"APP-\d{4}-\d{6}")
COMMENT = "Candidature cohérente avec le projet de l'association."


@pytest.fixture
def journey(browser_page, language):
    """A journey in ``language`` on the parametrised viewport, the catalogue seeded."""
    seed()
    walk = Journey(browser_page, language)
    choose_language(walk)
    return walk


def _status(page):
    """The status shown by the first status badge of the page."""
    return page.locator(".status-badge").first.get_attribute("data-status")


@pytest.mark.parametrize("language", LANGUAGES)
def test_applicant_registers_confirms_applies_and_takes_the_seat(journey, language, smtp_server, deliver):
    page = journey.page
    email = f"amina.{language}.{journey.bp.viewport}@example.org"
    rabat = offering_of("NUM-TRANS", "rabat")
    casablanca_id, rabat_id, offering_id = city("casablanca").id, rabat.city_id, rabat.id
    reviewer_id = factories.reviewer(rabat).id
    db.session.commit()

    journey.goto("/")
    journey.check("home")
    journey.goto("/tracks")
    journey.check("catalogue")

    # Registration through the real form.
    journey.goto("/auth/register")
    journey.shot("register")
    page.fill("#first_name", "Amina")
    page.fill("#last_name", "Benali")
    page.fill("#cin", "BK123456")
    page.fill("#birth_date", "1990-05-14")
    page.select_option("#education_level", "licence")
    page.fill("#phone", "06 12 34 56 78")
    page.select_option("#city_id", str(rabat_id))
    page.fill("#association_name", "Association Amal")
    page.fill("#association_registration", "REC-2019-0042")
    page.select_option("#association_city_id", str(casablanca_id))
    page.select_option("#association_field", "youth")
    page.fill("#association_role", "Trésorière")
    page.fill("#association_years", "4")
    page.fill("#email", email)
    assert page.locator("#locale").input_value() == language
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.check("#consent")
    journey.submit("main form button[type=submit]", expect_url=r"/auth/check-email")
    journey.shot("check-email")

    # The confirmation email, delivered by the real worker code to the real SMTP server.
    deliver()
    smtp_server.wait_for(1)
    (message,) = smtp_server.to(email)
    journey.goto(find_link(message, "/auth/confirm/"))
    journey.submit("main form button[type=submit]", expect_url=r"/me$")
    assert page.locator(".flash-messages .alert-success").count() == 1

    # Log out and back in with the password chosen above.
    log_out(journey)
    log_in(journey, email, PASSWORD)
    assert page.url.endswith("/me")
    journey.shot("dashboard-empty")

    # Apply with a PDF attestation, from the track's page.
    journey.goto("/tracks/NUM-TRANS")
    with page.expect_navigation():
        page.locator(f"main a[href$='/apply/{offering_id}']").first.click()
    journey.check()
    page.fill("#motivation", MOTIVATION)
    page.fill("#expected_benefit", BENEFIT)
    page.set_input_files("#membership", pdf_upload())
    journey.shot("apply")
    journey.submit("form.apply-form button[type=submit]", expect_url=r"/me/applications/APP-")
    reference = page.locator(".application-reference").inner_text().strip()
    assert REFERENCE.fullmatch(reference)
    assert reference in page.locator(".flash-messages").inner_text()
    assert _status(page) == "submitted"
    assert page.locator("ul.documents a").inner_text() == "attestation.pdf"
    journey.shot("application-submitted")

    # A reviewer accepts (directly through the workflow), the applicant is told by email.
    application = db.session.scalar(select(Application).where(Application.reference == reference))
    transition(application, "accepted", db.session.get(User, reviewer_id))
    db.session.commit()
    deliver()
    smtp_server.wait_for(3)
    assert len(smtp_server.to(email)) == 3  # confirmation link, receipt, acceptance

    # The dashboard shows the next step; the applicant confirms the seat.
    journey.goto("/me")
    assert _status(page) == "accepted"
    assert page.locator(".next-action").count() == 1
    journey.shot("dashboard-accepted")
    journey.goto(f"/me/applications/{reference}")
    journey.submit(".application-actions form[action$='/confirm'] button", expect_url=reference)
    assert _status(page) == "confirmed"
    journey.shot("application-confirmed")
    db.session.expire_all()
    assert (
        db.session.scalar(select(Application.status).where(Application.reference == reference)) == "confirmed"
    )
    db.session.commit()


@pytest.mark.parametrize("language", LANGUAGES)
def test_reviewer_scores_accepts_and_waitlists(journey, language, smtp_server, deliver):
    page = journey.page
    rabat = offering_of("NUM-TRANS", "rabat")
    first = factories.application(factories.user(locale=language), rabat)
    second = factories.application(factories.user(locale=language), rabat)
    reviewer = factories.reviewer(rabat, locale=language)
    references, email = (first.reference, second.reference), reviewer.email
    applicants = (first.applicant.email, second.applicant.email)
    db.session.commit()

    log_in(journey, email)
    assert page.url.endswith("/review")
    journey.shot("review-queue")
    for reference in references:
        assert page.locator(f"#queue tr[data-reference='{reference}']").count() == 1

    for reference, scores, recommendation, decision in (
        (references[0], (5, 4, 5), "accept", "accepted"),
        (references[1], (3, 3, 2), "waitlist", "waitlisted"),
    ):
        journey.goto("/review")
        with page.expect_navigation():
            page.locator(f"#queue a[href$='/review/applications/{reference}']").click()
        journey.check()
        for name, value in zip(("score_motivation", "score_engagement", "score_fit"), scores, strict=True):
            page.check(f"input[name={name}][value='{value}']")
        page.check(f"input[name=recommendation][value={recommendation}]")
        page.fill("#comment", COMMENT)
        journey.submit("#review-form button[type=submit]", expect_url=reference)
        assert page.locator("#reviews li").count() == 1
        assert page.locator("#mean-score").inner_text().startswith(str(sum(scores)))
        journey.shot(f"review-{decision}-before")
        # The decision form asks for confirmation (data-confirm): the journey accepts it.
        journey.submit(f"#decision-form button[value={decision}]", expect_url=reference)
        assert page.locator("#current-status .status-badge").get_attribute("data-status") == decision
        # The history's arrow points the reading way; Latin comments and emails stay LTR.
        arrow = page.locator("#history .flip-rtl").last.evaluate("e => getComputedStyle(e).transform")
        assert (arrow == "matrix(-1, 0, 0, 1, 0, 0)") == (language == "ar")
        assert_isolated_ltr(journey, email, COMMENT)
        journey.shot(f"review-{decision}")

    db.session.expire_all()
    statuses = dict(db.session.execute(select(Application.reference, Application.status)).all())
    db.session.commit()
    assert statuses == {references[0]: "accepted", references[1]: "waitlisted"}
    journey.goto("/review")
    assert (
        page.locator(f"#queue tr[data-reference='{references[1]}'] .status-badge").get_attribute(
            "data-status"
        )
        == "waitlisted"
    )
    # Each applicant is told that the application is being reviewed, then of the decision.
    deliver()
    smtp_server.wait_for(4)
    assert [len(smtp_server.to(address)) for address in applicants] == [2, 2]


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_opens_a_track_in_a_new_city(journey, language):
    page = journey.page
    track_id = offering_of("NUM-TRANS", "rabat").track_id
    fes = city("fes")
    fes_id, fes_name = fes.id, getattr(fes, f"name_{language}")
    reviewer = factories.user(role="reviewer", email="evaluateur.fes@example.org", locale=language)
    admin = factories.user(role="admin", locale=language)
    reviewer_id, admin_email = reviewer.id, admin.email
    db.session.commit()

    journey.goto("/tracks")
    assert page.locator(f"#filter-city option[value='{fes_id}']").count() == 1
    log_in(journey, admin_email)
    assert page.url.endswith("/admin")
    journey.shot("admin-dashboard")

    journey.goto("/admin/offerings/new")
    page.select_option("#track_id", str(track_id))
    page.select_option("#city_id", str(fes_id))
    page.fill("#seats", "20")
    # Reviewers are checkboxes; the last day of applications is a date.
    page.check(f"#reviewers input[value='{reviewer_id}']")
    assert page.locator("#closes_on").get_attribute("type") == "date"
    journey.shot("admin-offering-new")
    # Two buttons, no default: this administrator opens the session now.
    assert page.locator("main form button[name=action]").count() == 2
    journey.submit("main form button[name=action][value=open]", expect_url=r"/admin/offerings/\d+$")
    assert page.locator(".flash-messages .alert-success").count() == 1
    journey.shot("admin-offering")

    db.session.expire_all()
    offering = db.session.scalar(select(Offering).where(Offering.city_id == fes_id))
    assert (offering.track_id, offering.seats, offering.status) == (track_id, 20, "open")
    assert [u.id for u in offering.reviewers] == [reviewer_id]
    offering_id = offering.id
    db.session.commit()

    # The new session is in the public catalogue, filtered by its city (a visitor's view:
    # staff are not offered the apply button).
    page.context.clear_cookies()
    choose_language(journey)
    journey.goto(f"/tracks?city={fes_id}")
    card = page.locator(".card-offering", has=page.locator(f"a[href$='/apply/{offering_id}']"))
    assert card.count() == 1
    assert fes_name in card.inner_text()
    journey.shot("catalogue-fes")
