"""Membership endorsed by the association (issue 14, item 2): referents, claims, decisions."""

import html
import json
import re

import pytest
from sqlalchemy import func, select

from portal.applications.workflow import NotEndorsed, promote_waitlist, transition
from portal.associations import membership
from portal.associations import operations as assoc_ops
from portal.associations.membership import MembershipError
from portal.associations.models import Association, Membership
from portal.auth import operations as auth_ops
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.vocabulary import ApplicationStatus, AssociationField, Endorsement
from tests import factories
from tests.helpers import admin_client, audit_events, find_link, message_html, message_text, page_text
from tests.security import formdata

A = ApplicationStatus


def _association(number="RSK-2015-0421", name="Association Al Amal"):
    return assoc_ops.find_or_declare(name_fr=name, registration_number=number, field=AssociationField.SOCIAL)


def _member(association, **kw):
    """An applicant whose profile names ``association`` (their claim pending)."""
    applicant = factories.user(**kw)
    applicant.profile.association = association
    membership.claim(applicant, association)
    return applicant


def _referent(association, role="applicant", **kw):
    account = factories.user(role, **kw)
    association.referents.append(account)
    db.session.flush()
    return account


def _logged_in(app, user):
    client = app.test_client()
    assert factories.login(client, user).status_code == 302
    return client


def _claim(user):
    db.session.flush()
    db.session.expire_all()
    return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


@pytest.fixture
def amal(app):
    """One association, its referent (an applicant too) and two members who claim it."""
    association = _association()
    referent = _referent(association)
    first, second = _member(association), _member(association)
    db.session.commit()
    return association, referent, first, second


# The referent's page and its decisions ----------------------------------------------------


def test_a_referent_endorses_one_member_and_declines_the_other(app, amal):
    association, referent, first, second = amal
    client = _logged_in(app, referent)
    page = client.get("/me/association")
    assert page.status_code == 200
    text = page_text(page)
    assert first.profile.full_name in text and second.profile.full_name in text
    assert "Membre" in text  # the role in the association
    # Names and role only: no CIN, phone or email of the members.
    for secret in (first.profile.cin, first.profile.phone, first.email):
        assert secret not in text

    endorse = {"decision": Endorsement.ENDORSED.value}
    decline = {"decision": Endorsement.DECLINED.value}
    response = client.post(f"/me/association/members/{_claim(first).id}", data=endorse)
    assert response.status_code == 302 and response.location == "/me/association"
    assert client.post(f"/me/association/members/{_claim(second).id}", data=decline).status_code == 302

    one, two = _claim(first), _claim(second)
    assert (one.state, one.decided_by_id) == (Endorsement.ENDORSED, referent.id)
    assert (two.state, two.decided_by_id) == (Endorsement.DECLINED, referent.id)
    assert one.decided_at is not None
    [event, _other] = audit_events("membership_decided")
    assert event.actor_id == referent.id and event.after == {"state": Endorsement.ENDORSED.value}


def test_pending_members_come_first(app, amal):
    association, referent, first, second = amal
    membership.decide(referent, _claim(first), Endorsement.ENDORSED)
    db.session.commit()
    page = page_text(_logged_in(app, referent).get("/me/association"))
    assert page.index(second.profile.full_name) < page.index(first.profile.full_name)


def test_a_referent_cannot_decide_on_their_own_membership(app, amal):
    association, referent, _first, _second = amal
    membership.claim(referent, association)
    referent.profile.association = association
    db.session.commit()
    own = _claim(referent)
    with pytest.raises(MembershipError) as refused:
        membership.decide(referent, own, Endorsement.ENDORSED)
    assert "votre propre adhésion" in str(refused.value)

    client = _logged_in(app, referent)
    page = page_text(client.get("/me/association"))
    assert "Votre propre adhésion : un autre référent la confirme." in page
    response = client.post(f"/me/association/members/{own.id}", data={"decision": Endorsement.ENDORSED.value})
    assert response.status_code == 302
    assert "votre propre adhésion" in page_text(client.get(response.location))
    assert _claim(referent).state == Endorsement.PENDING
    assert audit_events("membership_decided") == []


