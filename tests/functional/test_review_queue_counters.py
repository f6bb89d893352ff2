"""The queue's counters come from the counts the workflow keeps, less what the user may not examine."""

import re

import pytest

from portal.associations import operations as assoc_ops
from portal.extensions import db
from portal.vocabulary import AssociationField, Role
from tests import factories


def _status_count(html, status):
    item = re.search(rf'data-status="{status}">.*?<span class="count">(\d+)</span>', html, re.S)
    return int(item.group(1))


def _waitlist_cell(html, offering):
    row = re.search(rf'<tr data-offering="{offering.id}">(.*?)</tr>', html, re.S).group(1)
    return int(re.findall(r'<td class="text-end"[^>]*>(\d+)</td>', row)[-1])


def _member(association):
    applicant = factories.user()
    applicant.profile.association_id = association.id
    db.session.flush()
    return applicant


@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_counters_leave_out_own_and_conflicted_applications(app, role):
    offering, other = factories.offering(seats=5), factories.offering(seats=5)
    ours = assoc_ops.find_or_declare(
        name_fr="Association 1", registration_number="RAB-2010-0001", field=AssociationField.SOCIAL
    )
    staff = _member(ours)
    staff.role = Role(role)
    if role == "reviewer":
        staff.reviewed_offerings.extend([offering, other])
    # Counted: two strangers' applications (one wait-listed) and one of the other offering.
    factories.application(factories.user(), offering, status="under_review")
    factories.application(factories.user(), offering, status="waitlisted")
    factories.application(factories.user(), other, status="waitlisted")
    # Not counted: the staff member's own application and those of their association's members.
    factories.application(staff, offering, status="under_review")
    factories.application(_member(ours), offering, status="waitlisted")
    factories.application(_member(ours), other, status="under_review")
    db.session.commit()

    client = app.test_client()
    assert factories.login(client, staff).status_code == 302
    html = client.get("/review").text
    assert _status_count(html, "under_review") == 1
    assert _status_count(html, "waitlisted") == 2
    assert _waitlist_cell(html, offering) == 1 and _waitlist_cell(html, other) == 1
    assert "3 candidatures" in html
    filtered = client.get(f"/review?offering={offering.id}").text
    assert _status_count(filtered, "under_review") == 1 and _status_count(filtered, "waitlisted") == 1
    assert "2 candidatures" in filtered


def test_counters_leave_out_the_reviewers_own_application_without_any_tie(app):
    offering = factories.offering(seats=5)
    reviewer = factories.user()
    reviewer.role = Role.REVIEWER
    reviewer.reviewed_offerings.append(offering)
    factories.application(factories.user(), offering, status="waitlisted")
    factories.application(reviewer, offering, status="waitlisted")
    db.session.commit()

    client = app.test_client()
    assert factories.login(client, reviewer).status_code == 302
    html = client.get("/review").text
    assert _status_count(html, "waitlisted") == 1 and _waitlist_cell(html, offering) == 1
    assert "1 candidature" in html
