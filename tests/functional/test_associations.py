"""The register of associations (issue 14, item 1): its operations, called directly."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.associations import operations as assoc_ops
from portal.associations.models import Association
from portal.associations.operations import AssociationError
from portal.audit import AuditEvent
from portal.auth import operations as auth_ops
from portal.auth.operations import AccountError
from portal.extensions import db
from portal.vocabulary import AssociationField, AssociationState
from tests import factories


def _declare(number="RSK-2015-0421", name="Association Al Amal", **kw):
    return assoc_ops.find_or_declare(
        name_fr=name, registration_number=number, field=AssociationField.SOCIAL, **kw
    )


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("RSK-2015-0421", "RSK20150421"),
        ("rsk 2015 0421", "RSK20150421"),
        ("RSK/2015/0421", "RSK20150421"),
        (" rsk.2015_0421 ", "RSK20150421"),
        ("RSK\u00a02015\t0421", "RSK20150421"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_number_is_normalised_whatever_its_spelling(typed, key):
    assert assoc_ops.normalise_registration(typed) == key


def test_a_new_number_declares_an_entry_to_verify(app, city):
    entry = _declare(
        city_id=city.id, name_ar="جمعية الأمل", founded_year=2015, contact_email=" Contact@Amal.MA "
    )
    assert entry.id is not None
    assert entry.state == AssociationState.TO_VERIFY
    assert entry.registration_number == "RSK-2015-0421"
    assert entry.registration_key == "RSK20150421"
    assert (entry.city_id, entry.name_ar, entry.founded_year) == (city.id, "جمعية الأمل", 2015)
    assert entry.contact_email == "contact@amal.ma"


def test_the_same_number_in_another_spelling_finds_the_same_entry(app):
    first = _declare()
    again = assoc_ops.find_or_declare(
        name_fr="Autre nom tapé", registration_number="rsk/2015/0421", field=AssociationField.HEALTH
    )
    assert again.id == first.id
    # What one member types never overwrites the register.
    assert (again.name_fr, again.field) == ("Association Al Amal", AssociationField.SOCIAL)
    assert db.session.scalar(select(func.count(Association.id))) == 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name_fr": "  "}, "name_fr"),
        ({"registration_number": " - / "}, "registration_number"),
        ({"field": "bogus"}, "field"),
        ({"founded_year": 1800}, "founded_year"),
        ({"founded_year": 9999}, "founded_year"),
        ({"contact_email": "pas une adresse"}, "contact_email"),
    ],
)
def test_a_declaration_that_breaks_a_rule_is_refused_on_its_field(app, values, field):
    arguments = {"name_fr": "Association", "registration_number": "RSK-1", "field": AssociationField.SOCIAL}
    arguments.update(values)
    with pytest.raises(AssociationError) as refused:
        assoc_ops.find_or_declare(**arguments)
    assert refused.value.field == field
    assert db.session.scalar(select(func.count(Association.id))) == 0


def test_an_administrator_edits_an_entry_and_the_change_is_audited(app, city):
    admin = factories.user(role="admin")
    entry = _declare()
    assoc_ops.update_association(
        admin,
        entry,
        name_fr="Association Al Amal Rabat",
        registration_number="RSK 2015 0422",
        city_id=city.id,
    )
    assert entry.registration_key == "RSK20150422"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "association_changed"))
    assert event.object_id == str(entry.id)
    assert event.before == {
        "name_fr": "Association Al Amal",
        "registration_number": "RSK-2015-0421",
        "city_id": None,
    }
    assert event.after["registration_number"] == "RSK 2015 0422"
    assert "registration_key" not in event.after


def test_an_edit_cannot_take_the_number_of_another_entry(app):
    admin = factories.user(role="admin")
    _declare()
    other = _declare("RSK-2020-0001", name="Association Nour")
    with pytest.raises(AssociationError) as refused:
        assoc_ops.update_association(admin, other, registration_number="rsk 2015 0421")
    assert refused.value.field == "registration_number"
    assert other.registration_key == "RSK20200001"
    # Its own number in another spelling is no conflict.
    assoc_ops.update_association(admin, other, registration_number="RSK/2020/0001")
    assert other.registration_number == "RSK/2020/0001"


def test_verifying_marks_the_entry_once_and_is_audited(app):
    admin = factories.user(role="admin")
    entry = _declare()
    assoc_ops.verify_association(admin, entry)
    assert entry.state == AssociationState.VERIFIED
    with pytest.raises(AssociationError):
        assoc_ops.verify_association(admin, entry)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "association_verified")).all()
    assert [(e.before, e.after) for e in events] == [({"state": "to_verify"}, {"state": "verified"})]


def test_merging_moves_every_member_to_the_entry_kept_and_deletes_the_other(app):
    admin = factories.user(role="admin")
    keep = _declare()
    drop = _declare("RSK-2015-0412", name="Association Al Amal (doublon)")
    members = [factories.user() for _ in range(3)]
    members[0].profile.association = keep
    members[1].profile.association = drop
    members[2].profile.association = drop
    db.session.flush()
    drop_id = drop.id
    assoc_ops.merge_associations(admin, keep, drop)
    assert db.session.get(Association, drop_id) is None
    assert {m.profile.association_id for m in members} == {keep.id}
    assert len(keep.members) == 3
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "associations_merged"))
    assert event.object_id == str(keep.id)
    assert event.before["merged"] == drop_id
    assert event.after == {"members": sorted([members[1].profile.id, members[2].profile.id])}


def test_an_entry_is_not_merged_with_itself(app):
    admin = factories.user(role="admin")
    entry = _declare()
    with pytest.raises(AssociationError):
        assoc_ops.merge_associations(admin, entry, entry)
    assert db.session.get(Association, entry.id) is entry


# The operations that write a profile keep the register in step with what applicants type.

STRONG = "quatre chameaux traversent lentement Ouarzazate"


def _profile(n, number, city, name="Association Al Amal"):
    return {
        "first_name": "Amina",
        "last_name": f"Membre{n}",
        "first_name_ar": None,
        "last_name_ar": None,
        "cin": f"AB{n:06d}",
        "birth_date": date(1990, 1, 1),
        "phone": "+212600000000",
        "city_id": city.id,
        "education_level": "licence",
        "association_name": name,
        "association_registration": number,
        "association_city_id": city.id,
        "association_field": AssociationField.SOCIAL,
        "association_role": "Membre",
        "association_years": 2,
    }


def _register(n, number, city, **kw):
    return auth_ops.register_applicant(f"membre{n}@example.ma", STRONG, _profile(n, number, city, **kw), "fr")


def test_registering_links_members_of_one_number_to_one_entry(app, city):
    members = [_register(n, number, city) for n, number in enumerate(("RSK-2015-0421", "rsk 2015 0421"), 1)]
    other = _register(3, "RSK-2020-0001", city, name="Association Nour")
    first, second = (m.profile.association for m in members)
    assert first is not None and first is second
    assert (first.registration_key, first.state, first.city_id) == (
        "RSK20150421",
        AssociationState.TO_VERIFY,
        city.id,
    )
    assert other.profile.association.name_fr == "Association Nour"
    assert other.profile.association is not first
    # The free text stays as each one typed it.
    assert members[1].profile.association_registration == "rsk 2015 0421"


def test_a_number_of_only_separators_is_refused_before_accounts_are_looked_at(app, city):
    factories.user(email="membre1@example.ma")
    for n in (1, 2):  # a taken address and a free one: the same refusal
        with pytest.raises(AccountError) as refused:
            _register(n, " - / ", city)
        assert refused.value.field == "association_registration"
    assert db.session.scalar(select(func.count(Association.id))) == 0


def test_a_registration_that_creates_no_account_declares_no_association(app, city):
    factories.user(email="membre1@example.ma")
    assert _register(1, "RSK-2015-0421", city) is None
    assert db.session.scalar(select(func.count(Association.id))) == 0


def test_a_profile_update_relinks_only_when_the_number_changes(app, city):
    admin = factories.user(role="admin")
    member = _register(1, "RSK-2015-0421", city)
    entry = member.profile.association
    # Another spelling of the same number: the same entry.
    auth_ops.update_account(member, None, "fr", profile={"association_registration": "RSK/2015/0421"})
    assert member.profile.association is entry
    # A new number: a new entry to verify.
    auth_ops.update_account(member, None, "fr", profile={"association_registration": "RSK-2019-0042"})
    moved_to = member.profile.association
    assert moved_to is not entry and moved_to.registration_key == "RSK20190042"
    # Merged by an administrator: the member follows, and a later edit of another field keeps it.
    assoc_ops.merge_associations(admin, entry, moved_to)
    assert member.profile.association is entry
    auth_ops.update_account(member, None, "fr", profile={"association_role": "Trésorière"})
    assert member.profile.association is entry
    assert db.session.scalar(select(func.count(Association.id))) == 1


def test_a_profile_without_a_link_is_linked_at_its_next_update(app):
    member = factories.user()
    assert member.profile.association is None
    auth_ops.update_account(member, None, "fr", profile={"association_role": "Présidente"})
    assert member.profile.association.registration_key == assoc_ops.normalise_registration(
        member.profile.association_registration
    )


def test_an_anonymised_member_leaves_the_register_entry(app, city):
    from portal.privacy import operations as privacy_ops

    member = _register(1, "RSK-2015-0421", city)
    entry = member.profile.association
    privacy_ops.anonymise_user(member)
    assert member.profile.association is None
    assert db.session.get(Association, entry.id) is entry


def test_concurrent_declarations_of_one_number_make_one_entry(app):
    """Eight members declare the same new number at once (in varied spellings): one entry, the same
    for all, and no error; each worker has its own app context, session and connection."""
    spellings = ["RSK-2015-0421", "rsk 2015 0421", "RSK/2015/0421", "rsk.2015.0421"] * 2
    barrier = threading.Barrier(len(spellings))
    lock = threading.Lock()
    found, errors = [], []

    def declare(number):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                entry = assoc_ops.find_or_declare(
                    name_fr="Association Al Amal", registration_number=number, field=AssociationField.SOCIAL
                )
                entry_id = entry.id
                db.session.commit()
                with lock:
                    found.append(entry_id)
            except Exception as error:  # noqa: BLE001 - any error fails the test
                db.session.rollback()
                with lock:
                    errors.append(repr(error))
            finally:
                db.session.remove()

    db.session.remove()  # the main thread holds nothing while the workers run
    workers = [threading.Thread(target=declare, args=(number,)) for number in spellings]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert not worker.is_alive(), "a worker hung"
    assert errors == []
    assert len(found) == len(spellings) and len(set(found)) == 1
    assert db.session.scalar(select(func.count(Association.id))) == 1
