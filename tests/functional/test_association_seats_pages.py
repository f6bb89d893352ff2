"""Where the seats per association show (issue 14, finishing item 3): the review page, the
administrator's offering page, the bulk decision's report."""

import re

from sqlalchemy import select

from portal.applications.models import Application
from portal.associations import operations as assoc_ops
from portal.extensions import db
from portal.vocabulary import AssociationField
from tests import factories
from tests.helpers import admin_client


def _association(number):
    return assoc_ops.find_or_declare(
        name_fr=f"Association {number}", registration_number=number, field=AssociationField.SOCIAL
    )


def _member(association):
    applicant = factories.user()
    applicant.profile.association_id = association.id
    db.session.flush()
    return applicant


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_review_page_shows_the_associations_seats_and_limit(app, client):
    offering = factories.offering(seats=10, max_seats_per_association=2)
    reviewer = factories.reviewer(offering)
    association = _association("RAB-2001-0001")
    factories.application(_member(association), offering, status="accepted")
    waiting = factories.application(_member(association), offering, status="under_review")
    unlinked = factories.application(factories.user(), offering)
    db.session.commit()
    factories.login(client, reviewer)
    page = client.get(f"/review/applications/{waiting.reference}").text
    seats = page.split('id="association-seats"')[1].split("</dd>")[0]
    assert "1 place détenue sur 2 au plus par association" in _text(seats)
    assert 'id="association-seats"' not in client.get(f"/review/applications/{unlinked.reference}").text

    offering.max_seats_per_association = None
    db.session.commit()
    page = client.get(f"/review/applications/{waiting.reference}").text
    assert "1 place détenue, sans limite par association" in _text(page)


def test_the_offering_page_lists_the_associations_holding_most_seats(app):
    offering = factories.offering(seats=20, max_seats_per_association=3)
    big, small = _association("CAS-2002-0002"), _association("CAS-2002-0003")
    for _ in range(3):
        factories.application(_member(big), offering, status="accepted")
    factories.application(_member(small), offering, status="confirmed")
    factories.application(_member(_association("CAS-2002-0004")), offering, status="waitlisted")
    db.session.commit()
    client, _ = admin_client(app)
    page = client.get(f"/admin/offerings/{offering.id}").text
    assert "Au plus 3 places par association." in _text(page)
    listed = _text(page.split('id="association-seats"')[1].split("</ul>")[0])
    assert re.search(r"Association CAS-2002-0002 — 3 places .*Association CAS-2002-0003 — 1 place", listed)
    assert "CAS-2002-0004" not in listed

    empty = factories.offering(seats=5, max_seats_per_association=None)
    db.session.commit()
    page = _text(client.get(f"/admin/offerings/{empty.id}").text)
    assert "Pas de limite par association." in page and "Aucune place attribuée pour l'instant." in page


def test_a_bulk_acceptance_reports_the_association_limit_as_a_failure_with_its_reason(app, client):
    offering = factories.offering(seats=10, max_seats_per_association=1)
    reviewer = factories.reviewer(offering)
    association = _association("TNG-2003-0005")
    first = factories.application(_member(association), offering, status="under_review", mean_score=12)
    second = factories.application(_member(association), offering, status="under_review", mean_score=10)
    other = factories.application(factories.user(), offering, status="under_review", mean_score=8)
    db.session.commit()
    refs = [first.reference, second.reference, other.reference]
    factories.login(client, reviewer)
    client.post("/review/decide", data={"decision": "accepted", "references": refs})
    statuses = dict(
        db.session.execute(
            select(Application.reference, Application.status).where(Application.reference.in_(refs))
        ).all()
    )
    assert statuses == {
        first.reference: "accepted",
        second.reference: "under_review",
        other.reference: "accepted",
    }
    report = client.get("/review").text
    # Not "the offering is full" (it is not): a failure, with the workflow's reason.
    assert 'id="bulk-full"' not in report
    failed = _text(report.split("Non traitées (1)")[1].split("</ul>")[0])
    assert second.reference in failed and "limite de places par association" in failed
    assert "Décisions enregistrées : 2" in _text(report)
