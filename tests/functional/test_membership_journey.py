"""Issue 14, item 2, tried as a new user would: two members register, their referent endorses
one and declines the other, and an offering that requires endorsement accepts accordingly."""

import re

from sqlalchemy import select

from portal.applications.models import Application
from portal.associations.models import Association, Membership
from portal.auth.models import User
from portal.extensions import db
from portal.vocabulary import ApplicationStatus, Endorsement
from tests import factories
from tests.helpers import admin_client, find_link, message_text, page_text, post_application
from tests.security import formdata

A = ApplicationStatus
NUMBER = "REC-2019-0042"


def _register_and_confirm(app, city, deliver, smtp_server, email, cin, first_name, number=NUMBER):
    """Register through the form, confirm through the emailed link, log in; the client."""
    client = app.test_client()
    data = formdata.registration(
        city, email=email, cin=cin, first_name=first_name, association_registration=number
    )
    assert client.post("/auth/register", data=data).status_code == 302
    deliver()
    smtp_server.wait_for(1)
    [message] = [m for m in smtp_server.to(email) if "/auth/confirm/" in message_text(m)]
    assert client.post(find_link(message, "/auth/confirm/")).status_code == 302
    return client


def _user(email):
    db.session.rollback()
    return db.session.scalar(select(User).where(User.email == email))


def _status(reference):
    db.session.rollback()
    return db.session.scalar(select(Application.status).where(Application.reference == reference))


def _reference(email):
    db.session.rollback()
    return db.session.scalar(
        select(Application.reference)
        .join(User, User.id == Application.applicant_id)
        .where(User.email == email)
    )


def _decide(client, reference, decision):
    """Take a decision through the review page's form; the page shown after it."""
    page = client.get(f"/review/applications/{reference}").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    response = client.post(
        f"/review/applications/{reference}/decide",
        data={"decision": decision.value, "version": version, "message": ""},
        follow_redirects=True,
    )
    return page_text(response)


def test_two_members_a_referent_and_an_offering_that_requires_endorsement(app, city, deliver, smtp_server):
    offering = factories.offering(city=city, seats=5, max_seats_per_association=1, endorsement_required=True)
    reviewer = factories.reviewer(offering)
    db.session.commit()
    offering_id, reviewer_email = offering.id, reviewer.email
    city = type("CityId", (), {"id": city.id})()  # the form needs only its id (the object detaches)

    # The president registers first: the association enters the register, to verify.
    president = _register_and_confirm(
        app, city, deliver, smtp_server, "president@amal.ma", "AA111111", "Karim"
    )
    association_id = db.session.scalar(select(Association.id))
    admin, _admin = admin_client(app)
    response = admin.post(
        f"/admin/associations/{association_id}/referents", data={"email": "president@amal.ma"}
    )
    assert response.status_code == 302
    assert "Karim El Idrissi est maintenant référent" in page_text(admin.get(response.location))

    # Two members register with the same number in other spellings: each claim emails him.
    amina = _register_and_confirm(
        app, city, deliver, smtp_server, "amina@amal.ma", "BB222222", "Amina", "rec 2019 0042"
    )
    salma = _register_and_confirm(
        app, city, deliver, smtp_server, "salma@amal.ma", "CC333333", "Salma", "REC/2019/0042"
    )
    to_president = [m for m in smtp_server.to("president@amal.ma") if "/me/association" in message_text(m)]
    assert len(to_president) == 2
    assert "Amina El Idrissi" in message_text(to_president[0])
    assert "Salma El Idrissi" in message_text(to_president[1])
    link = find_link(to_president[1], "/me/association")

    for client in (amina, salma):
        assert post_application(client, offering_id).status_code == 302
    amina_ref, salma_ref = _reference("amina@amal.ma"), _reference("salma@amal.ma")

    # The referent opens the emailed link: both members, pending; he endorses one, declines the other.
    page = page_text(president.get(link))
    assert "Amina El Idrissi" in page and "Salma El Idrissi" in page
    db.session.rollback()
    claims = {
        c.user.email: c.id
        for c in db.session.scalars(select(Membership).where(Membership.association_id == association_id))
    }
    assert set(claims) == {"president@amal.ma", "amina@amal.ma", "salma@amal.ma"}
    president.post(
        f"/me/association/members/{claims['amina@amal.ma']}", data={"decision": Endorsement.ENDORSED}
    )
    response = president.post(
        f"/me/association/members/{claims['salma@amal.ma']}", data={"decision": Endorsement.DECLINED}
    )
    assert "L'adhésion de Salma El Idrissi n'est pas confirmée." in page_text(
        president.get(response.location)
    )
    # His own claim waits for another referent.
    own = president.post(
        f"/me/association/members/{claims['president@amal.ma']}", data={"decision": Endorsement.ENDORSED}
    )
    assert "votre propre adhésion" in page_text(president.get(own.location))

    # The reviewer sees both states beside the attestation.
    staff = app.test_client()
    assert factories.login(staff, _user(reviewer_email)).status_code == 302
    assert str(Endorsement.ENDORSED.label) in page_text(staff.get(f"/review/applications/{amina_ref}"))
    assert str(Endorsement.DECLINED.label) in page_text(staff.get(f"/review/applications/{salma_ref}"))

    # Accepting Amina works; accepting Salma is refused, saying why; she is wait-listed.
    assert "Décision enregistrée" in _decide(staff, amina_ref, A.ACCEPTED)
    refused = _decide(staff, salma_ref, A.ACCEPTED)
    assert "Cette session exige une adhésion confirmée par l'association" in refused
    assert _status(salma_ref) == A.SUBMITTED
    _decide(staff, salma_ref, A.WAITLISTED)

    # The referent reconsiders and endorses Salma: now the limit of one per association refuses her.
    president.post(
        f"/me/association/members/{claims['salma@amal.ma']}", data={"decision": Endorsement.ENDORSED}
    )
    refused = _decide(staff, salma_ref, A.ACCEPTED)
    assert "a atteint la limite de places par association" in refused
    assert _status(salma_ref) == A.WAITLISTED

    # Amina withdraws: her association is under its limit again and promotion chooses Salma.
    assert amina.post(f"/me/applications/{amina_ref}/withdraw").status_code == 302
    assert _status(amina_ref) == A.WITHDRAWN
    assert _status(salma_ref) == A.ACCEPTED
