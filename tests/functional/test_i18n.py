"""Issue 12, "not in the reader's language", and issue 11 point 5 (the language menu posts)."""

import re

import pytest

from portal.auth.models import User
from portal.extensions import db
from tests import factories
from tests.helpers import TOTP_NOW, staff
from tests.security import formdata


def page_language(response):
    """The ``lang`` of a page's ``<html>``."""
    return re.search(r'<html lang="(\w+)"', response.get_data(as_text=True)).group(1)


# The language chosen in this visit -----------------------------------------------------------


def test_the_language_chosen_before_logging_in_wins_over_the_accounts_and_is_saved(app, clock):
    app.config["STAFF_TWO_FACTOR_REQUIRED"] = True
    clock.set(TOTP_NOW)
    reviewer = staff()
    reviewer.locale = "ar"
    db.session.commit()
    client = app.test_client()
    client.post("/lang/en")
    response = factories.login(client, reviewer)
    assert response.status_code == 302
    second_step = client.get(response.headers["Location"], follow_redirects=True)
    assert second_step.status_code == 200 and page_language(second_step) == "en"
    db.session.expire_all()
    assert db.session.get(User, reviewer.id).locale == "en"


def test_without_a_choice_in_this_visit_the_account_language_is_used(app):
    user = factories.user(locale="ar")
    db.session.commit()
    client = app.test_client()
    factories.login(client, user)
    assert page_language(client.get("/me")) == "ar"
    # The profile's language, once saved, is this visit's language at once.
    client.post("/lang/en")
    assert page_language(client.get("/me")) == "en"
    assert db.session.get(User, user.id).locale == "en"


def test_the_menu_is_one_small_form_per_language_coming_back_to_the_page(client):
    page = client.get("/tracks?city=1").get_data(as_text=True)
    forms = re.findall(r'<form method="post" action="/lang/(\w+)"[^>]*>(.*?)</form>', page, re.S)
    assert [code for code, _ in forms] == ["ar", "en"]
    for code, body in forms:
        assert 'name="next" value="/tracks?city=1"' in body
        assert re.search(rf'<button class="btn btn-link nav-link" type="submit" lang="{code}">', body)
    assert client.get("/lang/ar").status_code == 405
    response = client.post("/lang/ar", data={"next": "/tracks?city=1"})
    assert response.headers["Location"] == "/tracks?city=1"


# Names of cities, labels, examples ----------------------------------------------------------


def tangier_offering():
    """An offering in Tanger (Tangier, طنجة) with one application."""
    offering = factories.offering(city=factories.city("Tanger", name_ar="طنجة", name_en="Tangier"))
    application = factories.application(offering_=offering)
    return offering, application


@pytest.mark.parametrize("language,name", [("ar", "طنجة"), ("en", "Tangier"), ("fr", "Tanger")])
def test_the_dashboards_offering_filter_names_the_city_in_the_pages_language(app, language, name):
    offering, _ = tangier_offering()
    admin = factories.user(role="admin", locale=language)
    db.session.commit()
    client = app.test_client()
    factories.login(client, admin)
    page = client.get("/admin").get_data(as_text=True)
    option = re.search(rf'<option value="{offering.id}"[^>]*>([^<]*)</option>', page).group(1)
    assert name in option
    # Code and year isolated left to right: "2026-2027" never reads backwards after Arabic.
    assert f"\u2066{offering.academic_year}\u2069" in option
    if language != "fr":
        assert "Tanger " not in option and not option.endswith("Tanger")


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_review_page_labels_the_full_name_and_the_association_name_apart(app, language):
    offering, application = tangier_offering()
    reviewer = factories.reviewer(offering, locale=language)
    db.session.commit()
    client = app.test_client()
    factories.login(client, reviewer)
    page = client.get(f"/review/applications/{application.reference}").get_data(as_text=True)
    labels = re.findall(r'<dt class="col-sm-4">([^<]*)</dt>', page)
    expected = {"ar": ("الاسم الكامل", "اسم الجمعية"), "en": ("Full name", "Name of the association")}
    assert set(expected[language]) <= set(labels)
    assert "Last name" not in labels and "الاسم العائلي" not in labels
    assert len(labels) == len(set(labels))
    assert f'<bdi dir="ltr">{offering.academic_year}</bdi>' in page


def test_the_arabic_email_error_gives_an_example_that_is_not_french(client):
    client.post("/lang/ar")
    page = client.post("/auth/register", data={"email": "pas-une-adresse"}).get_data(as_text=True)
    message = re.search(r'id="email-error"[^>]*>([^<]*)<', page).group(1)
    assert "مثال" in message and "name@example.ma" in message and "exemple" not in message


# Emails ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "language,name",
    [
        ("ar", "بوابة تكوين الجمعيات"),
        ("en", "Association Training Portal"),
        ("fr", "Portail Formation Associations"),
    ],
)
def test_an_emails_sender_name_is_in_the_readers_language(app, client, deliver, smtp_server, language, name):
    city = factories.city("Rabat")
    db.session.commit()

    client.post(f"/lang/{language}")
    assert client.post("/auth/register", data=formdata.registration(city, locale=language)).status_code == 302
    deliver()
    [message] = smtp_server.wait_for(1)
    assert message["From"].addresses[0].display_name == name
    assert message["From"].addresses[0].addr_spec == "no-reply@formation-associations.ma"


