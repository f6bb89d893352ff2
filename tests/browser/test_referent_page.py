"""A referent's page (issue 14, item 2) in Chromium, in Arabic: axe-clean, fits a phone, and
endorsing a member with its button works."""

import pytest
from sqlalchemy import select

from portal.associations import membership
from portal.associations.models import Membership
from portal.associations.operations import find_or_declare
from portal.extensions import db
from portal.vocabulary import AssociationField, Endorsement
from tests import factories
from tests.browser.helpers import record_axe, release_database, start_journey


@pytest.mark.parametrize("language", ["ar"])
def test_a_referent_endorses_a_member_in_arabic(browser_page, language):
    association = find_or_declare(
        name_fr="Association Al Amal",
        name_ar="جمعية الأمل",
        registration_number="RSK-2015-0421",
        field=AssociationField.SOCIAL,
    )
    referent = factories.user(email="president@amal.ma", locale=language)
    association.referents.append(referent)
    members = []
    for first_name in ("Amina", "Salma"):
        member = factories.user(profile={"first_name": first_name, "first_name_ar": "أمينة"})
        member.profile.association = association
        members.append(membership.claim(member, association))
    membership.decide(referent, members[1], Endorsement.ENDORSED)
    pending_id = members[0].id
    release_database()

    journey = start_journey(browser_page, language, "president@amal.ma")
    journey.goto("/me/association")
    page = journey.page
    assert page.locator("h1").inner_text() == "أعضاء جمعيتي"
    assert page.locator("#members li").count() == 2
    # Pending first, with its two buttons; the endorsed member offers only "decline".
    assert page.locator(f"#member-{pending_id} button").count() == 2
    violations = browser_page.axe()
    record_axe("referent", language, browser_page.viewport, violations)
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
    # Nothing wider than a phone's screen.
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    journey.shot("referent")

    journey.submit(f"#member-{pending_id} button.btn-success", expect_url=r"/me/association$")
    assert "تم تأكيد عضوية Amina" in page.locator("main").inner_text()
    release_database()
    db.session.expire_all()
    state = db.session.scalar(select(Membership.state).where(Membership.id == pending_id))
    assert state == Endorsement.ENDORSED
    assert browser_page.serious_violations() == []
