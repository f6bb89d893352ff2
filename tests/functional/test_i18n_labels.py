"""Issue 12, "not in the reader's language": the audit log's events, fields and values."""

import ast
import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from portal.admin import audit_labels
from portal.audit import record
from portal.extensions import db
from tests import factories
from tests.helpers import admin_client

ROOT = Path(__file__).resolve().parents[2]


def translations(language):
    """The compiled-to-be catalogue of ``language``: msgid → msgstr."""
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return {m.id: m.string for m in read_po(po) if m.id}


def recorded_actions():
    """Every action code passed to ``record(`` in portal/, read from the source (not run)."""
    actions = set()
    for path in (ROOT / "portal").rglob("*.py"):
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record":
                action = node.args[1]
                if isinstance(action, ast.Name):
                    actions.add(constants[action.id])
                else:
                    assert isinstance(action, ast.Constant), f"{path}: record( with a computed action"
                    actions.add(action.value)
    return actions


def test_every_recorded_action_has_a_label_translated_in_arabic_and_english():
    actions = recorded_actions()
    assert {"view_personal_data", "decision", "offering_opened", "export"} <= actions
    for language in ("ar", "en"):
        catalogue = translations(language)
        for action in actions:
            assert action in audit_labels.ACTION_LABELS, action
            msgid = audit_labels.ACTION_LABELS[action]._args[0]
            assert catalogue.get(msgid) not in (None, "", action, msgid), (language, action)


# One event of each kind, with the before and after values its operation writes.
EVENTS = [
    ("city_created", "city", 3, None, {"name_fr": "Fès", "name_ar": "فاس", "name_en": "Fez", "region_id": 2}),
    ("city_changed", "city", 3, {"name_en": "Fes"}, {"name_en": "Fez"}),
    ("track_created", "track", 4, None, {"code": "GEST-AF", "domain": "management", "min_education": "bac2"}),
    ("track_changed", "track", 4, {"domain": "digital"}, {"domain": "management"}),
    (
        "offering_created",
        "offering",
        7,
        None,
        {
            "track_id": 4,
            "city_id": 3,
            "academic_year": "2026-2027",
            "seats": 25,
            "opens_at": "2026-11-30T23:00:00",
            "closes_at": "2026-12-31T22:59:59.999999",
            "course_starts_on": "2027-01-15T00:00:00",
            "status": "draft",
        },
    ),
    ("offering_changed", "offering", 7, {"status": "draft"}, {"status": "open"}),
    ("offering_opened", "offering", 7, None, {"status": "open", "interested_notified": 2}),
    ("offering_closed", "offering", 7, {"status": "open"}, {"status": "closed"}),
    ("offering_drafted", "offering", 7, {"status": "closed"}, {"status": "draft"}),
    (
        "application_promoted",
        "application",
        "APP-2026-000123",
        {"status": "waitlisted"},
        {"status": "accepted"},
    ),
    ("application_expired", "application", "APP-2026-000123", {"status": "accepted"}, {"status": "expired"}),
    (
        "application_withdrawn",
        "application",
        "APP-2026-000123",
        {"status": "confirmed"},
        {"status": "withdrawn"},
    ),
    (
        "application_moved",
        "application",
        "APP-2026-000123",
        {"status": "submitted"},
        {"status": "under_review"},
    ),
    ("seats_changed", "offering", 7, {"seats": 25}, {"seats": 30}),
    ("reviewers_changed", "offering", 7, {"reviewers": []}, {"reviewers": [5, 6]}),
    ("user_invited", "user", 5, None, {"role": "reviewer"}),
    ("invite_accepted", "user", 5, None, None),
    ("role_changed", "user", 5, {"role": "applicant"}, {"role": "admin"}),
    ("user_deactivated", "user", 5, {"active": True}, {"active": False}),
    ("user_reactivated", "user", 5, {"active": False}, {"active": True}),
    ("two_factor_reset", "user", 5, {"enrolled": True}, {"enrolled": False}),
    ("email_retried", "outbox_email", 9, {"status": "failed"}, {"status": "pending"}),
    (
        "export",
        "applications",
        None,
        None,
        {"format": "csv", "filters": {"status": "waitlisted", "year": "2026-2027"}, "rows": 12},
    ),
    ("reach_export", "reach", None, None, {"format": "xlsx", "year": "2026-2027", "rows": 40}),
    ("decision", "application", "APP-2026-000001", {"status": "under_review"}, {"status": "accepted"}),
    (
        "outcome_recorded",
        "application",
        "APP-2026-000001",
        {"status": "confirmed"},
        {"status": "not_completed", "completion_reason": "never_came"},
    ),
    ("view_personal_data", "application", 1, None, None),
    ("view_personal_data", "document", 2, None, {"application": "APP-2026-000001"}),
    (
        "association_changed",
        "association",
        8,
        {"name_fr": "Amal", "registration_number": "RSK-2015-0421", "field": "social", "founded_year": None},
        {
            "name_fr": "Al Amal",
            "registration_number": "RSK-2015-0422",
            "field": "health",
            "founded_year": 2015,
        },
    ),
    ("association_verified", "association", 8, {"state": "to_verify"}, {"state": "verified"}),
    ("referent_added", "association", 8, None, {"referent": 12}),
    ("referent_removed", "association", 8, {"referent": 12}, None),
    (
        "membership_decided",
        "association_membership",
        4,
        {"state": "pending", "association": 8},
        {"state": "endorsed"},
    ),
    (
        "certificate_revoked",
        "certificate",
        4,
        {"number": "OFPPT-2026-7KQ4-M9XD"},
        {"number": "OFPPT-2026-7KQ4-M9XD", "reason": "Attestation obtenue par erreur"},
    ),
    (
        "associations_merged",
        "association",
        8,
        {"merged": 9, "name_fr": "Amal", "registration_number": "RSK 2015 0421"},
        {"members": [5, 6]},
    ),
]

