"""Issue 6 point 7 (ASVS 4.2.1): objects are reached through the permissions module only.

Another applicant gets 404 for each of an applicant's applications, documents, withdraw
and confirm actions, in every status; a reviewer of another offering gets 404 on the
review page, the document downloads, the review and the decisions; nothing changes.
"""

import pytest
from sqlalchemy import func, select

from portal.applications.models import Application, Interest, StatusChange
from portal.extensions import db
from portal.review.models import Review
from tests import factories
from tests.security import formdata
from tests.security import world as w

STATUSES = ("submitted", "under_review", "accepted", "waitlisted", "confirmed", "rejected", "withdrawn")


def snapshot():
    """Status and version of every application, and the counts that an action would change."""
    db.session.expire_all()
    return {
        "applications": sorted(
            db.session.execute(select(Application.id, Application.status, Application.version))
        ),
        "changes": db.session.scalar(select(func.count()).select_from(StatusChange)),
        "reviews": db.session.scalar(select(func.count()).select_from(Review)),
        "interests": db.session.scalar(select(func.count()).select_from(Interest)),
    }


@pytest.fixture
def owned(app):
    """The owner's applications in every status, each with a document, in one offering."""
    offering = factories.offering(seats=50)
    owner = factories.user()
    applications = []
    for status in STATUSES:
        application = factories.application(owner, factories.offering(seats=50), status=status)
        applications.append((application, w.add_document(application)))
    mine = factories.application(owner, offering)
    applications.append((mine, w.add_document(mine)))
    intruder = factories.user()
    intruder_app = factories.application(intruder, offering)
    return owner, intruder, intruder_app, applications


def test_another_applicant_gets_404_for_every_application_document_and_action(app, owned):
    owner, intruder, intruder_app, applications = owned
    client = w.new_client(app)
    factories.login(client, intruder)
    before = snapshot()
    for application, document in applications:
        base = f"/me/applications/{application.reference}"
        attempts = [
            ("GET", base),
            ("GET", f"{base}/documents/{document.id}"),
            ("POST", f"{base}/withdraw"),
            ("POST", f"{base}/confirm"),
            # The owner's document under the intruder's own reference.
            ("GET", f"/me/applications/{intruder_app.reference}/documents/{document.id}"),
            # Ids instead of references are not a way in either.
            ("GET", f"/me/applications/{application.id}"),
            ("POST", f"/me/applications/{application.id}/withdraw"),
        ]
        for method, path in attempts:
            response = client.open(path, method=method)
            assert response.status_code == 404, (method, path, response.status_code)
            # Nothing of the owner's data is shown (the path itself is echoed in language links).
            assert owner.profile.last_name not in response.get_data(as_text=True)
    assert snapshot() == before
    # The owner, for comparison, reaches them all.
    owner_client = w.new_client(app)
    factories.login(owner_client, owner)
    for application, document in applications:
        base = f"/me/applications/{application.reference}"
        assert owner_client.get(base).status_code == 200
        assert owner_client.get(f"{base}/documents/{document.id}").data == w.PDF


def test_an_applicant_cannot_reach_the_review_or_admin_side(app, owned):
    owner, intruder, _intruder_app, applications = owned
    client = w.new_client(app)
    factories.login(client, intruder)
    before = snapshot()
    for application, document in applications:
        ref = application.reference
        assert client.get(f"/review/applications/{ref}").status_code == 404
        assert client.get(f"/review/applications/{ref}/documents/{document.id}").status_code == 404
        assert client.post(f"/review/applications/{ref}", data=formdata.review()).status_code == 404
        assert (
            client.post(f"/review/applications/{ref}/decide", data=formdata.decision(application)).status_code
            == 404
        )
    assert (
        client.post(
            "/review/decide",
            data={"decision": "accepted", "references": [a.reference for a, _ in applications]},
        ).status_code
        == 404
    )
    assert snapshot() == before


