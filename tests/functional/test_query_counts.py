"""Main pages run the same number of SQL statements whatever the amount of data (no N+1).

Each page is requested once with the seeded catalogue and once with ten times as many
offerings, applicants and staff; the statement count must not change.
"""

import pytest

from portal.catalog.operations import seed_catalogue
from portal.extensions import db
from tests import factories
from tests.helpers import admin_client


def grow(times):
    """Add ``times`` × (10 offerings with applications, 10 applicants, 2 reviewers)."""
    for _ in range(times):
        for _ in range(10):
            offering = factories.offering()
            factories.application(offering_=offering)
        factories.reviewer(offering)
        factories.reviewer(offering)
    db.session.commit()


def count(client, query_counter, path):
    client.get(path)  # warm caches (locale, compiled templates) outside the count
    with query_counter() as counter:
        response = client.get(path)
    assert response.status_code == 200, path
    return counter.count


@pytest.mark.parametrize("path", ["/", "/tracks", "/tracks/NUM-TRANS"])
def test_public_pages(app, client, query_counter, path):
    # Count the rendering itself, not the visitor page cache (tests/functional/test_caching.py).
    app.config["VISITOR_PAGE_CACHE_SECONDS"] = 0
    seed_catalogue()
    grow(1)
    small = count(client, query_counter, path)
    grow(9)
    assert count(client, query_counter, path) == small


@pytest.mark.parametrize("path", ["/", "/tracks", "/tracks/NUM-TRANS", "/me"])
def test_catalogue_pages_of_a_logged_in_applicant(app, client, query_counter, path):
    """The reasons shown beside each offering (education, applied, limit) cost no query per offering."""
    seed_catalogue()
    applicant = factories.user(profile={"education_level": "secondary"})
    factories.application(applicant, factories.offering())
    db.session.commit()
    factories.login(client, applicant)
    grow(1)
    small = count(client, query_counter, path)
    grow(9)
    assert count(client, query_counter, path) == small


@pytest.mark.parametrize("path", ["/admin/offerings", "/admin/users"])
def test_admin_lists(app, query_counter, path):
    seed_catalogue()
    client, _admin = admin_client(app)
    grow(1)
    small = count(client, query_counter, path)
    grow(9)
    assert count(client, query_counter, path) == small


def test_the_register_list(app, query_counter):
    """Each entry's city and count of members come with the entries, not one query each."""
    from portal.associations.operations import find_or_declare
    from portal.vocabulary import AssociationField

    def grow_register(times):
        for _ in range(times):
            city = factories.city()
            entry = find_or_declare(
                name_fr="Association",
                registration_number=f"RSK-{city.id}",
                field=AssociationField.SOCIAL,
                city_id=city.id,
            )
            factories.user().profile.association = entry
        db.session.commit()

    client, _admin = admin_client(app)
    grow_register(2)
    small = count(client, query_counter, "/admin/associations")
    grow_register(20)
    assert count(client, query_counter, "/admin/associations") == small


def _association_with_members(count, association=None):
    """A register entry (made when None) with ``count`` more members claiming it; the entry."""
    from portal.associations import membership
    from portal.associations.operations import find_or_declare
    from portal.vocabulary import AssociationField

    association = association or find_or_declare(
        name_fr="Association Al Amal", registration_number="RSK-1", field=AssociationField.SOCIAL
    )
    for _ in range(count):
        member = factories.user()
        member.profile.association = association
        membership.claim(member, association)
    db.session.commit()
    return association


def test_the_referent_page(app, client, query_counter):
    """Each member's name, role and state come with the claims, not one query each."""
    from portal.associations import membership
    from portal.associations.models import Membership
    from portal.vocabulary import Endorsement

    association = _association_with_members(2)
    referent = factories.user()
    association.referents.append(referent)
    db.session.commit()
    factories.login(client, referent)
    small = count(client, query_counter, "/me/association")
    _association_with_members(20, association)
    for claim in db.session.scalars(db.select(Membership).limit(10)):
        membership.decide(referent, claim, Endorsement.ENDORSED)
    db.session.commit()
    assert count(client, query_counter, "/me/association") == small