def test_only_referents_of_the_association_see_the_page_and_decide(app, amal):
    association, referent, first, second = amal
    elsewhere = _association("OTHER-1", "Autre association")
    other_referent = _referent(elsewhere)
    db.session.commit()
    claim_id = _claim(first).id
    endorse = {"decision": Endorsement.ENDORSED.value}
    for account in (first, other_referent, factories.user("reviewer"), factories.user("admin")):
        db.session.commit()
        client = _logged_in(app, account)
        if account is other_referent:
            assert client.get("/me/association").status_code == 200
            assert first.profile.full_name not in page_text(client.get("/me/association"))
        else:
            assert client.get("/me/association").status_code == 404
        assert client.post(f"/me/association/members/{claim_id}", data=endorse).status_code == 404
    assert client.post("/me/association/members/999999", data=endorse).status_code == 404
    assert _claim(first).state == Endorsement.PENDING
    # And the operation refuses them too (CLI, tests: not only the page).
    with pytest.raises(MembershipError):
        membership.decide(other_referent, _claim(first), Endorsement.ENDORSED)


def test_an_unknown_decision_is_refused_without_error(app, amal):
    association, referent, first, _second = amal
    client = _logged_in(app, referent)
    for value in ("", "accepted", Endorsement.PENDING.value):
        response = client.post(f"/me/association/members/{_claim(first).id}", data={"decision": value})
        assert response.status_code == 302
    assert _claim(first).state == Endorsement.PENDING


def test_the_page_is_paginated(app, amal):
    association, referent, _first, _second = amal
    app.config["PAGE_SIZE"] = 2
    _member(association)
    db.session.commit()
    client = _logged_in(app, referent)
    first_page = page_text(client.get("/me/association"))
    assert first_page.count('id="member-') == 2 and "Page 1 sur 2" in first_page
    assert page_text(client.get("/me/association?page=2")).count('id="member-') == 1


# Claims follow the profile; referents are told by email ------------------------------------


def test_changing_association_in_the_profile_emails_the_referents_and_resets_the_claim(
    app, amal, deliver, smtp_server
):
    association, referent, first, _second = amal
    referent.locale = "ar"
    other = _association("NEW-7", "Nouvelle association")
    other_referent = _referent(other, role="reviewer", locale="en")
    address, cin = other_referent.email, first.profile.cin
    membership.decide(referent, _claim(first), Endorsement.ENDORSED)
    db.session.commit()

    client = _logged_in(app, first)
    data = formdata.profile(
        first, last_name="Tazi", association_registration="new 7", association_name="Nouvelle association"
    )
    response = client.post("/me/profile", data=data)
    assert response.status_code == 302, re.findall(r"invalid-feedback[^>]*>([^<]*)", page_text(response))
    claim = _claim(first)
    assert (claim.association_id, claim.state, claim.decided_by_id) == (other.id, Endorsement.PENDING, None)
    claim_id = claim.id

    deliver()
    smtp_server.wait_for(2)
    [message] = smtp_server.to(address)
    assert message["Subject"] == "A member of Nouvelle association is waiting for your confirmation"
    assert find_link(message, "/me/association") == "/me/association"
    assert "Amina Tazi" in message_text(message) and "/me/association" in message_html(message)
    assert cin not in message_text(message)

    # The same number in another spelling keeps the claim and tells nobody again.
    smtp_server.clear()
    first = db.session.merge(first)
    data = formdata.profile(first, association_registration="NEW/7")
    assert client.post("/me/profile", data=data).status_code == 302
    assert _claim(first).id == claim_id
    # Two for the fixture's members, one for the move: none for the new spelling.
    assert db.session.scalar(select(func.count()).where(OutboxEmail.template == "membership_claimed")) == 3


def test_the_referent_email_is_written_in_each_language(app, amal):
    association, referent, _first, _second = amal
    for locale, words in (("fr", "attend votre confirmation"), ("ar", "ينتظر"), ("en", "waiting")):
        referent.locale = locale
        _member(association)
        email = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
        assert email.template == "membership_claimed" and email.locale == locale
        assert words in email.subject, (locale, email.subject)
        assert "/me/association" in email.body_text and "/me/association" in email.body_html


def test_no_referent_means_no_email(app):
    association = _association()
    _member(association)
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    assert _claim(association.members[0].user).state == Endorsement.PENDING


