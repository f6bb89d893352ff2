"""Names typed by people are escaped in the rows the portal builds as markup in Python.

The review queue, the administrators' dashboard and the applicant's dashboard build their
rows as strings (for speed) rather than through Jinja's autoescaping: every value taken
from the database must come out escaped there too.
"""

import pytest

from portal.extensions import db
from tests import factories
from tests.helpers import admin_client

MARK = '<img src=x onerror="alert(1)">'
ESCAPED = "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"


@pytest.fixture
def marked(app):
    """An offering whose city, region and track carry markup, and an applicant named with it."""
    region = factories.region(name_fr=f"Région {MARK}")
    city = factories.city(f"Ville {MARK}", region=region)
    track = factories.track(title_fr=f"Formation {MARK}")
    offering = factories.offering(city=city, track=track)
    applicant = factories.user(profile={"first_name": f"Nom {MARK}", "last_name": MARK})
    application = factories.application(applicant, offering, status="under_review")
    db.session.commit()
    return offering, application


def assert_escaped(html):
    """No raw markup from the data; its escaped text is there."""
    assert MARK not in html
    assert ESCAPED in html


def test_the_review_queue_escapes_names(app, client, marked):
    offering, application = marked
    reviewer = factories.reviewer(offering)
    db.session.commit()
    factories.login(client, reviewer)
    html = client.get("/review?sort=submitted_desc").get_data(as_text=True)
    assert f'data-reference="{application.reference}"' in html
    assert_escaped(html)


def test_the_admin_dashboard_escapes_names(app, marked):
    admin, _ = admin_client(app)
    html = admin.get("/admin").get_data(as_text=True)
    assert "Ville " in html
    assert_escaped(html)


def test_the_applicant_dashboard_escapes_names(app, client, marked):
    offering, _application = marked
    newcomer = factories.user()
    db.session.commit()
    factories.login(client, newcomer)
    html = client.get("/me").get_data(as_text=True)
    assert f"/apply/{offering.id}" in html
    assert_escaped(html)
