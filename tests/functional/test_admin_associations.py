"""The register's administration screens (issue 14, item 1): list, edit, verify, merge."""

import pytest
from sqlalchemy import func, select

from portal.associations import operations as assoc_ops
from portal.associations.models import Association
from portal.audit import AuditEvent
from portal.extensions import db
from portal.vocabulary import AssociationField, AssociationState
from tests import factories
from tests.helpers import admin_client


def _entry(number, name, city=None, members=0):
    entry = assoc_ops.find_or_declare(
        name_fr=name,
        registration_number=number,
        field=AssociationField.SOCIAL,
        city_id=city.id if city else None,
    )
    for _ in range(members):
        factories.user().profile.association = entry
    db.session.commit()
    return entry


def test_the_list_searches_by_name_number_and_city_and_filters_by_state(app):
    client, admin = admin_client(app)
    fes = factories.city("Fès")
    amal = _entry("RSK-2015-0421", "Association Al Amal", members=2)
    nour = _entry("RSK-2020-0001", "Association Nour", city=fes)
    assoc_ops.verify_association(admin, nour)
    db.session.commit()
    page = client.get("/admin/associations").get_data(as_text=True)
    assert "Association Al Amal" in page and "Association Nour" in page
    assert "2 membres" in page
    for q, shown, hidden in (
        ("amal", "Al Amal", "Nour"),
        ("rsk 2015/0421", "Al Amal", "Nour"),  # any spelling of the number
        ("fès", "Nour", "Al Amal"),
    ):
        page = client.get("/admin/associations", query_string={"q": q}).get_data(as_text=True)
        assert shown in page and hidden not in page, q
    page = client.get("/admin/associations", query_string={"state": "verified"}).get_data(as_text=True)
    assert "Nour" in page and "Al Amal" not in page
    page = client.get("/admin/associations", query_string={"state": "bogus"}).get_data(as_text=True)
    assert "Nour" in page and "Al Amal" in page
    # In the administration's navigation.
    assert 'href="/admin/associations"' in client.get("/admin").get_data(as_text=True)
    assert amal.id


def test_the_list_is_paginated(app):
    app.config["PAGE_SIZE"] = 2
    client, _admin = admin_client(app)
    for n in range(5):
        _entry(f"RSK-{n}", f"Association {n}")
    first = client.get("/admin/associations").get_data(as_text=True)
    third = client.get("/admin/associations?page=3").get_data(as_text=True)
    assert "Association 0" in first and "Association 4" not in first
    assert "Association 4" in third and "Association 0" not in third


def test_editing_an_entry_refuses_a_number_taken_and_saves_otherwise(app):
    client, _admin = admin_client(app)
    city = factories.city("Rabat")
    entry = _entry("RSK-2015-0421", "Association Al Amal")
    _entry("RSK-2020-0001", "Association Nour")
    form = {
        "name_fr": "Association Al Amal Rabat",
        "name_ar": "جمعية الأمل",
        "registration_number": "rsk 2020 0001",
        "city_id": city.id,
        "field": "health",
        "founded_year": "2015",
        "contact_email": "contact@amal.ma",
    }
    response = client.post(f"/admin/associations/{entry.id}/edit", data=form)
    assert response.status_code == 200
    assert "déjà celui d'une autre association" in response.get_data(as_text=True)
    form["registration_number"] = "RSK-2015-0421/A"
    response = client.post(f"/admin/associations/{entry.id}/edit", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    entry = db.session.get(Association, entry.id)
    assert (entry.name_fr, entry.registration_key, entry.city_id, entry.field) == (
        "Association Al Amal Rabat",
        "RSK20150421A",
        city.id,
        "health",
    )
    assert (entry.founded_year, entry.contact_email, entry.name_ar) == (
        2015,
        "contact@amal.ma",
        "جمعية الأمل",
    )
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "association_changed"))
        == 1
    )


