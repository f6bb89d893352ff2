"""Static files as Lighthouse wants them, meta descriptions, and what search engines may index.

Fingerprinted names, gzip and brotli copies are made by ``flask digest compile`` (``make
test`` runs it); the fixture below makes them when missing, as ``make`` would.
"""

import gzip
import hashlib
import re
from pathlib import Path

import brotli
import pytest
from flask import Flask, url_for
from flask_static_digest.digester import compile as digest_compile

from portal import assets, create_app
from portal.catalog.models import Offering
from portal.catalog.operations import seed_catalogue
from portal.extensions import db
from portal.vocabulary import ApplicationStatus
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
ONE_YEAR = 365 * 24 * 60 * 60
STATIC_URL = re.compile(r'(?:href|src)="(/static/[^"]+)"')
PUBLIC_PAGES = ("/", "/tracks", "/tracks/NUM-TRANS", "/privacy", "/auth/register", "/auth/login")


@pytest.fixture
def served(app):
    """A client of a fresh application that read the manifest of freshly digested files."""
    manifest = STATIC / "cache_manifest.json"
    if not manifest.exists() or assets.current_entries(STATIC, _json(manifest))[1]:
        digest_compile(str(STATIC), str(STATIC), [], True, True)
    fresh = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "STAFF_TWO_FACTOR_REQUIRED": False,
        }
    )
    seed_catalogue()
    db.session.commit()
    return fresh.test_client()


def _json(path):
    import json

    return json.loads(path.read_text())


def _static_urls(client, path="/"):
    return STATIC_URL.findall(client.get(path).get_data(as_text=True))


def test_pages_link_fingerprinted_static_files_cached_for_a_year(served):
    page = served.get("/")
    urls = STATIC_URL.findall(page.get_data(as_text=True))
    assert len(urls) == 5  # Bootstrap, portal.css, the icon, the collapse plugin, portal.js
    for url in urls:
        match = re.fullmatch(r"/static/(.+)-([0-9a-f]{32})(\.\w+)", url)
        assert match, url
        source = STATIC / (match[1] + match[3])
        assert hashlib.md5(source.read_bytes(), usedforsecurity=False).hexdigest() == match[2]
        response = served.get(url)
        assert response.status_code == 200
        assert response.get_data() == source.read_bytes()
        assert response.headers["Cache-Control"] == f"max-age={ONE_YEAR}, public, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()
    # Pages themselves are never cached for long.
    assert "max-age" not in page.headers.get("Cache-Control", "")
    # A file asked for under its plain name may change: an hour.
    plain = served.get("/static/css/portal.css")
    assert plain.headers["Cache-Control"] == "max-age=3600, public"
    plain.close()


@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [("gzip, deflate, br", "br", brotli.decompress), ("gzip", "gzip", gzip.decompress), ("", None, bytes)],
)
def test_static_files_are_compressed_when_the_client_accepts_it(served, accept, encoding, decode):
    urls = _static_urls(served)
    for url in urls:
        if url.endswith(".svg"):
            continue
        response = served.get(url, headers={"Accept-Encoding": accept})
        body = response.get_data()
        response.close()
        assert response.headers.get("Content-Encoding") == encoding, url
        assert response.headers["Vary"] == "Accept-Encoding"
        assert int(response.headers["Content-Length"]) == len(body)
        original = (STATIC / re.sub(r"-[0-9a-f]{32}", "", url.removeprefix("/static/"))).read_bytes()
        assert decode(body) == original
        if encoding:
            assert len(body) < len(original) / 2, url


def test_a_file_changed_since_the_digest_keeps_its_plain_name_and_is_sent_as_it_is_now(tmp_path, caplog):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("a { color: red; }" * 100)
    (tmp_path / "site.js").write_text("let a = 1;" * 100)
    digest_compile(str(tmp_path), str(tmp_path), [], True, True)
    manifest = _json(tmp_path / "cache_manifest.json")
    assert assets.current_entries(tmp_path, manifest) == (manifest, [])
    (tmp_path / "css" / "site.css").write_text("a { color: blue; }" * 100)
    assert assets.current_entries(tmp_path, manifest) == ({"site.js": manifest["site.js"]}, ["css/site.css"])
    assert "css/site.css" in caplog.text

    site = Flask(__name__, static_folder=str(tmp_path), static_url_path="/static")
    site.config["STATIC_MAX_AGE"] = 3600
    assets.init_app(site)
    with site.test_request_context():
        assert url_for("static", filename="css/site.css") == "/static/css/site.css"
        assert url_for("static", filename="site.js") == f"/static/{manifest['site.js']}"
    client = site.test_client()
    response = client.get("/static/css/site.css", headers={"Accept-Encoding": "br, gzip"})
    assert response.get_data() == (tmp_path / "css" / "site.css").read_bytes()  # not the old .br
    assert "immutable" not in response.headers.get("Cache-Control", "")
    response.close()
    response = client.get(f"/static/{manifest['site.js']}", headers={"Accept-Encoding": "br"})
    assert response.headers["Content-Encoding"] == "br"
    response.close()


def test_scripts_are_deferred_and_only_the_collapse_plugin_ships(served):
    page = served.get("/").get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", page)
    assert len(scripts) == 2
    assert all(" defer " in tag and "src=" in tag for tag in scripts)
    assert "bootstrap.collapse.min-" in page
    assert not (STATIC / "vendor" / "bootstrap" / "bootstrap.bundle.min.js").exists()


