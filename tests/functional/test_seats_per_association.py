"""At most N seats per association in an offering (issue 14, item 3)."""

import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.applications.models import Application
from portal.applications.workflow import AssociationFull, promote_waitlist, transition
from portal.associations import operations as assoc_ops
from portal.auth.models import User
from portal.catalog import operations as catalog
from portal.catalog.models import Offering, OfferingAssociationSeat
from portal.extensions import db
from portal.refusals import AdminError
from portal.vocabulary import AssociationField
from tests import factories
from tests.helpers import THREADS, Race

CAP = 2


def _association(number="RSK-2015-0421"):
    return assoc_ops.find_or_declare(
        name_fr=f"Association {number}", registration_number=number, field=AssociationField.SOCIAL
    )


def _member(association):
    applicant = factories.user()
    applicant.profile.association_id = association.id
    db.session.flush()
    return applicant


def _held(offering_id, association_id):
    db.session.expire_all()
    return db.session.scalar(
        select(OfferingAssociationSeat.held).where(
            OfferingAssociationSeat.offering_id == offering_id,
            OfferingAssociationSeat.association_id == association_id,
        )
    )


@pytest.fixture
def capped(app):
    """An offering of 10 seats, at most 2 per association, its reviewer and one association."""
    offering = factories.offering(seats=10, max_seats_per_association=CAP)
    reviewer = factories.reviewer(offering)
    association = _association()
    return offering, reviewer, association


def test_new_offerings_get_the_setting_and_the_form_value_is_checked(app):
    admin = factories.user("admin")
    track, city = factories.track(), factories.city()
    today = date.today()
    offering = catalog.create_offering(
        admin,
        track_id=track.id,
        city_id=city.id,
        academic_year=catalog.academic_year(),
        seats=20,
        opens_on=today,
        closes_on=today + timedelta(days=30),
        course_starts_on=None,
        status="draft",
    )
    assert offering.max_seats_per_association == app.config["MAX_SEATS_PER_ASSOCIATION"] == 2
    common = {
        "seats": 20,
        "opens_on": today,
        "closes_on": today + timedelta(days=30),
        "course_starts_on": None,
        "status": offering.status,
    }
    catalog.update_offering(admin, offering, max_seats_per_association=None, **common)
    assert offering.max_seats_per_association is None
    for wrong in (0, -1):
        with pytest.raises(AdminError) as refused:
            catalog.update_offering(admin, offering, max_seats_per_association=wrong, **common)
        assert refused.value.field == "max_seats_per_association"
    catalog.update_offering(admin, offering, max_seats_per_association=3, **common)
    assert offering.max_seats_per_association == 3
    # Not given: kept.
    catalog.update_offering(admin, offering, **common)
    assert offering.max_seats_per_association == 3


def test_the_admin_form_shows_and_saves_the_limit(app, client):
    admin = factories.user("admin")
    offering = factories.offering(seats=10, max_seats_per_association=2)
    db.session.commit()
    factories.login(client, admin)
    page = client.get(f"/admin/offerings/{offering.id}")
    assert 'name="max_seats_per_association"' in page.text
    form = {
        "seats": "10",
        "max_seats_per_association": "",
        "opens_on": offering.opens_at.date().isoformat(),
        "closes_on": offering.closes_at.date().isoformat(),
        "status": offering.status,
    }
    response = client.post(f"/admin/offerings/{offering.id}", data=form)
    assert response.status_code in (200, 302)
    db.session.expire_all()
    assert db.session.get(Offering, offering.id).max_seats_per_association is None
    response = client.post(f"/admin/offerings/{offering.id}", data={**form, "max_seats_per_association": "0"})
    assert "ou vide pour ne pas limiter" in response.text
    db.session.expire_all()
    assert db.session.get(Offering, offering.id).max_seats_per_association is None


def test_a_third_member_is_refused_and_others_are_not_limited(capped):
    offering, reviewer, association = capped
    apps = [factories.application(_member(association), offering, status="under_review") for _ in range(3)]
    loner = factories.application(offering_=offering, status="under_review")
    other = factories.application(_member(_association("CAS-2020-0007")), offering, status="under_review")
    transition(apps[0], "accepted", reviewer)
    transition(apps[1], "accepted", reviewer)
    with pytest.raises(AssociationFull) as refused:
        transition(apps[2], "accepted", reviewer)
    assert "par association dans cette session (2)" in str(refused.value.message)
    transition(loner, "accepted", reviewer)
    transition(other, "accepted", reviewer)
    db.session.expire_all()
    assert db.session.get(Application, apps[2].id).status == "under_review"
    assert db.session.get(Offering, offering.id).seats_held == 4
    assert _held(offering.id, association.id) == 2