# Administrators name referents ----------------------------------------------------------


def test_an_administrator_names_and_removes_a_referent_by_email(app):
    association = _association()
    president = factories.user(email="president@amal.ma")
    client, admin = admin_client(app)
    page = page_text(client.get(f"/admin/associations/{association.id}/edit"))
    assert "Aucun référent." in page
    response = client.post(
        f"/admin/associations/{association.id}/referents", data={"email": " President@Amal.MA "}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [r.id for r in db.session.get(Association, association.id).referents] == [president.id]
    [added] = audit_events("referent_added")
    assert added.actor_id == admin.id and added.after == {"referent": president.id}
    assert "president@amal.ma" in page_text(client.get(f"/admin/associations/{association.id}/edit"))

    # Unknown addresses and duplicates are refused with a message.
    for email, message in (
        ("nobody@example.org", "Aucun compte actif n'a cette adresse email."),
        ("president@amal.ma", "Ce compte est déjà référent de cette association."),
    ):
        response = client.post(f"/admin/associations/{association.id}/referents", data={"email": email})
        assert message in page_text(client.get(response.location))

    response = client.post(f"/admin/associations/{association.id}/referents/{president.id}/remove")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Association, association.id).referents == []
    assert len(audit_events("referent_removed")) == 1


def test_merging_two_associations_carries_their_claims_and_referents(app, amal):
    association, referent, first, second = amal
    duplicate = _association("RSK-2099-1", "Amal (doublon)")
    other_referent = _referent(duplicate)
    third = _member(duplicate)
    membership.decide(other_referent, _claim(third), Endorsement.ENDORSED)
    admin = factories.user("admin")
    assoc_ops.merge_associations(admin, association, duplicate)
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(Association, association.id)
    assert {r.id for r in kept.referents} == {referent.id, other_referent.id}
    claims = db.session.scalars(select(Membership).order_by(Membership.id)).all()
    assert {c.association_id for c in claims} == {association.id}
    assert _claim(third).state == Endorsement.ENDORSED
    assert first.id in {c.user_id for c in claims} and second.id in {c.user_id for c in claims}


def test_an_erased_account_leaves_no_claim_and_no_referent_role(app, amal):
    from portal.privacy.operations import anonymise_user

    association, referent, first, _second = amal
    anonymise_user(first)
    anonymise_user(referent)
    db.session.commit()
    assert _claim(first) is None
    db.session.expire_all()
    assert db.session.get(Association, association.id).referents == []


# The workflow: endorsement required ------------------------------------------------------


def test_an_offering_that_requires_endorsement_refuses_to_accept_without_it(app, amal):
    association, referent, first, second = amal
    offering = factories.offering(endorsement_required=True)
    open_offering = factories.offering()
    staff = factories.reviewer(offering, open_offering)
    loner = factories.user()  # no association at all
    applications = [factories.application(u, offering) for u in (first, second, loner)]
    membership.decide(referent, _claim(first), Endorsement.ENDORSED)
    membership.decide(referent, _claim(second), Endorsement.DECLINED)
    transition(applications[0], A.ACCEPTED, staff)
    for application in applications[1:]:
        with pytest.raises(NotEndorsed) as refused:
            transition(application, A.ACCEPTED, staff)
        assert "adhésion confirmée par l'association" in str(refused.value)
        assert application.status == A.SUBMITTED
    db.session.refresh(offering)
    assert offering.seats_held == 1
    # Not required: the same member is accepted whatever their endorsement.
    transition(factories.application(second, open_offering), A.ACCEPTED, staff)


def test_the_refusal_shows_on_the_review_page_with_its_reason(app, amal):
    association, referent, first, second = amal
    offering = factories.offering(endorsement_required=True)
    reviewer = factories.reviewer(offering)
    application = factories.application(second, offering)
    db.session.commit()
    client = _logged_in(app, reviewer)
    page = client.get(f"/review/applications/{application.reference}")
    form = page_text(page)
    assert "Cette session exige une adhésion confirmée" in form
    version = application.version
    response = client.post(
        f"/review/applications/{application.reference}/decide",
        data={"decision": A.ACCEPTED.value, "version": version, "note": ""},
        follow_redirects=True,
    )
    text = page_text(response)
    assert "n'est pas confirmée par un référent de son association" in text
    db.session.expire_all()
    assert _status(application) == A.SUBMITTED


