"""Every page is valid HTML (Nu HTML Checker, 0 errors and 0 warnings) in French, Arabic and
English, and every form leaves checking to the server, which answers in the page's language.

The pages are those of the access matrix — every route, for each kind of visitor, with GET
and with the empty POSTs that show a form again with its errors — over a small populated
portal that also has an audit trail and an applicant's wish for a track in a new city.
"""

import re

import pytest

from portal.audit import record
from portal.auth.invitations import make_invite_token
from portal.auth.tokens import make_confirm_token, make_reset_token
from tests import factories
from tests.helpers import TOTP_NOW, code_at, secret_on, staff
from tests.html_checker import structure_problems
from tests.security import world as w
from tests.security.access_matrix import LAST, MATRIX, build_path, url_parameters

LANGUAGES = ("fr", "ar", "en")
ARABIC = re.compile(r"[\u0600-\u06ff]")

# Pages an outside audit found invalid, with a piece of the state it found them in: the crawl
# must keep showing them in that state.
AUDITED = {
    # A required list whose first choice is a real value (language, status, role).
    ("GET", "/auth/register", "anonymous"): 'id="locale"',
    ("GET", "/me/profile", "owner"): 'id="locale"',
    ("GET", "/admin/users", "admin"): 'id="role"',
    ("GET", "/admin/offerings/new", "admin"): 'id="track_id"',
    # The close button's form was inside a paragraph.
    ("GET", "/admin/offerings/<int:offering_id>", "admin"): "/close",
    # The chart's svg had a dir attribute.
    ("GET", "/admin", "admin"): "<svg",
    # A line break between the groups of a definition list.
    ("GET", "/admin/audit", "admin"): "audit-values",
    # The "remove" form of a wish was inside a span.
    ("GET", "/me", "owner"): "/delete",
}


def crawl(app, language):
    """{(method, rule, role): (status, html)}: every HTML page of the access matrix in ``language``."""
    world = w.build_world()
    record(
        world.admin,
        "offering.update",
        "offering",
        world.offering.id,
        before={"seats": 25, "reviewers": []},
        after={"seats": 30, "reviewers": [world.reviewer.id]},
    )
    for role in w.ROLES:
        if world.user(role) is not None:
            world.user(role).locale = language
    clients = w.clients_for(app, world)
    clients["anonymous"].post(f"/lang/{language}")
    parameters = url_parameters(world)
    pages = {}
    # In the access matrix's order: actions that change things use spare objects.
    for method, rule in sorted(MATRIX, key=lambda route: (route[1], route[0])):
        if (method, rule) in LAST or rule.startswith("/lang/"):
            continue
        path = build_path(rule, parameters)
        for role in w.ROLES:
            response = clients[role].open(path, method=method)
            if response.mimetype == "text/html" and not response.location:
                pages[(method, rule, role)] = response.status_code, response.get_data(as_text=True)
    # The pages behind an emailed link, which the matrix only opens with a bad token.
    newcomer = factories.user(email_confirmed_at=None, locale=language)
    invited = factories.user(role="reviewer", locale=language)
    invited.password_hash = None
    links = {
        "/auth/confirm/<token>": make_confirm_token(newcomer),
        "/auth/reset/<token>": make_reset_token(world.other_applicant),
        "/admin/invite/<token>": make_invite_token(invited),
    }
    visitor = w.new_client(app)
    visitor.post(f"/lang/{language}")
    for rule, token in links.items():
        for method in ("GET", "POST"):
            response = visitor.open(rule.replace("<token>", token), method=method)
            assert response.status_code == 200 or method == "POST", rule
            if not response.location:
                pages[(method, rule, "holder of the link")] = (
                    response.status_code,
                    response.get_data(as_text=True),
                )
    return pages


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_the_nu_html_checker(app, html_checker, language):
    pages = crawl(app, language)
    for key, piece in AUDITED.items():
        assert key in pages and piece in pages[key][1], key
    failures = []
    for (method, rule, role), (status, html) in sorted(pages.items()):
        try:
            html_checker.assert_valid(html, f"{method} {rule} as {role} (HTTP {status})")
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n".join(failures)


def test_forms_scrolling_tables_and_error_summaries_on_every_page(app):
    pages = crawl(app, "fr")
    failed_forms = [key for key, (_status, html) in pages.items() if 'id="form-errors"' in html]
    assert len(failed_forms) >= 10  # the empty POSTs did show forms with their errors
    found = [
        f"{method} {rule} as {role}: {problem}"
        for (method, rule, role), (_status, html) in sorted(pages.items())
        for problem in structure_problems(html)
    ]
    assert not found, "\n".join(found)


def _tag(html, element_id):
    """The opening tag of the element ``element_id``."""
    return re.search(rf'<[a-z]+[^>]*\sid="{element_id}"[^>]*>', html).group(0)


def test_required_lists_stay_required_for_assistive_technology(client):
    html = client.get("/auth/register").get_data(as_text=True)
    # With an empty "choose" option, HTML's required applies.
    city = _tag(html, "city_id")
    assert " required" in city and "aria-required" not in city
    assert re.search(r'id="city_id"[^>]*>\s*<option[^>]*value=""', html)
    # Without one the list always has a value: required is not allowed, aria-required says it.
    locale = _tag(html, "locale")
    assert " required" not in locale and 'aria-required="true"' in locale


@pytest.mark.parametrize("language", ["ar", "en"])
def test_an_empty_form_gets_the_portals_messages_in_the_pages_language(client, language):
    client.post(f"/lang/{language}")
    html = client.post("/auth/register", data={}).get_data(as_text=True)
    assert "novalidate" in re.search(r"<form[^>]*>", html[html.index("<main") :]).group(0)
    summary = html[html.index('id="form-errors"') : html.index("</div>", html.index('id="form-errors"'))]
    for name in ("first_name", "last_name", "cin", "birth_date", "city_id", "email", "password", "consent"):
        label = re.search(rf'<label[^>]*for="{name}"[^>]*>(.*?)</label>', html).group(1).strip()
        message = re.search(rf'<div id="{name}-error"[^>]*>(.*?)</div>', html).group(1).strip()
        assert bool(ARABIC.search(message)) == (language == "ar"), (name, message)
        # The summary links to the field, with its label and its message.
        link = re.search(rf'<a href="#{name}">(.*?)</a>', summary)
        assert link and label in link.group(1) and message in link.group(1), name


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_second_factor_pages_pass_the_nu_html_checker(app, clock, html_checker, language):
    app.config["STAFF_TWO_FACTOR_REQUIRED"] = True
    clock.set(TOTP_NOW)
    reviewer = staff()
    reviewer.locale = language
    first, second = app.test_client(), app.test_client()
    # Enrolment: the page with the QR code, then the recovery codes; the next login asks for a code.
    assert factories.login(first, reviewer).status_code == 302
    pages = {"enrolment": first.get("/auth/two-factor/setup")}
    secret = secret_on(pages["enrolment"].get_data(as_text=True))
    pages["recovery codes"] = first.post("/auth/two-factor/setup", data={"code": code_at(secret, TOTP_NOW)})
    assert factories.login(second, reviewer).status_code == 302
    pages["code step"] = second.get("/auth/two-factor")
    pages["code step, empty"] = second.post("/auth/two-factor", data={})
    for name, response in pages.items():
        assert response.mimetype == "text/html" and not response.location, name
        html_checker.assert_valid(response.get_data(as_text=True), f"{name} (HTTP {response.status_code})")
