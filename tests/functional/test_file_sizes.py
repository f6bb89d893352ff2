"""One file size formatter everywhere: the applicant's page and the review page agree, in each language."""

import re

import pytest

from portal.extensions import db
from portal.i18n import force_locale
from portal.templating import format_file_size
from tests import factories
from tests.helpers import page_text, post_application
from tests.samples import PDF


@pytest.mark.parametrize(
    ("size", "fr", "en", "ar"),
    [
        (1, "1 octet", "1 byte", "1 بايت"),
        (600, "600 octets", "600 bytes", "600 بايت"),
        (1024, "1 Ko", "1 KB", "1 كيلوبايت"),
        (1536, "1,5 Ko", "1.5 KB", "1.5 كيلوبايت"),
        (320 * 1024 + 300, "320 Ko", "320 KB", "320 كيلوبايت"),
        (1024 * 1024 - 10, "1 Mo", "1 MB", "1 ميغابايت"),
        (5 * 1024 * 1024, "5 Mo", "5 MB", "5 ميغابايت"),
        (int(2.25 * 1024 * 1024), "2,2 Mo", "2.2 MB", "2.2 ميغابايت"),
    ],
)
def test_sizes_read_right_in_every_language(app, size, fr, en, ar):
    with app.test_request_context():
        for language, expected in (("fr", fr), ("en", en), ("ar", ar)):
            with force_locale(language):
                assert format_file_size(size).replace("\u202f", " ").replace("\xa0", " ") == expected


def _sizes(page):
    return re.findall(r'class="[^"]*document-size[^"]*">\(?([^<)]+)\)?<', page)


@pytest.mark.parametrize(("total", "shown"), [(None, None), (1024, "1 Ko"), (1536, "1,5 Ko")])
def test_the_applicant_and_the_reviewer_see_the_same_size(app, client, total, shown):
    offering = factories.offering()
    applicant = factories.user()
    reviewer = factories.reviewer(offering)
    db.session.commit()
    # The sample PDF padded (after its end marker, which parsers accept) to ``total`` bytes.
    content = PDF + b" " * ((total or len(PDF)) - len(PDF))
    factories.login(client, applicant)
    response = post_application(client, offering, membership=(content, "attestation.pdf"))
    assert response.status_code == 302
    reference = response.location.rsplit("/", 1)[1]
    expected = shown or f"{len(content)} octets"
    assert _sizes(page_text(client.get(f"/me/applications/{reference}"))) == [expected]

    staff = app.test_client()
    factories.login(staff, reviewer)
    assert _sizes(page_text(staff.get(f"/review/applications/{reference}"))) == [expected]