def _description(page):
    match = re.search(r'<meta name="description" content="([^"]*)">', page)
    assert match, "no meta description"
    return match[1]


def test_every_page_has_a_description_and_public_pages_their_own(app, client):
    seed_catalogue()
    db.session.commit()
    descriptions = {}
    for language in ("fr", "ar", "en"):
        client.post(f"/lang/{language}")
        for path in (*PUBLIC_PAGES, "/auth/forgot", "/no-such-page"):
            response = client.get(path)
            descriptions[language, path] = _description(response.get_data(as_text=True))
            assert len(descriptions[language, path]) >= 50, (language, path)
        default = descriptions[language, "/auth/forgot"]
        assert descriptions[language, "/no-such-page"] == default
        assert (
            len({descriptions[language, path] for path in PUBLIC_PAGES} | {default}) == len(PUBLIC_PAGES) + 1
        )
    for path in PUBLIC_PAGES:
        assert re.search(r"[\u0600-\u06ff]", descriptions["ar", path]), path
        assert descriptions["fr", path] != descriptions["en", path], path
    assert descriptions["fr", "/tracks/NUM-TRANS"].startswith("Outils collaboratifs")


def test_private_pages_have_a_description_and_are_never_indexable_by_a_visitor(app, client):
    seed_catalogue()
    db.session.commit()
    offering = db.session.query(Offering).first()
    for path in PUBLIC_PAGES:
        assert "X-Robots-Tag" not in client.get(path).headers, path
    assert client.get("/no-such-page").headers["X-Robots-Tag"] == "noindex, nofollow"
    assert client.get("/auth/reset/some-token").headers["X-Robots-Tag"] == "noindex, nofollow"
    # What a crawler gets of a private page: a redirect to the login, not to be indexed.
    for path in ("/me", "/review", "/admin", f"/apply/{offering.id}"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["X-Robots-Tag"] == "noindex, nofollow", path
    applicant = factories.user(email="amina@example.org")
    reviewer = factories.reviewer(offering, email="reviewer@example.org")
    admin = factories.user(role="admin", email="admin@example.org")
    db.session.commit()
    pages = {
        applicant: ("/me", "/me/profile", f"/apply/{offering.id}"),
        reviewer: ("/review",),
        admin: ("/admin",),
    }
    for person, paths in pages.items():
        assert factories.login(client, person).status_code == 302
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            assert _description(response.get_data(as_text=True)), path
            # Only a logged-in person sees it, never a crawler; private all the same.
            assert response.headers["Cache-Control"] == "no-store", path
            assert "X-Robots-Tag" not in response.headers, path
        client.post("/auth/logout")


# Classes composed in code from a value: flash messages (templates/base.html maps the
# categories "error" and "message"), status badges (portal/templating.py).
FLASH_CATEGORY = re.compile(r"""flash\((?:[^()]|\([^()]*\))*?,\s*["'](\w+)["']\s*\)""", re.S)
CLASS_ATTRIBUTE = re.compile(r"""(?:\bclass_?\s*=\s*|['"]class['"]\s*:\s*)(["'])(.*?)\1""", re.S)
JINJA_STRING = re.compile(r"""'([^'{}]*)'|"([^"{}]*)\"""")


def template_classes():
    """Every class the templates and the code can put in a page."""
    classes = set()
    for template in (ROOT / "templates").rglob("*.html"):
        if "email" in template.parts:
            continue  # emails carry their own inline styles
        text = template.read_text()
        for _quote, value in CLASS_ATTRIBUTE.findall(text):
            literal = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", value)
            classes.update(literal.split())
            for expression in re.findall(r"\{\{(.*?)\}\}|\{%(.*?)%\}", value):
                for strings in JINJA_STRING.findall(" ".join(expression)):
                    classes.update(" ".join(strings).split())
    categories = set()
    for module in (ROOT / "portal").rglob("*.py"):
        categories.update(FLASH_CATEGORY.findall(module.read_text()))
    mapped = {"error": "danger", "message": "info"}
    classes.update(f"alert-{mapped.get(category, category)}" for category in categories | {"message"})
    classes.update(f"text-bg-{status.badge}" for status in ApplicationStatus)
    # What Bootstrap's collapse plugin adds while opening and closing the navbar.
    classes.update({"collapse", "collapsing", "show"})
    return classes


def css_classes(path):
    """The class names a stylesheet's selectors mention."""
    css = re.sub(r"/\*.*?\*/|url\([^)]*\)", "", path.read_text(), flags=re.S)
    return set(re.findall(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)", css))


@pytest.mark.parametrize("sheet", ["bootstrap.min.css", "bootstrap.rtl.min.css"])
def test_the_purged_bootstrap_keeps_every_class_the_pages_use(sheet):
    listed = ROOT / "tests" / "data" / sheet.replace(".css", ".classes.txt")
    bootstrap = set(listed.read_text().split("\n")[1:]) - {""}
    used = template_classes()
    from_bootstrap = used & bootstrap
    assert {
        "navbar-toggler",
        "alert-danger",
        "alert-success",
        "text-bg-warning",
        "collapsing",
    } <= from_bootstrap
    assert len(from_bootstrap) > 150
    shipped = css_classes(STATIC / "vendor" / "bootstrap" / sheet)
    assert sorted(from_bootstrap - shipped) == []
    # And the purge did its work: most of Bootstrap is gone.
    assert len(shipped) < len(bootstrap) / 3
