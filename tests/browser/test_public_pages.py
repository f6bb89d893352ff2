"""Public pages in Chromium: no console error, no serious accessibility violation, RTL in Arabic."""

import pytest

from portal.catalog.operations import seed_catalogue
from portal.extensions import db


@pytest.fixture
def catalogue(app):
    seed_catalogue()
    db.session.commit()


@pytest.mark.parametrize("language", ["fr", "ar"])
@pytest.mark.parametrize(
    "path,name", [("/", "home"), ("/tracks", "catalogue"), ("/tracks/NUM-TRANS", "track")]
)
def test_public_page(browser_page, catalogue, language, path, name):
    browser_page.goto(f"/lang/{language}")
    response = browser_page.goto(path)
    assert response.status == 200
    html = browser_page.page.locator("html")
    assert html.get_attribute("lang") == language
    assert html.get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    assert browser_page.serious_violations() == []
    assert browser_page.console_errors == []
    browser_page.screenshot(f"full-{name}-{language}")