def test_a_withdrawal_frees_the_association_seat(capped):
    offering, reviewer, association = capped
    first, second, third = (
        factories.application(_member(association), offering, status="under_review") for _ in range(3)
    )
    transition(first, "accepted", reviewer)
    transition(second, "accepted", reviewer)
    transition(first, "withdrawn", first.applicant)
    assert _held(offering.id, association.id) == 1
    transition(third, "accepted", reviewer)
    assert _held(offering.id, association.id) == 2
    assert db.session.get(Application, first.id).seat_association_id is None


def test_a_seat_is_freed_in_the_association_it_was_counted_in(capped):
    offering, reviewer, association = capped
    application = factories.application(_member(association), offering, status="under_review")
    transition(application, "accepted", reviewer)
    # The applicant moves to another association while holding the seat.
    application.applicant.profile.association_id = _association("CAS-2020-0007").id
    db.session.flush()
    transition(application, "withdrawn", application.applicant)
    assert _held(offering.id, association.id) == 0


def test_promotion_skips_a_candidate_whose_association_is_at_its_limit(app, clock):
    offering = factories.offering(seats=3, max_seats_per_association=CAP)
    reviewer = factories.reviewer(offering)
    association = _association()
    holders = [factories.application(_member(association), offering, status="accepted") for _ in range(2)]
    outsider = factories.application(offering_=offering, status="accepted")
    capped_best = factories.application(_member(association), offering, status="waitlisted", mean_score=18.0)
    next_best = factories.application(offering_=offering, status="waitlisted", mean_score=11.0)
    db.session.commit()
    transition(outsider, "withdrawn", outsider.applicant)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Application, capped_best.id).status == "waitlisted"
    assert db.session.get(Application, next_best.id).status == "accepted"
    # A member's seat frees: the best candidate of the association is now promoted.
    transition(holders[0], "withdrawn", holders[0].applicant)
    db.session.expire_all()
    assert db.session.get(Application, capped_best.id).status == "accepted"
    assert _held(offering.id, association.id) == 2
    assert promote_waitlist(db.session.get(Offering, offering.id)) == []
    assert reviewer is not None


def test_the_review_page_shows_the_refusal(capped, client):
    offering, reviewer, association = capped
    for _ in range(2):
        factories.application(_member(association), offering, status="accepted")
    application = factories.application(_member(association), offering, status="under_review")
    db.session.commit()
    factories.login(client, reviewer)
    response = client.post(
        f"/review/applications/{application.reference}/decide",
        data={"decision": "accepted", "version": str(application.version)},
        follow_redirects=True,
    )
    assert "limite de places par association dans cette session (2)" in response.text
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "under_review"


def test_merging_associations_moves_their_seats(capped):
    offering, reviewer, association = capped
    other = _association("CAS-2020-0007")
    a = factories.application(_member(association), offering, status="accepted")
    b = factories.application(_member(other), offering, status="accepted")
    admin = factories.user("admin")
    assoc_ops.merge_associations(admin, association, other)
    assert _held(offering.id, association.id) == 2
    assert db.session.get(Application, b.id).seat_association_id == association.id
    transition(db.session.get(Application, b.id), "withdrawn", b.applicant)
    transition(db.session.get(Application, a.id), "withdrawn", a.applicant)
    assert _held(offering.id, association.id) == 0
    assert reviewer is not None


def _race_setup():
    """An offering capped at 2 per association, 8 reviewers and 6 members under review."""
    offering = factories.offering(seats=10, max_seats_per_association=CAP)
    reviewers = [factories.reviewer(offering) for _ in range(THREADS)]
    association = _association()
    apps = [factories.application(_member(association), offering, status="under_review") for _ in range(6)]
    ids = offering.id, association.id, reviewers, apps
    db.session.commit()
    return ids