def test_the_review_page_and_queue_with_endorsements(app, client, query_counter):
    """The endorsement beside the attestation, and in each row of the queue, cost one query."""
    offering = factories.offering()
    reviewer = factories.reviewer(offering)
    association = _association_with_members(2)
    first, second = sorted(association.members, key=lambda p: p.id)
    application = factories.application(first.user, offering)
    factories.application(second.user, offering)
    applied = {first.id, second.id}
    db.session.commit()
    factories.login(client, reviewer)
    page = f"/review/applications/{application.reference}"
    small_page, small_queue = count(client, query_counter, page), count(client, query_counter, "/review")
    _association_with_members(10, association)
    for member in association.members:
        if member.id not in applied:
            factories.application(member.user, offering)
    db.session.commit()
    assert count(client, query_counter, page) == small_page
    assert count(client, query_counter, "/review") == small_queue


def grow_reach(times):
    """Add ``times`` × (a region and city with 2 offerings, 10 applications in every status
    that counts, members of 3 associations, and 2 wishes for a track not offered there)."""
    from portal.applications.models import Interest
    from portal.associations.models import Association

    statuses = ["completed", "completed", "not_completed", "confirmed", "accepted"]
    statuses += ["rejected", "waitlisted", "withdrawn", "submitted", "expired"]
    for _ in range(times):
        city = factories.city()
        first, second = factories.offering(city=city), factories.offering(city=city)
        entries = []
        for i in range(3):
            entry = Association(name_fr="A", registration_number=f"Q-{city.id}-{i}", field="social")
            db.session.add(entry)
            entries.append(entry)
        db.session.flush()
        for i, status in enumerate(statuses):
            applicant = factories.user()
            applicant.profile.association = entries[i % 3]
            factories.application(applicant, first if i % 2 else second, status=status)
        wished = factories.track()
        for _ in range(2):
            db.session.add(Interest(applicant_id=factories.user().id, track_id=wished.id, city_id=city.id))
    db.session.commit()


@pytest.mark.parametrize("path", ["/admin/reach", "/programme"])
def test_reach_pages(app, query_counter, path):
    """The reach's figures are GROUP BY queries: as many at 10 applications as at 120."""
    app.config["VISITOR_PAGE_CACHE_SECONDS"] = 0
    seed_catalogue()
    client, _admin = admin_client(app)
    grow_reach(1)
    small = count(client, query_counter, path)
    grow_reach(11)
    assert count(client, query_counter, path) == small
    # And for a visitor, who is not logged in.
    if path == "/programme":
        visitor = app.test_client()
        assert count(visitor, query_counter, path) <= small


@pytest.mark.parametrize(("path", "most"), [("/admin", 9), ("/admin?status=submitted", 10)])
def test_dashboard_reads_as_many_queries_at_ten_times_the_applications(app, query_counter, path, most):
    """Issue 16: /admin, uncached, reads the kept counts: as many queries at 10 as at 120.

    And few: each table the page shows is one statement (the arrivals per day two with a
    status filter), beside the session's.
    """
    seed_catalogue()
    client, _admin = admin_client(app)
    grow_reach(1)
    small = count(client, query_counter, path)
    assert small <= most
    grow_reach(11)
    assert count(client, query_counter, path) == small


def test_a_submission_runs_as_many_statements_at_ten_times_the_data(app, client, query_counter):
    """Applying reads the applicant's applications once and writes each row with one statement."""
    from tests.helpers import post_application

    app.config["MAX_ACTIVE_APPLICATIONS"] = 10
    applicant = factories.user()
    offerings = [factories.offering() for _ in range(3)]
    db.session.commit()
    factories.login(client, applicant)
    assert post_application(client, offerings[0]).status_code == 302  # warm caches
    grow(1)

    def submission(offering):
        with query_counter() as counter:
            assert post_application(client, offering).status_code == 302
        return counter.count

    small = submission(offerings[1])
    # Session, profile, offering with its track and city, the applicant's applications, two
    # savepoints (set and released), application, reference, documents, two counts, status
    # change, email; SQLite adds its own statements (BEGIN IMMEDIATE...).
    assert small <= (18 if db.engine.dialect.name == "sqlite" else 16)
    grow(9)
    assert submission(offerings[2]) == small
