"""No conflict of interest (issue 14, item 4): nobody examines or decides on their own
application, nor on one of a member of an association they are tied to."""

import pytest
from sqlalchemy import select

from portal.applications import workflow
from portal.applications.models import Application
from portal.associations import operations as assoc_ops
from portal.auth.models import User
from portal.extensions import db
from portal.review import operations
from portal.vocabulary import AssociationField, Role
from tests import factories
from tests.helpers import admin_client


def _fresh(application):
    db.session.expire_all()
    return db.session.get(Application, application.id)


def _association(number):
    return assoc_ops.find_or_declare(
        name_fr=f"Association {number}", registration_number=number, field=AssociationField.SOCIAL
    )


def _member(association, **kw):
    applicant = factories.user(**kw)
    applicant.profile.association_id = association.id
    db.session.flush()
    return applicant


def _offering_form(offering, reviewer_ids):
    return {
        "seats": str(offering.seats),
        "max_seats_per_association": "",
        "opens_on": offering.opens_at.date().isoformat(),
        "closes_on": offering.closes_at.date().isoformat(),
        "status": offering.status,
        "reviewers": [str(i) for i in reviewer_ids],
    }


def _queue_refs(client, query=""):
    page = client.get(f"/review{query}")
    assert page.status_code == 200
    return page.text


def test_an_applicant_made_reviewer_and_assigned_to_their_offering_cannot_judge_their_application(app):
    offering = factories.offering(seats=5)
    person = factories.user(email="nadia@example.org")
    own = factories.application(person, offering)
    other = factories.application(factories.user(), offering)
    # Promoted to reviewer with the application still active (as before the role change
    # withdrew applications, or an account changed in the database): the profile stays.
    person.role = Role.REVIEWER
    db.session.commit()
    own_ref, other_ref, person_id = own.reference, other.reference, person.id

    # The administrator assigns them through the offering page, warned beside their name.
    admin, _ = admin_client(app)
    page = admin.get(f"/admin/offerings/{offering.id}").text
    warning = page.split(f'id="conflict-{person_id}"')[1].split("</div>")[0]
    assert "a une candidature en cours dans cette session" in warning
    assert f'aria-describedby="conflict-{person_id}"' in page
    response = admin.post(f"/admin/offerings/{offering.id}", data=_offering_form(offering, [person_id]))
    assert response.status_code == 302
    db.session.expire_all()
    assert [u.id for u in db.session.get(type(offering), offering.id).reviewers] == [person_id]

    client = app.test_client()
    assert factories.login(client, db.session.get(User, person_id)).status_code == 302
    queue = _queue_refs(client)
    assert f"/review/applications/{other_ref}" in queue and f"/review/applications/{own_ref}" not in queue
    assert f"/review/applications/{own_ref}" not in _queue_refs(client, f"?q={own_ref}")
    # By URL: the page and the decision answer 404, as for any application out of scope.
    assert client.get(f"/review/applications/{own_ref}").status_code == 404
    assert (
        client.post(f"/review/applications/{own_ref}/decide", data={"decision": "accepted"}).status_code
        == 404
    )
    # By the bulk form: reported as not found, the other one decided.
    client.post("/review/decide", data={"decision": "accepted", "references": [own_ref, other_ref]})
    assert _fresh(own).status == "submitted" and _fresh(other).status == "accepted"
    report = client.get("/review").text
    assert own_ref in report and "Candidature introuvable." in report

    # The workflow itself says no, with the reason, whatever calls it.
    own, person = _fresh(own), db.session.get(User, person_id)
    with pytest.raises(workflow.ConflictOfInterest) as refused:
        operations.decide(person, own, "accepted")
    assert "Conflit d'intérêts" in str(refused.value.message)
    with pytest.raises(workflow.ConflictOfInterest):
        workflow.transition(own, "accepted", person)
    with pytest.raises(workflow.NotAllowed):
        operations.save_review(
            person,
            own,
            {"score_motivation": 5, "score_engagement": 5, "score_fit": 5, "recommendation": "accept"},
        )
    db.session.rollback()
    assert _fresh(own).status == "submitted"


@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_a_member_of_the_staff_members_association_is_out_of_their_reach(app, role):
    offering = factories.offering(seats=5)
    ours, theirs = _association("RAB-2010-0001"), _association("CAS-2012-0002")
    # A staff member who was an applicant of "ours" (their profile stays) ...
    staff = _member(ours)
    staff.role = Role(role)
    if role == "reviewer":
        staff.reviewed_offerings.append(offering)
    colleague = factories.application(_member(ours), offering)
    stranger = factories.application(_member(theirs), offering)
    unlinked = factories.application(factories.user(), offering)
    db.session.commit()
    refs = {"colleague": colleague.reference, "stranger": stranger.reference, "unlinked": unlinked.reference}

    client = app.test_client()
    assert factories.login(client, staff).status_code == 302
    queue = _queue_refs(client)
    assert f"/review/applications/{refs['colleague']}" not in queue
    assert (
        f"/review/applications/{refs['stranger']}" in queue
        and f"/review/applications/{refs['unlinked']}" in queue
    )
    # The association filter of the queue does not bring it back, nor do the counters count it.
    assert f"/review/applications/{refs['colleague']}" not in _queue_refs(client, f"?association={ours.id}")
    assert client.get(f"/review/applications/{refs['colleague']}").status_code == 404
    response = client.post(f"/review/applications/{refs['colleague']}/decide", data={"decision": "rejected"})
    assert response.status_code == 404
    client.post("/review/decide", data={"decision": "rejected", "references": list(refs.values())})
    assert _fresh(colleague).status == "submitted"
    assert _fresh(stranger).status == "rejected" and _fresh(unlinked).status == "rejected"

    colleague, staff = _fresh(colleague), db.session.merge(staff)
    with pytest.raises(workflow.ConflictOfInterest):
        workflow.transition(colleague, "accepted", staff)
    with pytest.raises(workflow.ConflictOfInterest):
        operations.decide(staff, colleague, "waitlisted")
    db.session.rollback()
    assert _fresh(colleague).status == "submitted"
    # The system (waitlist promotion, expiry) is nobody's colleague.
    workflow.transition(_fresh(colleague), "under_review", None)


