"""Issue 11 point 4: a Host header werkzeug cannot bind to is a 400 with the portal's page,
and an error page that fails to render still answers, with its status and a plain page."""

import pytest
from flask import render_template
from jinja2 import TemplateError

from portal import errors

LONG_LABEL_HOST = "a" * 70 + ".example"


@pytest.mark.parametrize("host", [LONG_LABEL_HOST, "a" * 64, "x..y", "portal.test." + "b" * 64 + ":8000"])
def test_an_unusable_host_gets_the_400_page(client, host):
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    # The portal's layout and message, not a bare werkzeug page nor a traceback.
    assert "Requête invalide" in html and 'class="navbar' in html
    assert "Traceback" not in html and host not in html


def test_an_unusable_host_on_a_post_gets_the_400_page(client):
    response = client.post("/auth/forgot", data={"email": "x@example.org"}, headers={"Host": LONG_LABEL_HOST})
    assert response.status_code == 400


def test_a_good_host_is_served(client):
    assert client.get("/", headers={"Host": "portal.example.ma"}).status_code == 200


def test_an_error_page_that_fails_to_render_falls_back_to_a_plain_page(app, client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise TemplateError("the layout is broken")

    monkeypatch.setattr(errors, "render_template", broken)
    response = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<h1>" in html and ("Page not found" in html or "Page introuvable" in html)
    assert "could not be rendered" in caplog.text
    # The real page is back once the template renders.
    monkeypatch.setattr(errors, "render_template", render_template)
    assert 'class="navbar' in client.get("/no-such-page").get_data(as_text=True)


def test_the_plain_page_speaks_the_visitors_language(app, client, monkeypatch):
    monkeypatch.setattr(errors, "render_template", lambda *a, **k: 1 / 0)
    # The language switch is a GET or a POST depending on the version of the portal.
    if "POST" in _lang_methods(app):
        client.post("/lang/ar")
    else:
        client.get("/lang/ar")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in html


def _lang_methods(app):
    return next(rule.methods for rule in app.url_map.iter_rules() if rule.rule == "/lang/<code>")
