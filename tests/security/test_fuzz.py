"""Issue 6 point 12 (ASVS 5.1.3–5.1.4): arbitrary input never gives a 500 nor stores a bad value.

Hypothesis fills every form (and the search parameters and path segments) with valid
values or arbitrary text — control characters, NUL bytes, bidi marks, very long strings,
emoji, lookalike digits — and checks two things after every request: the answer is not
a server error, and every row of the database still satisfies the portal's rules (a
CIN matches its pattern, a phone is E.164, no text holds NUL or control characters...).

Each form gets a few dozen examples (derandomized, so CI runs are reproducible); the
whole module takes well under a minute per database.
"""

import io
import os
import re
import unicodedata
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.applications.models import Application, Document, Interest, StatusChange
from portal.audit import AuditEvent
from portal.auth import tokens
from portal.auth.models import ApplicantProfile, User
from portal.auth.validators import CIN_RE, E164_RE, has_control_characters, is_latin_name, normalize_email
from portal.catalog.models import City, Offering, Track
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.review.models import Review
from portal.vocabulary import Role
from tests import factories
from tests.security import formdata
from tests.security import world as w

SPECIAL = [
    "\x00",
    "AB\x00123456",
    "a\x00b",
    "\u202etxt.exe",
    "\u200f\u200e",
    "\ufeff",
    "\r\nBcc: victim@evil.test",
    "line\nbreak",
    "\t",
    "\x1b[31m",
    '\'; DROP TABLE "user"; --',
    "%00",
    "%",
    "_",
    "\\",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "99999999999999999999",
    "-1",
    "0",
    "1e9",
    "١٢٣٤٥٦",
    "１２３",
    "𝔸𝔹123456",
    "🙂" * 3,
    "\U0010ffff",
    " ",
    "",
]
TEXT = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=20),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["A", "é", "\u202e", "9", "\x00", "ب"]), st.integers(100, 5000)
    ),
)
# PORTAL_FUZZ_EXAMPLES=500 PORTAL_FUZZ_RANDOM=1 explores further (new examples each run).
FUZZ = settings(
    max_examples=int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "35")),
    deadline=None,
    derandomize=not os.environ.get("PORTAL_FUZZ_RANDOM"),
    database=None,
    # The database carries state from one example to the next, so shrinking could not
    # replay a failure faithfully: the first failing example is reported as it was.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