def _status(application):
    from portal.applications.models import Application

    return db.session.scalar(select(Application.status).where(Application.id == application.id))


def test_promotion_skips_members_not_endorsed_and_takes_the_next(app, amal):
    association, referent, first, second = amal
    offering = factories.offering(seats=1, endorsement_required=True)
    holder = factories.user()
    staff = factories.reviewer(offering)
    membership.decide(referent, _claim(first), Endorsement.ENDORSED)
    # The second member is ahead on the waitlist (better score) but not endorsed.
    ahead = factories.application(second, offering, status=A.WAITLISTED, mean_score=5)
    behind = factories.application(first, offering, status=A.WAITLISTED, mean_score=2)
    membership.decide(referent, _claim(second), Endorsement.DECLINED)
    offering.endorsement_required = False
    seat = factories.application(holder, offering, status=A.ACCEPTED)
    offering.endorsement_required = True
    db.session.flush()
    transition(seat, A.WITHDRAWN, holder)
    assert _status(ahead) == A.WAITLISTED
    assert _status(behind) == A.ACCEPTED
    assert promote_waitlist(offering) == []
    assert staff  # the reviewer only assigns the offering


# What reviewers and the applicant see ----------------------------------------------------


def test_reviewers_see_each_state_beside_the_attestation_and_in_the_queue(app, amal):
    association, referent, first, second = amal
    offering = factories.offering()
    reviewer = factories.reviewer(offering)
    loner = factories.user()
    applications = {u.id: factories.application(u, offering) for u in (first, second, loner, referent)}
    membership.claim(referent, association)
    referent.profile.association = association
    membership.decide(referent, _claim(first), Endorsement.ENDORSED)
    membership.decide(referent, _claim(second), Endorsement.DECLINED)
    db.session.commit()
    client = _logged_in(app, reviewer)
    expected = {
        first.id: Endorsement.ENDORSED,
        second.id: Endorsement.DECLINED,
        referent.id: Endorsement.PENDING,
    }
    for user_id, application in applications.items():
        page = client.get(f"/review/applications/{application.reference}").get_data(as_text=True)
        start = page.index('id="endorsement"')
        section = page[start : page.index("</p>", start)]
        if user_id in expected:
            state = expected[user_id]
            assert f'data-endorsement="{state.value}"' in section
            assert str(state.label) in html.unescape(section)
        else:
            assert "aucune association du registre" in section, user_id
    queue = client.get("/review").get_data(as_text=True)
    for state in Endorsement:
        assert queue.count(f'data-endorsement="{state.value}"') == 1


def test_the_applicant_export_holds_the_endorsement(app, amal):
    association, referent, first, _second = amal
    membership.decide(referent, _claim(first), Endorsement.ENDORSED)
    db.session.commit()
    data = json.loads(_logged_in(app, first).get("/me/data.json").get_data(as_text=True))
    assert data["association_membership"]["endorsement"] == Endorsement.ENDORSED.value
    assert data["association_membership"]["association"] == "Association Al Amal"
    assert data["association_membership"]["decided_at"]
    assert data["referent_of"] == []
    mine = json.loads(_logged_in(app, referent).get("/me/data.json").get_data(as_text=True))
    assert mine["referent_of"] == ["Association Al Amal"]


def test_an_administrator_requires_endorsement_on_an_offering(app):
    offering = factories.offering()
    client, admin = admin_client(app)
    page = page_text(client.get(f"/admin/offerings/{offering.id}"))
    assert "Adhésion confirmée par l'association exigée" in page
    assert offering.endorsement_required is False


def test_registration_claims_the_association_and_tells_its_referents(app, client, city):
    association = _association("REC-2019-0042", "Association Espoir Jeunesse")
    referent = _referent(association)
    db.session.commit()
    response = client.post("/auth/register", data=formdata.registration(city))
    assert response.status_code == 302
    user = auth_ops.find_user_by_email("amina.new@example.org")
    claim = _claim(user)
    assert (claim.association_id, claim.state) == (association.id, Endorsement.PENDING)
    [email] = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.template == "membership_claimed")
    ).all()
    assert email.to_address == referent.email and "Amina El Idrissi" in email.body_text