# The locale being rendered: the portal's own copy, never Flask-Babel's private state ------


def test_the_portal_reads_no_private_state_of_flask_babel():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "portal"
    for path in root.rglob("*.py"):
        source = path.read_text()
        assert "_flask_babel" not in source, path
        if path.name != "i18n.py":
            # flask_babel.force_locale would leave the portal's copy of the locale behind.
            assert not re.search(r"from flask_babel import .*force_locale", source), path


def test_the_locale_follows_the_request_and_force_locale_and_comes_back(app):
    from portal import i18n

    with app.test_request_context("/", headers={"Accept-Language": "ar"}):
        assert i18n.current_language() == "ar"
        assert i18n.translations().ugettext("Accès refusé") != "Accès refusé"
        with i18n.force_locale("en"):
            assert i18n.current_language() == "en"
            assert i18n.translations().ugettext("Accès refusé") == "Access denied"
            with i18n.force_locale("fr"):
                assert i18n.current_language() == "fr"
            assert i18n.current_language() == "en"
        assert i18n.current_language() == "ar"
    # A new request chooses again (in its own app context, as in production).
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert i18n.current_language() == "en"


def test_an_email_rendered_during_a_request_is_in_its_readers_language(app, client):
    from portal.notifications.outbox import render_email

    application = factories.application(status="accepted")
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        from portal import i18n

        assert i18n.current_language() == "fr"
        subject, text, html = render_email(
            "status_accepted", "ar", user=application.applicant, application=application
        )
        assert 'lang="ar"' in html or 'dir="rtl"' in html
        assert i18n.current_language() == "fr"


# Template texts (portal.i18n._template_gettext keeps them once translated) ------------------

TEXTS = (
    '{{ _("Se déconnecter") }}|{{ _("100%% en ligne") }}|{{ _("Bonjour %(name)s", name=name) }}'
    '{% autoescape false %}|{{ _("Bonjour %(name)s", name=name) }}|{{ _("100%% en ligne") }}{% endautoescape %}'
)


@pytest.mark.parametrize(
    ("languages", "logout"),
    [(("fr", "ar", "en", "fr"), ("Se déconnecter", "تسجيل الخروج", "Sign out", "Se déconnecter"))],
)
def test_template_texts_follow_the_language_of_each_render_and_jinja_formatting(app, languages, logout):
    template = app.jinja_env.from_string(TEXTS)
    for language, expected in zip(languages, logout, strict=True):
        # A context of its own, as each request has (the language is kept on it).
        with app.app_context(), app.test_request_context("/", headers={"Accept-Language": language}):
            rendered = template.render(name="<b>")
        # Kept texts never leak into another language's page.
        assert rendered.split("|") == [
            expected,
            "100% en ligne",  # a "%%" reads "%" with or without variables, as in Jinja
            "Bonjour &lt;b&gt;",  # variables are escaped where the template escapes
            "Bonjour <b>",  # and left alone where it does not (text emails)
            "100% en ligne",
        ]


def test_template_texts_kept_are_bounded_and_the_others_still_translated(app, monkeypatch):
    from portal import i18n

    monkeypatch.setattr(i18n, "_template_texts", {})
    monkeypatch.setattr(i18n, "_MAX_TEMPLATE_TEXTS", 2)
    template = app.jinja_env.from_string('{{ _("Se déconnecter") }}|{{ _("Filtrer") }}|{{ _("Effacer") }}')
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "en"}):
        first, second = template.render(), template.render()
    assert first == second == "Sign out|Filter|Clear"
    assert len(i18n._template_texts) == 2


# The portal's gettext functions (portal.i18n.gettext, ngettext and their lazy forms) ---------


def test_python_texts_are_those_of_flask_babel_and_lazy_ones_follow_the_language_of_use(app):
    import flask_babel

    from portal import i18n

    label = i18n.lazy_gettext("Se déconnecter")
    plural = i18n.lazy_ngettext("%(num)d candidature", "%(num)d candidatures", 2)
    greeting = i18n.lazy_gettext("Bonjour %(name)s,", name="<b>")
    seen = {}
    for language in ("fr", "ar", "en", "fr"):
        with app.app_context(), app.test_request_context("/", headers={"Accept-Language": language}):
            for args in (("Se déconnecter",), ("Bonjour %(name)s,",)):
                assert i18n.gettext(*args, name="x") == flask_babel.gettext(*args, name="x")
            for num in (0, 1, 2, 11):
                assert i18n.ngettext("%(num)d candidature", "%(num)d candidatures", num) == (
                    flask_babel.ngettext("%(num)d candidature", "%(num)d candidatures", num)
                )
            seen[language] = (str(label), str(plural), str(greeting))
    assert seen["fr"] == ("Se déconnecter", "2 candidatures", "Bonjour <b>,")
    assert seen["en"] == ("Sign out", "2 applications", "Hello <b>,")
    assert seen["ar"][0] == "تسجيل الخروج" and seen["ar"][1] == "ترشيحان"