# Forms whose requests hash a password (argon2, slow on purpose) get fewer examples.
FUZZ_SLOW = settings(FUZZ, max_examples=max(20, FUZZ.max_examples * 4 // 7))


@st.composite
def form(draw, valid, fuzz=None, extra=None):
    """Form data: valid values, with one to three fields replaced by arbitrary text.

    Fuzzing a few fields at a time lets the others pass, so each example reaches the
    validators (and the operation) behind the fields it changes.
    """
    names = sorted(set(valid) if fuzz is None else set(fuzz) & set(valid))
    chosen = draw(st.sets(st.sampled_from(names), min_size=1, max_size=min(3, len(names))))
    values = dict(valid)
    for name in chosen:
        choices = [TEXT]
        if extra and name in extra:
            choices.append(extra[name])
        values[name] = draw(st.one_of(*choices))
    return values


def no_control(value, multiline=False):
    """Whether a stored text is free of control characters.

    One-line texts hold no control or format character at all (bidi overrides included);
    multi-line free texts may hold line breaks, tabs and the format characters that
    mixed Arabic and French writing needs (RLM, LRM, ZWJ...), but no other control.
    """
    if value is None:
        return True
    if multiline:
        return not any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in value)
    return not has_control_characters(value)


def assert_database_valid():
    """Every stored value satisfies the portal's input rules."""
    db.session.rollback()
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            for value in row:
                assert not (isinstance(value, str) and "\x00" in value), (table.name, row)
    for user in db.session.scalars(select(User)):
        assert user.role in Role.values()
        assert user.email == f"deleted-{user.id}@invalid" or normalize_email(user.email) == user.email, (
            user.email
        )
        assert user.locale in ("fr", "ar", "en")
    for p in db.session.scalars(select(ApplicantProfile)):
        assert p.cin is None or CIN_RE.fullmatch(p.cin), p.cin
        assert p.phone is None or E164_RE.fullmatch(p.phone), p.phone
        assert is_latin_name(p.first_name) or p.first_name == "—", p.first_name
        assert is_latin_name(p.last_name) or p.last_name == "—", p.last_name
        for value in (
            p.first_name_ar,
            p.last_name_ar,
            p.association_name,
            p.association_registration,
            p.association_role,
        ):
            assert no_control(value), value
        assert 0 <= p.association_years <= 80
    for a in db.session.scalars(select(Application)):
        assert a.motivation == "—" or 100 <= len(a.motivation) <= 3000
        assert no_control(a.motivation, multiline=True) and no_control(a.expected_benefit, multiline=True)
    for d in db.session.scalars(select(Document)):
        assert re.fullmatch(r"[0-9a-f]{32}\.(pdf|jpg|png)", d.stored_name)
        assert no_control(d.original_name) and "/" not in d.original_name and "\\" not in d.original_name
    for r in db.session.scalars(select(Review)):
        assert all(0 <= s <= 5 for s in (r.score_motivation, r.score_engagement, r.score_fit))
        assert r.comment is None or (len(r.comment) <= 4000 and no_control(r.comment, multiline=True))
    for c in db.session.scalars(select(StatusChange)):
        assert c.note is None or (len(c.note) <= 2000 and no_control(c.note, multiline=True))
    for city in db.session.scalars(select(City)):
        assert all(no_control(n) and n.strip() for n in (city.name_fr, city.name_ar, city.name_en))
    for t in db.session.scalars(select(Track)):
        assert re.fullmatch(r"[A-Z0-9][A-Z0-9-]{1,31}", t.code), t.code
        assert all(no_control(x) for x in (t.title_fr, t.title_ar, t.title_en))
    for o in db.session.scalars(select(Offering)):
        assert 0 <= o.seats_held <= o.seats and o.closes_at > o.opens_at
        assert re.fullmatch(r"\d{4}-\d{4}", o.academic_year)
    for e in db.session.scalars(select(OutboxEmail)):
        assert "\n" not in e.subject and "\r" not in e.subject and "\n" not in e.to_address
    for event in db.session.scalars(select(AuditEvent)):
        assert no_control(event.action)


def check(response):
    """No server error, and the database still valid."""
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    assert_database_valid()


def person(**profile):
    """An applicant whose factory profile satisfies the form rules (Latin name)."""
    return factories.user(profile={"last_name": "Alaoui", **profile})


@pytest.fixture
def portal(app):
    """Objects the forms refer to, and logged-in clients."""
    region = factories.region()
    city = factories.city("Rabat", region=region)
    offering = factories.offering(city=city, seats=5)
    applicant = factories.user(profile={"city": city, "last_name": "Bennani", "cin": "RB100001"})
    reviewer = factories.reviewer(offering)
    admin = factories.user(role="admin")
    application = factories.application(person(), offering)
    clients = {"anonymous": w.new_client(app)}
    for name, user in (("applicant", applicant), ("reviewer", reviewer), ("admin", admin)):
        clients[name] = w.new_client(app)
        factories.login(clients[name], user)
    return {
        "region": region,
        "city": city,
        "offering": offering,
        "applicant": applicant,
        "reviewer": reviewer,
        "admin": admin,
        "application": application,
        "clients": clients,
    }


CIN_LIKE = st.from_regex(r"[A-Za-z]{1,3} ?[0-9]{1,7}", fullmatch=True)
PHONE_LIKE = st.from_regex(r"(\+212|00212|0)[ .-]?[4-8]([ .-]?[0-9]){7,9}", fullmatch=True)
DATE_LIKE = st.dates().map(lambda d: d.isoformat())


# Account forms --------------------------------------------------------------------------


@FUZZ_SLOW
@given(data=st.data())
def test_fuzz_registration(portal, data):
    valid = formdata.registration(portal["city"], email="fuzz@example.org")
    extra = {"email": st.emails(), "cin": CIN_LIKE, "phone": PHONE_LIKE, "birth_date": DATE_LIKE}
    values = data.draw(form(valid, extra=extra))
    check(w.new_client(portal["clients"]["anonymous"].application).post("/auth/register", data=values))


@FUZZ_SLOW
@given(data=st.data())
def test_fuzz_login_and_forgotten_password(portal, data):
    values = data.draw(
        form({"email": portal["applicant"].email, "password": "wrong password 123", "next": "/me"})
    )
    client = w.new_client(portal["clients"]["anonymous"].application)
    check(client.post("/auth/login", data=values))
    check(client.post("/auth/forgot", data={"email": values["email"]}))
    check(client.post("/auth/confirm/resend", data={"email": values["email"]}))


@FUZZ_SLOW
@given(data=st.data())
def test_fuzz_password_reset(portal, data):
    token = tokens.make_reset_token(portal["applicant"])
    values = data.draw(form({"password": formdata.PASSWORD, "password_confirm": formdata.PASSWORD}))
    check(portal["clients"]["anonymous"].post(f"/auth/reset/{token}", data=values))


@FUZZ_SLOW
@given(data=st.data())
def test_fuzz_profile(portal, data):
    applicant = portal["applicant"]
    valid = formdata.profile(applicant, current_password=factories.PASSWORD)
    extra = {"cin": CIN_LIKE, "phone": PHONE_LIKE, "birth_date": DATE_LIKE, "email": st.emails()}
    values = data.draw(
        form(valid, fuzz=set(valid) - {"current_password", "new_password_confirm"}, extra=extra)
    )
    values["new_password_confirm"] = values["new_password"]
    check(portal["clients"]["applicant"].post("/me/profile", data=values))


# Applying and reviewing ------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_fuzz_application_form(portal, data):
    values = data.draw(form({"motivation": formdata.MOTIVATION, "expected_benefit": formdata.BENEFIT}))
    name = data.draw(st.one_of(st.just("attestation.pdf"), TEXT))
    content = data.draw(st.sampled_from([formdata.PDF, b"", b"<svg/>", b"\x00" * 10]))
    values["membership"] = (io.BytesIO(content), name)
    check(
        portal["clients"]["applicant"].post(
            f"/apply/{portal['offering'].id}", data=values, content_type="multipart/form-data"
        )
    )
    # Start afresh, so that the next example reaches the form again.
    for application in db.session.scalars(
        select(Application).where(Application.applicant_id == portal["applicant"].id)
    ):
        db.session.delete(application)
    db.session.commit()


@FUZZ
@given(data=st.data())
def test_fuzz_review_and_decision(portal, data):
    application = factories.application(person(), portal["offering"])
    ref = application.reference
    review = data.draw(form(formdata.review(), extra={"score_fit": st.integers(-10, 10).map(str)}))
    check(portal["clients"]["reviewer"].post(f"/review/applications/{ref}", data=review))
    decision = data.draw(
        form(
            formdata.decision(application),
            extra={"decision": st.sampled_from(["accepted", "waitlisted", "rejected"]), "version": TEXT},
        )
    )
    check(portal["clients"]["reviewer"].post(f"/review/applications/{ref}/decide", data=decision))
    bulk = data.draw(form({"decision": "rejected", "message": "", "back_q": "x", "back_page": "2"}))
    bulk["references"] = [ref, data.draw(TEXT)]
    check(portal["clients"]["reviewer"].post("/review/decide", data=bulk))
    check(
        portal["clients"]["reviewer"].post("/review/cin", data={"cin": data.draw(st.one_of(TEXT, CIN_LIKE))})
    )


@FUZZ
@given(data=st.data())
def test_fuzz_interest_and_account_deletion(portal, data):
    values = data.draw(
        form(
            {"track_id": str(portal["offering"].track_id), "city_id": str(portal["city"].id), "next": "/me"},
            extra={"track_id": st.integers().map(str), "city_id": st.integers().map(str)},
        )
    )
    check(portal["clients"]["applicant"].post("/me/interests", data=values))
    db.session.execute(Interest.__table__.delete())
    db.session.commit()
    # Never the right password: the account must survive the test.
    deletion = {"current_password": data.draw(TEXT), "understood": data.draw(st.one_of(st.just("y"), TEXT))}
    check(portal["clients"]["applicant"].post("/me/delete", data=deletion))


# Administration forms --------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_fuzz_admin_offering_forms(portal, data):
    offering = portal["offering"]
    extra = {
        "seats": st.integers(-5, 20000).map(str),
        "opens_on": DATE_LIKE,
        "closes_on": DATE_LIKE,
        "course_starts_on": DATE_LIKE,
        "status": st.sampled_from(["draft", "open", "closed"]),
        "action": st.sampled_from(["draft", "open", "closed"]),
    }
    edit = data.draw(form(formdata.offering_edit(offering), extra=extra))
    edit["reviewers"] = [data.draw(st.one_of(st.just(str(portal["reviewer"].id)), TEXT))]
    check(portal["clients"]["admin"].post(f"/admin/offerings/{offering.id}", data=edit))
    new = data.draw(
        form(
            formdata.new_offering(offering.track, factories.city(region=portal["region"])),
            extra={**extra, "academic_year": st.from_regex(r"[0-9]{4}-[0-9]{4}", fullmatch=True)},
        )
    )
    check(portal["clients"]["admin"].post("/admin/offerings/new", data=new))


@FUZZ
@given(data=st.data())
def test_fuzz_admin_city_and_track_forms(portal, data):
    city = data.draw(form(formdata.city_form(portal["region"])))
    check(portal["clients"]["admin"].post("/admin/cities/new", data=city))
    check(portal["clients"]["admin"].post(f"/admin/cities/{portal['city'].id}/edit", data=city))
    track = data.draw(form(formdata.track_form(code=f"FZ-{data.draw(st.integers(0, 10**6))}")))
    check(portal["clients"]["admin"].post("/admin/tracks/new", data=track))
    check(portal["clients"]["admin"].post(f"/admin/tracks/{portal['offering'].track_id}/edit", data=track))


@FUZZ
@given(data=st.data())
def test_fuzz_admin_staff_forms(portal, data):
    invite = data.draw(
        form({"email": "new.reviewer@example.org", "role": "reviewer"}, extra={"email": st.emails()})
    )
    check(portal["clients"]["admin"].post("/admin/users/invite", data=invite))
    target = portal["reviewer"].id
    check(
        portal["clients"]["admin"].post(
            f"/admin/users/{target}/role", data={"role": data.draw(st.one_of(st.just("reviewer"), TEXT))}
        )
    )
    password = data.draw(form({"password": formdata.PASSWORD, "confirm": formdata.PASSWORD}))
    check(portal["clients"]["anonymous"].post("/admin/invite/not-a-token", data=password))


# Search parameters and path segments -----------------------------------------------------

SEARCHES = {
    "anonymous": [
        ("/tracks", ("city", "domain")),
        ("/auth/check-email", ("reason",)),
        ("/auth/login", ("next",)),
    ],
    "reviewer": [("/review", ("q", "offering", "status", "sort", "page"))],
    "admin": [
        ("/admin", ("offering", "city", "track", "status", "year")),
        ("/admin/export.csv", ("offering", "city", "track", "status", "year")),
        ("/admin/users", ("q", "role", "page")),
        ("/admin/audit", ("action", "actor", "object_type", "date_from", "date_to", "page")),
        ("/admin/offerings", ("city", "track", "year", "status", "page")),
        ("/admin/offerings/new", ("track", "city")),
        ("/admin/outbox", ("status", "page")),
    ],
}
NUMBERISH = st.one_of(TEXT, st.integers().map(str), st.sampled_from(["9" * 30, "-9" * 10, "2147483648"]))


@FUZZ
@given(data=st.data())
def test_fuzz_search_parameters(portal, data):
    for role, searches in SEARCHES.items():
        for path, names in searches:
            args = {name: data.draw(NUMBERISH) for name in names}
            check(portal["clients"][role].get(path, query_string=args))
    # The language menu posts the page to come back to.
    check(portal["clients"]["anonymous"].post("/lang/ar", data={"next": data.draw(NUMBERISH)}))


PATHS = {
    "anonymous": ["/tracks/{}", "/auth/confirm/{}", "/auth/reset/{}", "/admin/invite/{}", "/lang/{}"],
    "applicant": [
        "/me/applications/{}",
        "/me/applications/{}/documents/1",
        "/apply/{}",
        "/me/interests/{}/delete",
    ],
    "reviewer": ["/review/applications/{}", "/review/applications/{}/decide"],
    "admin": [
        "/admin/offerings/{}",
        "/admin/cities/{}/edit",
        "/admin/users/{}/role",
        "/admin/outbox/{}/retry",
    ],
}


@FUZZ
@given(data=st.data())
def test_fuzz_path_segments(portal, data):
    segment = data.draw(
        st.one_of(NUMBERISH, st.integers().map(str)).filter(lambda s: s not in ("", ".", ".."))
    )
    for role, templates in PATHS.items():
        for template in templates:
            path = template.format(quote(segment, safe=""))
            client = portal["clients"][role]
            check(client.get(path))
            if not template.startswith(("/tracks", "/me/applications/{}/documents")):
                check(client.post(path))


# The central checks the fuzzing relies on (portal/safety.py) -----------------------------


def test_nul_in_a_field_gets_a_message_next_to_it(portal):
    data = formdata.application(motivation=formdata.MOTIVATION + "\x00")
    response = portal["clients"]["applicant"].post(
        f"/apply/{portal['offering'].id}", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert re.search(
        r'id="motivation-error"[^>]*>\s*Ce champ contient des caractères non autorisés', response.text
    )
    assert (
        db.session.scalar(select(Application).where(Application.applicant_id == portal["applicant"].id))
        is None
    )


def test_nul_in_a_path_a_query_or_a_field_name_gets_the_400_page(portal):
    clients = portal["clients"]
    for response in (
        clients["anonymous"].get("/tracks/NUM%00"),
        clients["reviewer"].get("/review", query_string={"q": "a\x00b"}),
        clients["anonymous"].post("/auth/login", data={"email\x00": "x", "password": "y"}),
    ):
        assert response.status_code == 400
        assert "Requête invalide" in response.text


def test_nul_that_no_field_checks_is_stopped_before_the_database(portal):
    """The net under every field: a bulk decision's references are not a form field."""
    application = portal["application"]
    response = portal["clients"]["reviewer"].post(
        "/review/decide", data={"decision": "rejected", "references": [application.reference, "APP\x00"]}
    )
    assert response.status_code == 400 and "Requête invalide" in response.text
    db.session.expire_all()
    assert application.status == "submitted"


def test_ids_beyond_any_column_are_404_not_500(portal):
    huge = "9" * 30
    clients = portal["clients"]
    assert clients["admin"].get(f"/admin/cities/{huge}/edit").status_code == 404
    assert clients["applicant"].get(f"/apply/{2**31}").status_code == 404
    assert clients["anonymous"].get("/tracks", query_string={"city": huge}).status_code == 200
    assert clients["admin"].get("/admin/outbox", query_string={"page": huge}).status_code == 200
    response = clients["admin"].post(
        f"/admin/offerings/{portal['offering'].id}",
        data=formdata.offering_edit(portal["offering"], seats=huge),
    )
    assert response.status_code == 200 and "Entre 1 et 10000 places." in response.get_data(as_text=True)
