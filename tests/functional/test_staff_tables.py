"""Staff tables turn into stacked cards on phones: every cell says what it is, and codes,
references and academic years are never broken across lines (the layout itself is
checked in Chromium: tests/browser/test_phone_layout.py)."""

import re

import pytest

from portal.audit import record
from portal.extensions import db
from portal.notifications.outbox import enqueue_at_send
from tests import factories
from tests.helpers import admin_client

TABLES = {
    "/admin/offerings": "offerings-table",
    "/admin/cities": "cities-table",
    "/admin/tracks": "tracks-table",
    "/admin/outbox": "outbox-table",
    "/admin/audit": "audit-table",
}


def table_html(page, table_id):
    """The opening tag and the body of the table ``table_id``."""
    before, after = page.split(f'id="{table_id}"', 1)
    return before.rsplit("<table", 1)[1] + after.split("</table>", 1)[0]


@pytest.fixture
def admin(app):
    client, admin_user = admin_client(app)
    offering = factories.offering(track=factories.track(code="COM-DIG"), academic_year="2026-2027")
    factories.application(offering_=offering)
    enqueue_at_send("staff_invite", admin_user.email, user=admin_user)
    record(admin_user, "offering_changed", "offering", offering.id, before={"seats": 20}, after={"seats": 25})
    db.session.commit()
    return client


@pytest.mark.parametrize("path", list(TABLES))
def test_every_cell_is_labelled_for_the_phone_cards(admin, path):
    html = table_html(admin.get(path).get_data(as_text=True), TABLES[path])
    assert "table-cards" in html.split(">", 1)[0]
    cells = re.findall(r"<td[^>]*>", html)
    assert cells
    for cell in cells:
        assert "data-label=" in cell or "action-cell" in cell, cell
    # Each row has a title: its first cell is a row header.
    assert html.count('<th scope="row"') == html.count("<tr") - 1


@pytest.mark.parametrize("path", ["/admin/offerings", "/admin/tracks", "/admin/dashboard"])
def test_codes_and_years_are_never_broken(admin, path):
    page = admin.get(path.replace("/dashboard", "")).get_data(as_text=True)
    main = page.split("<main", 1)[1]
    assert "COM-DIG" in main
    assert not re.search(r"<bdi>COM-DIG</bdi>", main)
    for match in re.finditer(r"COM-DIG", main):
        opening = main[: match.start()].rsplit("<", 1)[1]
        assert "text-nowrap" in opening or opening.startswith(("option", 'span class="visually-hidden"')), (
            opening
        )
    for match in re.finditer(r"(?<![\d-])2026-2027(?![\d-])", main):
        opening = main[: match.start()].rsplit("<", 1)[1]
        assert "text-nowrap" in opening or opening.startswith(("option", 'span class="visually-hidden"')), (
            opening
        )