def test_interests_of_another_applicant_cannot_be_withdrawn(app, owned):
    owner, intruder, _, _ = owned
    interest = Interest(applicant_id=owner.id, track_id=factories.track().id, city_id=factories.city().id)
    db.session.add(interest)
    client = w.new_client(app)
    factories.login(client, intruder)
    assert client.post(f"/me/interests/{interest.id}/delete").status_code == 404
    assert db.session.get(Interest, interest.id) is not None


@pytest.fixture
def two_offerings(app):
    """An application (with a document) in one offering, its reviewer, and another offering's reviewer."""
    offering = factories.offering()
    other = factories.offering()
    applications = [factories.application(offering_=offering) for _ in range(3)]
    documents = [w.add_document(a) for a in applications]
    return offering, applications, documents, factories.reviewer(offering), factories.reviewer(other)


def test_a_reviewer_of_another_offering_gets_404_everywhere(app, two_offerings):
    offering, applications, documents, _reviewer, outsider = two_offerings
    client = w.new_client(app)
    factories.login(client, outsider)
    before = snapshot()
    for application, document in zip(applications, documents, strict=True):
        ref = application.reference
        for method, path, data in [
            ("GET", f"/review/applications/{ref}", None),
            ("GET", f"/review/applications/{ref}/documents/{document.id}", None),
            ("GET", f"/me/applications/{ref}/documents/{document.id}", None),
            ("GET", f"/me/applications/{ref}", None),
            ("POST", f"/review/applications/{ref}", formdata.review()),
            ("POST", f"/review/applications/{ref}/decide", formdata.decision(application)),
            ("POST", f"/review/applications/{ref}/decide", formdata.decision(application, "rejected")),
        ]:
            response = client.open(path, method=method, data=data)
            assert response.status_code == 404, (method, path, response.status_code)
    # The bulk decision reports the references as impossible and decides nothing.
    response = client.post(
        "/review/decide",
        data={"decision": "rejected", "references": [a.reference for a in applications]},
        follow_redirects=True,
    )
    assert response.status_code == 200
    # Neither the queue nor the CIN search shows them.
    queue = client.get("/review").get_data(as_text=True)
    search = client.post("/review/cin", data={"cin": applications[0].applicant.profile.cin}).get_data(
        as_text=True
    )
    for application in applications:
        assert application.reference not in queue
        assert application.reference not in search
    assert snapshot() == before


def test_the_reviewer_of_the_offering_and_an_admin_do_reach_them(app, two_offerings):
    offering, applications, documents, reviewer, _outsider = two_offerings
    admin = factories.user(role="admin")
    for user in (reviewer, admin):
        client = w.new_client(app)
        factories.login(client, user)
        ref = applications[0].reference
        assert client.get(f"/review/applications/{ref}").status_code == 200
        assert client.get(f"/review/applications/{ref}/documents/{documents[0].id}").data == w.PDF
    client = w.new_client(app)
    factories.login(client, reviewer)
    client.post(f"/review/applications/{applications[1].reference}", data=formdata.review())
    assert db.session.scalar(select(func.count()).select_from(Review)) == 1


def test_a_reviewer_removed_from_the_offering_loses_access_at_once(app, two_offerings):
    offering, applications, _documents, reviewer, _outsider = two_offerings
    client = w.new_client(app)
    factories.login(client, reviewer)
    ref = applications[0].reference
    assert client.get(f"/review/applications/{ref}").status_code == 200
    reviewer.reviewed_offerings.remove(offering)
    db.session.commit()
    assert client.get(f"/review/applications/{ref}").status_code == 404


def test_the_document_of_one_application_cannot_be_fetched_under_another_reference(app, two_offerings):
    _offering, applications, documents, reviewer, _ = two_offerings
    client = w.new_client(app)
    factories.login(client, reviewer)
    path = f"/review/applications/{applications[0].reference}/documents/{documents[1].id}"
    assert client.get(path).status_code == 404