# Codes that must not reach the reader: actions, fields, object types, coded values.
RAW = sorted(
    {e[0] for e in EVENTS}
    | {k for e in EVENTS for values in (e[3], e[4]) for k in (values or {})}
    | {"status", "year", "application #", "offering #", "user #", "outbox_email", "applications"}
    | {"draft", "closed", "management", "digital", "bac2", "reviewer", "admin", "applicant"}
    | {"under_review", "accepted", "waitlisted", "failed", "pending", "True", "False", "2026-11-30"}
    | {"to_verify", "verified", "social", "health", "association #", "certificate #"}
    | {"confirmed", "not_completed", "never_came", "endorsed", "declined", "association_membership #"},
    key=len,
    reverse=True,
)


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_audit_page_shows_no_raw_code(app, language):
    client, admin = admin_client(app)
    client.post(f"/lang/{language}")
    assert set(audit_labels.ACTION_LABELS) == {e[0] for e in EVENTS}
    for action, object_type, object_id, before, after in EVENTS:
        record(admin, action, object_type, object_id, before=before, after=after)
    db.session.commit()
    page = client.get("/admin/audit").get_data(as_text=True)
    table = page.split('id="audit-table"')[1].split("</table>")[0]
    text = html.unescape(re.sub(r"<[^>]+>", " ", table))
    chunks = {html.unescape(chunk).strip() for chunk in re.split(r"<[^>]+>", table)} - {""}
    for code in RAW:
        # A cell, a field's name or a value that is the code itself...
        assert code not in chunks, (language, code)
        # ...or a code made of several words, anywhere.
        if "_" in code or "#" in code:
            assert code not in text, (language, code)
    assert "#" not in text
    expected = {
        "fr": ("Candidature n° 1", "Session ouverte", "Personnes intéressées prévenues", "Évaluateur"),
        "ar": ("الترشيح رقم 1",),
        "en": ("Application no. 1", "Session opened", "Interested people notified", "Reviewer"),
    }[language]
    for label in expected:
        assert label in text, (language, label)
    # Lists of values with the reader's comma.
    assert ("5، 6" if language == "ar" else "5, 6") in text
    # The filter's choices name the actions too (their values stay the codes).
    assert re.search(r'<option value="view_personal_data">(?!view_personal_data)[^<]+</option>', page)


def test_an_unknown_code_is_shown_as_it_is(app):
    client, admin = admin_client(app)
    record(admin, "future_action", "planet", 3, after={"orbit": "low", "status": "odd"})
    db.session.commit()
    table = client.get("/admin/audit").get_data(as_text=True).split('id="audit-table"')[1]
    assert "future_action" in table and "planet #3" in table and "orbit" in table and "odd" in table


def test_a_date_in_an_event_is_in_the_readers_format(app):
    client, admin = admin_client(app)
    client.post("/lang/en")
    factories.user()
    record(admin, "offering_changed", "offering", 1, after={"course_starts_on": "2027-01-15T00:00:00"})
    db.session.commit()
    table = client.get("/admin/audit").get_data(as_text=True).split('id="audit-table"')[1]
    assert "Jan 15, 2027" in table


# Plurals -----------------------------------------------------------------------------------

