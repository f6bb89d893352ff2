"""The administrators' dashboard: with one day of data the chart draws one bar, not a block."""

import re

from portal.extensions import db
from tests import factories
from tests.helpers import admin_client


def test_one_day_of_applications_draws_one_narrow_bar(app):
    admin, _ = admin_client(app)
    offering = factories.offering()
    for _ in range(3):
        factories.application(offering_=offering)
    db.session.commit()
    html = admin.get("/admin").get_data(as_text=True)
    svg = html.split("<svg")[1].split("</svg>")[0]
    view_width = float(re.search(r'viewBox="0 0 ([\d.]+) ', "<svg" + svg).group(1))
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
    assert len(widths) == 1
    assert widths[0] <= view_width / 15, widths