def test_the_admin_offering_form_saves_the_requirement_and_audits_it(app, client):
    from portal.catalog.models import Offering

    admin = factories.user("admin")
    offering = factories.offering(seats=10)
    db.session.commit()
    factories.login(client, admin)
    assert 'name="endorsement_required"' in client.get(f"/admin/offerings/{offering.id}").text
    form = {
        "seats": "10",
        "max_seats_per_association": "",
        "opens_on": offering.opens_at.date().isoformat(),
        "closes_on": offering.closes_at.date().isoformat(),
        "status": offering.status,
        "endorsement_required": "y",
    }
    assert client.post(f"/admin/offerings/{offering.id}", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Offering, offering.id).endorsement_required is True
    [event] = audit_events("offering_changed")
    assert event.after == {"endorsement_required": True}
    del form["endorsement_required"]
    assert client.post(f"/admin/offerings/{offering.id}", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Offering, offering.id).endorsement_required is False


def test_the_bulk_form_refuses_members_not_endorsed_and_accepts_the_others(app, amal, client):
    association, referent, first, second = amal
    offering = factories.offering(endorsement_required=True)
    reviewer = factories.reviewer(offering)
    endorsed = factories.application(first, offering)
    declined = factories.application(second, offering)
    membership.decide(referent, _claim(first), Endorsement.ENDORSED)
    membership.decide(referent, _claim(second), Endorsement.DECLINED)
    db.session.commit()
    factories.login(client, reviewer)
    response = client.post(
        "/review/decide",
        data={"references": [endorsed.reference, declined.reference], "decision": A.ACCEPTED.value},
    )
    report = page_text(client.get(response.headers["Location"]))
    assert "n'est pas confirmée par un référent de son association" in report
    assert (_status(endorsed), _status(declined)) == (A.ACCEPTED, A.SUBMITTED)


def test_the_command_line_tick_promotes_past_members_not_endorsed(app, amal, runner):
    from datetime import timedelta

    from portal.timeutil import utcnow

    association, referent, first, second = amal
    offering = factories.offering(seats=1)
    holder = factories.application(factories.user(), offering, status=A.ACCEPTED)
    holder.confirmation_deadline = utcnow() - timedelta(days=1)
    ahead = factories.application(second, offering, status=A.WAITLISTED, mean_score=5)
    behind = factories.application(first, offering, status=A.WAITLISTED, mean_score=2)
    membership.decide(referent, _claim(first), Endorsement.ENDORSED)
    offering.endorsement_required = True
    db.session.commit()
    result = runner.invoke(args=["workflow", "tick"])
    assert result.exit_code == 0, result.output
    assert (_status(holder), _status(ahead), _status(behind)) == (A.EXPIRED, A.WAITLISTED, A.ACCEPTED)


def test_a_claim_that_moved_meanwhile_is_not_decided_on(app, amal):
    """The referent saw the claim in their association; the member moved before the click."""
    from sqlalchemy import update

    association, referent, first, _second = amal
    other = _association("OTHER-2", "Autre association")
    seen = _claim(first)
    # Another request moves the claim (the referent's copy still says it is theirs).
    db.session.execute(
        update(Membership)
        .where(Membership.id == seen.id)
        .values(association_id=other.id)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(MembershipError) as refused:
        membership.decide(referent, seen, Endorsement.ENDORSED)
    assert "vient d'être modifiée" in str(refused.value)
    assert _claim(first).state == Endorsement.PENDING


def test_the_dashboard_shows_the_member_their_state_and_the_referent_their_page(app, amal):
    association, referent, first, _second = amal
    membership.decide(referent, _claim(first), Endorsement.DECLINED)
    db.session.commit()
    page = page_text(_logged_in(app, first).get("/me"))
    assert "Votre association : Association Al Amal" in page
    assert f'data-endorsement="{Endorsement.DECLINED.value}"' in page
    assert 'href="/me/association"' not in page
    assert 'href="/me/association"' in page_text(_logged_in(app, referent).get("/me"))