def test_verifying_from_the_list(app):
    client, _admin = admin_client(app)
    entry = _entry("RSK-2015-0421", "Association Al Amal")
    assert client.post(f"/admin/associations/{entry.id}/verify").status_code == 302
    db.session.expire_all()
    assert db.session.get(Association, entry.id).state == AssociationState.VERIFIED
    # Once verified, the button is gone and a second POST is refused with a message.
    assert f"/admin/associations/{entry.id}/verify" not in client.get("/admin/associations").get_data(
        as_text=True
    )
    client.post(f"/admin/associations/{entry.id}/verify")
    assert "déjà vérifiée" in client.get("/admin/associations").get_data(as_text=True)


def test_merging_asks_which_entry_to_keep_and_confirms_before_deleting(app):
    client, _admin = admin_client(app)
    keep = _entry("RSK-2015-0421", "Association Al Amal", members=1)
    drop = _entry("RSK-2015-0412", "Association Al Amal (doublon)", members=2)
    keep_id, drop_id = keep.id, drop.id
    # The search for the entry to keep lists the others (the entry itself is not offered).
    page = client.get(f"/admin/associations/{drop_id}/merge").get_data(as_text=True)
    assert f"keep={keep_id}" in page and f"keep={drop_id}" not in page
    # The confirmation page changes nothing.
    page = client.get(f"/admin/associations/{drop_id}/merge?keep={keep_id}").get_data(as_text=True)
    assert "Confirmez-vous cette fusion ?" in page and "2 membres passent" in page
    assert db.session.get(Association, drop_id) is not None
    response = client.post(f"/admin/associations/{drop_id}/merge", data={"keep": keep_id})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Association, drop_id) is None
    assert len(db.session.get(Association, keep_id).members) == 3
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "associations_merged"))
        == 1
    )


@pytest.mark.parametrize("keep", [None, "self", 999999])
def test_a_merge_without_a_valid_entry_to_keep_changes_nothing(app, keep):
    client, _admin = admin_client(app)
    drop = _entry("RSK-2015-0412", "Association Al Amal (doublon)")
    data = {} if keep is None else {"keep": drop.id if keep == "self" else keep}
    response = client.post(f"/admin/associations/{drop.id}/merge", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/associations/{drop.id}/merge")
    db.session.expire_all()
    assert db.session.get(Association, drop.id) is not None


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_register_pages_are_translated(app, language):
    client, _admin = admin_client(app)
    entry = _entry("RSK-2015-0421", "Association Al Amal", members=1)
    other = _entry("RSK-2020-0001", "Association Nour")
    client.post(f"/lang/{language}")
    words = {"ar": ("قيد التحقق", "دمج"), "en": ("To verify", "Merge")}[language]
    page = client.get("/admin/associations").get_data(as_text=True)
    assert all(word in page for word in words), language
    for path in (
        f"/admin/associations/{entry.id}/edit",
        f"/admin/associations/{entry.id}/merge",
        f"/admin/associations/{entry.id}/merge?keep={other.id}",
    ):
        page = client.get(path).get_data(as_text=True)
        assert "Association à fusionner" not in page and "Confirmez-vous" not in page, path
        assert "Modifier l&#39;association" not in page and "Modifier l'association" not in page, path


def test_the_search_for_the_entry_to_keep_is_paginated(app):
    app.config["PAGE_SIZE"] = 2
    client, _admin = admin_client(app)
    drop = _entry("RSK-9", "Association Z")
    for n in range(4):
        _entry(f"RSK-{n}", f"Association {n}")
    first = client.get(f"/admin/associations/{drop.id}/merge?q=association").get_data(as_text=True)
    assert f"/admin/associations/{drop.id}/merge?page=2&amp;q=association" in first
    third = client.get(f"/admin/associations/{drop.id}/merge?q=association&page=3").get_data(as_text=True)
    assert "Association Z" in third  # the entry itself, named at the top, never offered
    assert f"keep={drop.id}" not in third