def _assert_exactly_the_cap(offering_id, association_id, race, label):
    db.session.expire_all()
    accepted = db.session.scalar(
        select(func.count())
        .select_from(Application)
        .where(Application.offering_id == offering_id, Application.status == "accepted")
    )
    print(  # the figures reported on the issue (run with -s to see them)
        f"\n[association cap race {label} on {db.engine.dialect.name}] limit {CAP} / members 6 / "
        f"sessions {THREADS} / accepted {accepted} / outcomes {dict(sorted(race.outcomes.items()))} "
        f"/ errors {len(race.errors)}"
    )
    assert race.errors == []
    assert accepted == CAP
    assert db.session.get(Offering, offering_id).seats_held == CAP
    assert _held(offering_id, association_id) == CAP


def _chunks(reviewer_ids, items):
    # Every member is accepted by two reviewers at the same time.
    return [[(reviewer_ids[i], items[i % 6]), (reviewer_ids[i], items[(i + 3) % 6])] for i in range(THREADS)]


def test_eight_reviewers_accepting_six_members_at_once_accept_exactly_the_limit(app):
    offering_id, association_id, reviewers, apps = _race_setup()
    chunks = _chunks([r.id for r in reviewers], [a.id for a in apps])

    def accept(pair):
        reviewer_id, application_id = pair
        transition(db.session.get(Application, application_id), "accepted", db.session.get(User, reviewer_id))

    race = Race(app, THREADS).run(chunks, accept)
    _assert_exactly_the_cap(offering_id, association_id, race, "transition()")
    assert race.outcomes["ok"] == CAP
    assert set(race.outcomes) <= {"ok", "AssociationFull", "StaleStatus", "NotAllowed"}


def test_eight_reviewer_sessions_over_http_accept_exactly_the_limit(app):
    offering_id, association_id, reviewers, apps = _race_setup()
    clients = {}
    for reviewer in reviewers:
        client = app.test_client()
        assert factories.login(client, reviewer).status_code == 302
        clients[reviewer.id] = client
    chunks = _chunks([r.id for r in reviewers], [(a.reference, a.version) for a in apps])
    statuses = Counter()
    lock = threading.Lock()

    def post(pair):
        reviewer_id, (reference, version) = pair
        response = clients[reviewer_id].post(
            f"/review/applications/{reference}/decide", data={"decision": "accepted", "version": str(version)}
        )
        with lock:
            statuses[response.status_code] += 1

    race = Race(app, THREADS).run(chunks, post)
    assert statuses == Counter({302: 2 * THREADS}), statuses  # no 500: every answer a redirect
    _assert_exactly_the_cap(offering_id, association_id, race, "HTTP")


def test_the_queue_shows_each_row_s_association_and_filters_by_it(capped, client):
    offering, reviewer, association = capped
    other = _association("CAS-2020-0007")
    held = factories.application(_member(association), offering, status="accepted")
    waiting = factories.application(_member(association), offering, status="under_review")
    outsider = factories.application(_member(other), offering, status="under_review")
    loner = factories.application(offering_=offering, status="under_review")
    db.session.commit()
    factories.login(client, reviewer)
    page = client.get("/review").text
    rows = {
        r: next(t for t in page.split("<tr") if f'value="{r}"' in t)
        for r in (waiting.reference, loner.reference)
    }
    row = rows[waiting.reference]
    assert association.name_fr in row
    assert "places détenues dans la session : 1" in row
    assert f"/review?association={association.id}" in row
    assert "association-cell" not in rows[loner.reference]
    filtered = client.get(f"/review?association={association.id}").text
    assert held.reference in filtered and waiting.reference in filtered
    assert outsider.reference not in filtered and loner.reference not in filtered
    assert 'id="association-filter"' in filtered
    # A junk value is ignored: the whole queue.
    assert loner.reference in client.get("/review?association=abc").text


def test_the_queue_query_count_does_not_grow_with_associations(capped, client, query_counter):
    offering, reviewer, association = capped
    offering.max_seats_per_association = None  # many seats held by one association
    for _ in range(2):
        factories.application(_member(association), offering, status="under_review")
    db.session.commit()
    factories.login(client, reviewer)
    client.get("/review")  # warm up (session, caches)
    with query_counter() as small:
        assert client.get("/review").status_code == 200
    for n in range(6):
        factories.application(_member(_association(f"NEW-{n}")), offering, status="under_review")
        factories.application(_member(association), offering, status="accepted")
    db.session.commit()
    with query_counter() as big:
        page = client.get("/review").text
    assert page.count("association-cell") == 14
    assert big.count == small.count, big.statements
