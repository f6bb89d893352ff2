"""The emails of the application life cycle: rendered in every language, received over SMTP."""

import re

import pytest

from portal.applications import workflow
from portal.auth.models import User
from portal.extensions import db
from portal.i18n import force_locale
from portal.notifications.outbox import enqueue_to_user, render_email
from portal.templating import format_day_time
from portal.vocabulary import ApplicationStatus
from tests import factories
from tests.helpers import find_link, message_html, message_text

STATUS_TEMPLATES = sorted({*workflow.EMAIL_FOR_STATUS.values(), "status_promoted"})
LOCALES = ("fr", "ar", "en")


def _base(app):
    """Links in emails start with BASE_URL."""
    return app.config["BASE_URL"].rstrip("/")


def _application(status="accepted", locale="fr"):
    applicant = factories.user(locale=locale, profile={"first_name": "Salma", "last_name": "Bennani"})
    return factories.application(applicant=applicant, status=status)


def test_every_status_has_its_templates():
    assert set(STATUS_TEMPLATES) == {
        "status_under_review",
        "status_accepted",
        "status_waitlisted",
        "status_rejected",
        "status_confirmed",
        "status_expired",
        "status_withdrawn",
        "status_promoted",
        "status_completed",
        "status_not_completed",
    }


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", STATUS_TEMPLATES)
def test_status_email_renders_in_every_language(app, template, locale):
    application = _application(locale=locale)
    subject, text, html = render_email(
        template, locale, user=application.applicant, application=application, note=None, rank=2
    )
    assert subject and "\r" not in subject and "\n" not in subject
    assert application.reference in subject
    # The text part is plain, readable and carries the whole link.
    assert "<" not in text and "{" not in text
    assert "Salma Bennani" in text
    assert re.search(r"https?://\S+", text)
    for link in re.findall(r"https?://\S+", text):
        assert link.startswith(_base(app) + "/")
    track = application.offering.track
    assert track.localized("title", locale) in text
    assert track.localized("title", locale) in html
    assert application.offering.city.localized("name", locale) in text
    assert f'lang="{locale}"' in html
    assert ('dir="rtl"' in html) == (locale == "ar")
    assert "<style" not in html and "stylesheet" not in html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", ["status_accepted", "status_promoted"])
def test_acceptance_gives_the_confirmation_deadline_and_the_link(app, template, locale):
    application = _application(locale=locale)
    _, text, html = render_email(template, locale, user=application.applicant, application=application)
    with force_locale(locale):
        deadline = format_day_time(application.confirmation_deadline)
    link = f"{_base(app)}/me/applications/{application.reference}"
    assert deadline in text and deadline in html
    assert link in text
    assert f'href="{link}"' in html


def test_rejection_carries_the_reviewers_message_escaped_in_html(app):
    application = _application(status="under_review")
    note = "Profil intéressant <b>mais</b> incomplet.\nPostulez l'an prochain & merci."
    _, text, html = render_email(
        "status_rejected", "fr", user=application.applicant, application=application, note=note
    )
    assert note in text
    assert "&lt;b&gt;mais&lt;/b&gt;" in html and "<b>mais</b>" not in html
    assert "Message de l'équipe de sélection" in html

    _, text, html = render_email(
        "status_rejected", "fr", user=application.applicant, application=application, note=None
    )
    assert "Message de l'équipe de sélection" not in text
    assert "Message de l'équipe de sélection" not in html


@pytest.mark.parametrize("template", ["status_accepted", "status_waitlisted", "status_under_review"])
def test_decision_emails_include_the_note_when_present(app, template):
    application = _application(status="under_review")
    _, text, html = render_email(
        template,
        "fr",
        user=application.applicant,
        application=application,
        note="Bravo pour votre dossier",
        rank=1,
    )
    assert "Bravo pour votre dossier" in text
    assert "Bravo pour votre dossier" in html


def test_waitlist_email_gives_the_rank(app):
    application = _application(status="waitlisted")
    _, text, html = render_email(
        "status_waitlisted", "fr", user=application.applicant, application=application, rank=4
    )
    assert "Votre rang sur la liste d'attente : 4." in text
    assert "Votre rang sur la liste d'attente : 4." in html


@pytest.mark.parametrize("locale", LOCALES)
def test_interest_opened_links_to_the_application_form(app, locale):
    applicant = factories.user(locale=locale)
    offering = factories.offering()
    subject, text, html = render_email("interest_opened", locale, user=applicant, offering=offering)
    assert "\n" not in subject and offering.track.localized("title", locale) in subject
    assert f"{_base(app)}/apply/{offering.id}" in text
    assert f'href="{_base(app)}/apply/{offering.id}"' in html
    assert ('dir="rtl"' in html) == (locale == "ar")


def test_email_is_rendered_in_the_recipients_language_not_the_requests(app, client):
    application = _application(locale="en")
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        email = enqueue_to_user(application.applicant, "status_accepted", application=application)
    assert email.locale == "en"
    assert application.offering.track.title_en in email.body_text
    assert 'lang="en"' in email.body_html


def test_decision_email_reaches_the_applicant_and_its_link_opens_the_application(
    app, client, smtp_server, deliver
):
    offering = factories.offering(seats=3)
    reviewer = factories.reviewer(offering)
    applicant = factories.user(locale="fr")
    application = factories.application(applicant=applicant, offering_=offering, status="under_review")
    workflow.transition(application, ApplicationStatus.ACCEPTED, reviewer, note="Félicitations !")
    db.session.commit()
    reference, address, applicant_id = application.reference, applicant.email, applicant.id

    assert deliver() == (1, 0)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == address
    assert reference in message["Subject"]
    assert "Félicitations !" in message_text(message)
    assert "Félicitations !" in message_html(message)

    path = find_link(message, "/me/applications/")
    assert path == f"/me/applications/{reference}"
    factories.login(client, db.session.get(User, applicant_id))
    assert client.get(path).status_code == 200


def test_subjects_with_accents_and_arabic_arrive_intact(app, smtp_server, deliver):
    expected = {}
    for locale in LOCALES:
        application = _application(locale=locale)
        application.offering.track.title_ar = "التحول الرقمي للجمعيات"
        application.offering.track.title_fr = "Transformation numérique des associations"
        email = enqueue_to_user(application.applicant, "status_promoted", application=application)
        expected[application.applicant.email] = email.subject
    email = enqueue_to_user(
        factories.user(locale="ar"),
        "interest_opened",
        offering=factories.offering(track=application.offering.track),
    )
    expected[email.to_address] = email.subject
    db.session.commit()
    assert any(not subject.isascii() for subject in expected.values())

    assert deliver() == (4, 0)
    messages = smtp_server.wait_for(4)
    assert {m["To"]: m["Subject"] for m in messages} == expected