# The form each language gives a count: French and English singular and plural, and
# Arabic's six (0, 1, 2, 3-10, 11-99, 100-102).
USERS = {
    ("fr", 1): "1 utilisateur<",
    ("fr", 2): "2 utilisateurs<",
    ("en", 1): "1 user<",
    ("en", 2): "2 users<",
    ("ar", 1): "مستخدم واحد<",
    ("ar", 2): "مستخدمان<",
    ("ar", 3): "3 مستخدمين<",
    ("ar", 11): "11 مستخدمًا<",
}


@pytest.mark.parametrize("language,n", sorted(USERS))
def test_the_users_page_counts_in_the_right_plural_form(app, language, n):
    client, _ = admin_client(app)
    for _i in range(n):
        factories.user()
    db.session.commit()
    client.post(f"/lang/{language}")
    page = client.get("/admin/users?role=applicant").get_data(as_text=True)
    assert USERS[language, n] in page


@pytest.mark.parametrize(
    "language,n,expected",
    [
        ("fr", 1, "1 évènement. Le journal"),
        ("fr", 2, "2 évènements. Le journal"),
        ("en", 1, "1 event. The log"),
        ("en", 2, "2 events. The log"),
        ("ar", 2, "حدثان."),
        ("ar", 3, "3 أحداث."),
    ],
)
def test_the_audit_page_counts_events_in_the_right_plural_form(app, language, n, expected):
    client, admin = admin_client(app)
    for _i in range(n):
        record(admin, "export", "applications", after={"format": "csv", "rows": 0})
    db.session.commit()
    client.post(f"/lang/{language}")
    assert expected in client.get("/admin/audit").get_data(as_text=True)


@pytest.mark.parametrize(
    "language,n,expected",
    [
        ("fr", 1, "1 candidature au total"),
        ("fr", 2, "2 candidatures au total"),
        ("en", 1, "1 application in total"),
        ("en", 2, "2 applications in total"),
        ("ar", 1, "ترشيح واحد في المجموع"),
        ("ar", 3, "3 ترشيحات في المجموع"),
    ],
)
def test_the_dashboard_chart_counts_applications_in_the_right_plural_form(app, language, n, expected):
    client, _ = admin_client(app)
    offering = factories.offering()
    for _i in range(n):
        factories.application(offering_=offering)
    db.session.commit()
    client.post(f"/lang/{language}")
    desc = re.search(r'<desc id="chart-desc">([^<]*)</desc>', client.get("/admin").get_data(as_text=True))
    assert expected in desc.group(1)


def test_no_message_counts_with_a_parenthesised_plural():
    # "(s)" reads "1 candidature(s)" in French and cannot be said in Arabic: ngettext instead.
    with open(ROOT / "translations" / "messages.pot", "rb") as pot:
        messages = [m for m in read_po(pot) if m.id]
    assert len(messages) > 500
    for message in messages:
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            assert not re.search(r"\w\(s\)", text), text
    for language in ("ar", "en"):
        for msgstr in translations(language).values():
            for text in msgstr if isinstance(msgstr, tuple) else (msgstr,):
                assert not re.search(r"\w\(s\)", text), (language, text)


def test_every_plural_has_all_its_forms():
    for language, forms in (("ar", 6), ("en", 2)):
        for msgid, msgstr in translations(language).items():
            if isinstance(msgid, tuple):
                assert len(msgstr) == forms and all(msgstr), (language, msgid)


# Dates ---------------------------------------------------------------------------------------

# The one pattern of each kind, per language: a day, a day and a time (to the minute).
MONTHS = {
    "fr": r"(janv\.|févr\.|mars|avr\.|mai|juin|juil\.|août|sept\.|oct\.|nov\.|déc\.)",
    "en": r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)",
    "ar": r"(يناير|فبراير|مارس|أبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر)",
}
DAY = {
    "fr": rf"\d{{1,2}} {MONTHS['fr']} \d{{4}}",
    "en": rf"{MONTHS['en']} \d{{1,2}}, \d{{4}}",
    "ar": rf"\d{{1,2}} {MONTHS['ar']} \d{{4}}",
}
DAY_TIME = {
    "fr": rf"{DAY['fr']} à \d{{2}}:\d{{2}}",
    "en": rf"{DAY['en']}, \d{{1,2}}:\d{{2}} (AM|PM)",
    "ar": rf"{DAY['ar']}، \d{{2}}:\d{{2}}",
}
# What must never be shown: numeric dates (12/1/26), seconds, ISO days.
WRONG_DATES = r"\d{1,2}\u200f?/\d{1,2}\u200f?/\d{2,4}|\d:\d{2}:\d{2}|\b\d{4}-\d{2}-\d{2}\b"