def test_the_assignment_page_warns_of_an_association_conflict_only(app):
    offering = factories.offering(seats=5)
    ours = _association("RAB-2010-0003")
    tied = _member(ours)
    tied.role = Role.REVIEWER
    clear = factories.reviewer()
    factories.application(_member(ours), offering)
    # A member of the same association whose application is over is no conflict any more.
    other_offering = factories.offering(seats=5)
    factories.application(_member(ours), other_offering, status="rejected")
    db.session.commit()
    admin, _ = admin_client(app)
    page = admin.get(f"/admin/offerings/{offering.id}").text
    warning = page.split(f'id="conflict-{tied.id}"')[1].split("</div>")[0]
    assert "un membre d'une association à laquelle cet évaluateur est lié" in warning
    assert "a une candidature en cours dans cette session ; il" not in warning.split("lié")[0]
    assert f'id="conflict-{clear.id}"' not in page
    assert "data-conflict" not in admin.get(f"/admin/offerings/{other_offering.id}").text
    # In English and Arabic too.
    admin.post("/lang/en")
    assert (
        "association"
        in admin.get(f"/admin/offerings/{offering.id}").text.split(f'id="conflict-{tied.id}"')[1]
    )


def test_the_queue_filter_is_one_clause_whatever_the_ties(app, client, query_counter):
    offering = factories.offering(seats=50)
    ours = _association("RAB-2010-0004")
    reviewer = _member(ours)
    reviewer.role = Role.REVIEWER
    reviewer.reviewed_offerings.append(offering)
    others = [_association(f"TNG-2011-{n:04d}") for n in range(3)]
    for association in others:
        factories.application(_member(association), offering)
    factories.application(_member(ours), offering)
    db.session.commit()
    factories.login(client, reviewer)
    client.get("/review")
    with query_counter() as small:
        client.get("/review")
    for association in others * 4:
        factories.application(_member(association), offering)
    for _ in range(4):
        factories.application(_member(ours), offering)
    db.session.commit()
    with query_counter() as big:
        page = client.get("/review").text
    assert page.count('href="/review/applications/') == 15
    assert big.count == small.count, big.statements
    visible = db.session.scalars(
        select(Application.reference).where(Application.offering_id == offering.id)
    ).all()
    assert len(visible) == 20


def test_a_referent_of_an_association_does_not_judge_its_members(app):
    offering = factories.offering(seats=5)
    association = _association("TNG-2015-0042")
    # A reviewer with no profile of their own, named referent of the association.
    staff = factories.reviewer(offering)
    association.referents.append(staff)
    member = factories.application(_member(association), offering)
    unlinked = factories.application(factories.user(), offering)
    db.session.commit()
    member_ref, unlinked_ref = member.reference, unlinked.reference

    client = app.test_client()
    assert factories.login(client, staff).status_code == 302
    queue = _queue_refs(client)
    assert (
        f"/review/applications/{member_ref}" not in queue and f"/review/applications/{unlinked_ref}" in queue
    )
    assert client.get(f"/review/applications/{member_ref}").status_code == 404
    with pytest.raises(workflow.ConflictOfInterest):
        workflow.transition(_fresh(member), "accepted", db.session.merge(staff))
    db.session.rollback()
    assert _fresh(member).status == "submitted"


def test_ties_come_with_the_session_row_and_a_new_referent_role_counts_from_the_next_page(app, query_counter):
    offering = factories.offering(seats=5)
    association = _association("AGD-2019-0007")
    staff = factories.reviewer(offering)
    member = factories.application(_member(association), offering)
    db.session.commit()
    member_ref, staff_id = member.reference, staff.id

    client = app.test_client()
    assert factories.login(client, staff).status_code == 302

    def queue():
        with query_counter() as counter:
            page = _queue_refs(client)
        # Statements reading the referents, besides the session row's own check.
        ties = [s for s in counter.statements if "association_referent" in s and "user_session" not in s]
        return page, ties

    page, ties = queue()
    # Tied to nothing: the session row said so, no query of its own.
    assert f"/review/applications/{member_ref}" in page and ties == []
    # Named referent meanwhile (by an administrator, elsewhere): the next page knows it.
    db.session.get(type(association), association.id).referents.append(db.session.get(User, staff_id))
    db.session.commit()
    page, ties = queue()
    assert f"/review/applications/{member_ref}" not in page
    assert len(ties) == 1