def visible_text(page):
    """The text of a page or an email without its tags (attributes may hold ISO dates)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def assert_dates(text, language):
    """Every date-like part of ``text`` is in the language's one day or day-and-time pattern."""
    assert not re.search(WRONG_DATES, text), re.search(WRONG_DATES, text).group(0)
    # A day followed by a time is the day-and-time pattern ("23 h 59", alone, is an hour).
    spans = [m.span() for m in re.finditer(DAY_TIME[language], text)]
    for match in re.finditer(r"\d{4}[^\d\n]{1,5}\d{1,2}:\d{2}", text):
        assert any(a <= match.start() and match.end() <= b for a, b in spans), text[
            match.start() - 30 : match.end()
        ]


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_applicants_application_page_has_one_format_per_kind_of_date(app, language):
    from portal.timeutil import utcnow

    applicant = factories.user(locale=language)
    application = factories.application(applicant=applicant, status="accepted", submitted_at=utcnow())
    db.session.commit()
    client = app.test_client()
    factories.login(client, applicant)
    client.post(f"/lang/{language}")
    page = client.get(f"/me/applications/{application.reference}").get_data(as_text=True)
    text = visible_text(page)
    assert len(re.findall(DAY_TIME[language], text)) >= 2  # submitted, seat to confirm before
    assert len(re.findall(DAY[language], text)) >= 4  # and the deadline, the course start
    assert_dates(text, language)
    # The academic year reads left to right after Arabic words.
    assert f'<bdi dir="ltr">{application.academic_year}</bdi>' in page


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
@pytest.mark.parametrize("template", ["status_accepted", "interest_opened", "status_confirmed"])
def test_emails_have_one_format_per_kind_of_date_and_no_seconds(app, language, template):
    from portal.notifications.outbox import render_email

    applicant = factories.user(locale=language)
    application = factories.application(applicant=applicant, status="accepted")
    _, text, page = render_email(
        template, language, user=applicant, application=application, offering=application.offering
    )
    for part in (text, visible_text(page)):
        assert re.search(DAY_TIME[language] if template == "status_accepted" else DAY[language], part)
        assert_dates(part, language)
    if template == "interest_opened":
        # The year is isolated left to right (plain text: Unicode isolates; HTML: bdi).
        year = application.offering.academic_year
        assert f"\u2066{year}\u2069" in text and f'<bdi dir="ltr">{year}</bdi>' in page


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_chart_labels_days_in_the_readers_format(app, language):
    client, _ = admin_client(app)
    offering = factories.offering(city=factories.city("Tanger", name_ar="طنجة", name_en="Tangier"))
    factories.application(offering_=offering)
    factories.application(offering_=offering)
    db.session.commit()
    client.post(f"/lang/{language}")
    page = client.get(f"/admin?offering={offering.id}").get_data(as_text=True)
    chart = page.split('class="bar-chart')[1].split("</figure>")[0]
    labels = re.findall(r"<text [^>]*>([^<]+)</text>", chart)
    ticks = [label for label in labels if not label.isdigit()]
    assert ticks and all(re.fullmatch(DAY[language], label) for label in ticks), ticks
    titles = re.findall(r"<rect [^>]*><title>([^<]+)</title>", chart)
    assert titles and all(re.match(DAY[language], title) for title in titles), titles
    assert not re.search(WRONG_DATES, visible_text(chart))
    heading = re.search(r'<h2 class="h5" id="per-day-title">(.*?)</h2>', page).group(1)
    desc = re.search(r'<desc id="chart-desc">([^<]*)</desc>', page).group(1)
    if language == "ar":
        # Read aloud as Arabic: the Arabic comma, never the Latin one.
        assert "،" in heading and ", " not in heading
        assert "،" in desc and ", " not in desc
        assert all(", " not in title for title in titles)


def test_two_helpers_and_two_date_filters_only(app):
    from portal import templating

    date_filters = {
        name for name in app.jinja_env.filters if "date" in name or "day" in name or "time" in name
    }
    assert date_filters == {"day", "day_time"}
    assert app.jinja_env.filters["day"] is templating.format_day
    assert app.jinja_env.filters["day_time"] is templating.format_day_time


@pytest.mark.parametrize(("language", "system"), [("fr", "Système"), ("ar", "النظام"), ("en", "System")])
def test_the_audit_page_names_the_system_as_the_author_of_its_transitions(app, language, system):
    from tests.helpers import admin_client

    client, _ = admin_client(app)
    client.post(f"/lang/{language}")
    record(None, "application_expired", "application", "APP-2026-000123", after={"status": "expired"})
    db.session.commit()
    page = client.get("/admin/audit").get_data(as_text=True)
    table = page.split('id="audit-table"')[1].split("</table>")[0]
    cells = {html.unescape(chunk).strip() for chunk in re.split(r"<[^>]+>", table)}
    assert system in cells
