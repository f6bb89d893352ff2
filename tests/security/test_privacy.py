"""Issue 6 points 14–16 (law 09-08): notice and consent, access and erasure, retention purge."""

import html
import json
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.applications.models import Application, Document, Interest, StatusChange
from portal.auth.models import ApplicantProfile, User
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.review.models import Review
from portal.timeutil import utcnow
from tests import factories
from tests.helpers import field_error
from tests.security import formdata
from tests.security import world as w

NOW = datetime(2027, 3, 15, 10, 0)


def text_of(response):
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def statistics():
    """Applications per offering and status: the programme's anonymous statistics."""
    db.session.expire_all()
    return Counter(
        {
            (offering_id, status): n
            for offering_id, status, n in db.session.execute(
                select(Application.offering_id, Application.status, func.count()).group_by(
                    Application.offering_id, Application.status
                )
            )
        }
    )


# Point 14: the notice and consent ------------------------------------------------------


def test_the_notice_states_purpose_controller_retention_rights_and_cndp_number(app):
    app.config.update(RETENTION_MONTHS=36, CNDP_DECLARATION="D-GC-123/2027", PRIVACY_NOTICE_VERSION="2027-01")
    client = w.new_client(app)
    page = text_of(client.get("/privacy"))
    for expected in (
        "Responsable du traitement",
        "Finalité",
        "examiner votre candidature",
        "anonymisées 36 mois après la clôture",
        "Déclaration CNDP n° D-GC-123/2027",
        "Version de la notice : 2027-01",
        "droit d'accès, de rectification, d'opposition et de suppression",
        "Comment exercer vos droits",
        app.config["PRIVACY_CONTACT"],
    ):
        assert expected in page, expected
    body = client.get("/privacy").get_data(as_text=True)
    for link in ('href="/me/data.json"', 'href="/me/profile"', 'href="/me/delete"'):
        assert link in body


def test_registration_without_consent_is_refused(app):
    city = factories.city()
    client = w.new_client(app)
    response = client.post("/auth/register", data=formdata.registration(city, consent=None))
    assert response.status_code in (200, 422)
    assert field_error(response, "consent") == "Votre accord est nécessaire pour créer un compte."
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_consent_is_recorded_with_its_time_and_the_notice_version(app, clock):
    clock.set(NOW)
    app.config["PRIVACY_NOTICE_VERSION"] = "2027-01"
    city = factories.city()
    response = w.new_client(app).post("/auth/register", data=formdata.registration(city))
    assert response.status_code == 302
    user = db.session.scalars(select(User)).one()
    assert (user.consent_at, user.consent_version) == (NOW, "2027-01")


# Point 15: access (/me/data.json) and erasure (/me/delete) ------------------------------


@pytest.fixture
def applicant_with_history(app):
    """An applicant with applications (history, documents), an interest and emails; and others."""
    owner = factories.user(profile={"cin": "QZ778899", "phone": "+212661234567", "last_name": "Bennani"})
    offering = factories.offering(seats=1)
    accepted = factories.application(owner, offering, status="accepted")
    # The decision's message to the applicant, on the change the workflow wrote.
    accepted.history[-1].note = "Bienvenue !"
    document = w.add_document(accepted)
    waiting = factories.application(factories.user(), offering, status="waitlisted", mean_score=10.0)
    rejected = factories.application(owner, factories.offering(), status="rejected")
    submitted = factories.application(owner, factories.offering())
    w.add_document(submitted, kind="cin")
    reviewer = factories.reviewer(offering)
    db.session.add(
        Review(
            application_id=accepted.id,
            reviewer_id=reviewer.id,
            score_motivation=4,
            score_engagement=4,
            score_fit=4,
            recommendation="accept",
            comment="Commentaire interne sur Mme Bennani",
        )
    )
    db.session.add(
        Interest(applicant_id=owner.id, track_id=factories.track().id, city_id=factories.city().id)
    )
    db.session.add(
        OutboxEmail(
            to_address=owner.email,
            template="application_received",
            locale="fr",
            subject=f"Candidature {accepted.reference} bien reçue",
            body_text="Bonjour Mme Bennani",
            body_html="<p>Bonjour Mme Bennani</p>",
            status="sent",
            sent_at=utcnow(),
            user_id=owner.id,
        )
    )
    other = factories.user(profile={"cin": "QZ000001"})
    db.session.flush()
    return {
        "owner": owner,
        "offering": offering,
        "accepted": accepted,
        "waiting": waiting,
        "rejected": rejected,
        "submitted": submitted,
        "document": document,
        "other": other,
    }


def test_data_json_gives_the_applicant_all_their_data(app, applicant_with_history):
    h = applicant_with_history
    client = w.new_client(app)
    factories.login(client, h["owner"])
    response = client.get("/me/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.data)
    assert data["account"]["email"] == h["owner"].email
    assert data["account"]["consent"]["notice_version"] == "test"
    assert data["profile"]["cin"] == "QZ778899"
    assert data["profile"]["phone"] == "+212661234567"
    assert data["profile"]["association"]["name"].startswith("Association")
    by_reference = {a["reference"]: a for a in data["applications"]}
    assert set(by_reference) == {h[k].reference for k in ("accepted", "rejected", "submitted")}
    accepted = by_reference[h["accepted"].reference]
    assert accepted["status"] == "accepted"
    assert accepted["motivation"].startswith("Je souhaite")
    assert accepted["history"] == [
        {"from": None, "to": "submitted", "at": accepted["history"][0]["at"], "message": None},
        {"from": "submitted", "to": "accepted", "at": accepted["history"][1]["at"], "message": "Bienvenue !"},
    ]
    assert accepted["documents"][0]["name"] == "attestation.pdf"
    assert accepted["documents"][0]["size"] == len(w.PDF)
    assert len(data["interests"]) == 1
    assert data["emails"][0]["subject"].startswith("Candidature")
    text = response.get_data(as_text=True)
    assert "QZ000001" not in text  # nobody else's data
    # What reviewers wrote about the person is theirs to read too (tests/security/test_data_export.py).
    assert accepted["reviews"][0]["comment"] == "Commentaire interne sur Mme Bennani"


def _delete(client, password=factories.PASSWORD, understood=True):
    data = {"current_password": password}
    if understood:
        data["understood"] = "y"
    return client.post("/me/delete", data=data)


def test_deleting_needs_the_current_password_and_the_acknowledgement(app, applicant_with_history):
    owner = applicant_with_history["owner"]
    client = w.new_client(app)
    factories.login(client, owner)
    assert client.get("/me/delete").status_code == 200
    before = statistics()
    wrong = _delete(client, password="not my password at all")
    assert wrong.status_code == 422
    assert field_error(wrong, "current_password") == "Mot de passe actuel incorrect."
    unticked = _delete(client, understood=False)
    assert unticked.status_code == 422
    assert field_error(unticked, "understood")
    db.session.expire_all()
    assert owner.active and owner.profile.cin == "QZ778899"
    assert statistics() == before


def test_deleting_the_account_erases_personal_data_and_keeps_the_statistics(
    app, applicant_with_history, smtp_server, deliver
):
    h = applicant_with_history
    owner, old_email = h["owner"], h["owner"].email
    owner_id, other_id = owner.id, h["other"].id
    folder = Path(app.config["UPLOAD_FOLDER"])
    stored = sorted(d.stored_name for d in db.session.scalars(select(Document)))
    assert all((folder / name).exists() for name in stored)
    client = w.new_client(app)
    factories.login(client, owner)
    second_session = w.new_client(app)
    factories.login(second_session, owner)
    before = statistics()

    response = _delete(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert "Votre compte est supprimé" in text_of(client.get("/"))

    db.session.expire_all()
    user = db.session.get(User, owner_id)
    profile = user.profile
    assert (profile.first_name, profile.last_name) == ("—", "—")
    assert (profile.cin, profile.phone, profile.birth_date) == (None, None, None)
    assert profile.first_name_ar is None and profile.association_name == "—"
    assert user.email == f"deleted-{owner_id}@invalid"
    assert user.password_hash is None and user.active is False
    # Sessions end: this one and the other one.
    for c in (client, second_session):
        assert c.get("/me/profile").status_code == 302
    relogin = w.new_client(app).post("/auth/login", data={"email": old_email, "password": factories.PASSWORD})
    assert relogin.status_code == 200  # the login form again: no such account any more
    # Files and document rows are gone; interests too.
    assert not any((folder / name).exists() for name in stored)
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    assert db.session.scalar(select(func.count()).select_from(Interest)) == 0
    # Free texts, review comments and messages are erased; scores stay.
    for key in ("accepted", "rejected", "submitted"):
        application = db.session.get(Application, h[key].id)
        assert application.motivation == "—" and application.expected_benefit == "—"
    review = db.session.scalars(select(Review)).one()
    assert review.comment is None and review.total == 12
    assert all(c.note is None for c in db.session.scalars(select(StatusChange)))
    # Active applications were withdrawn through the workflow: the seat went to the waitlist.
    assert db.session.get(Application, h["accepted"].id).status == "withdrawn"
    assert db.session.get(Application, h["submitted"].id).status == "withdrawn"
    assert db.session.get(Application, h["rejected"].id).status == "rejected"
    assert db.session.get(Application, h["waiting"].id).status == "accepted"
    withdrawals = db.session.scalars(select(StatusChange).where(StatusChange.to_status == "withdrawn")).all()
    assert {c.actor_id for c in withdrawals} == {owner_id} and len(withdrawals) == 2
    # Statistics: the same numbers, apart from the withdrawals and the promotion they caused.
    expected = before.copy()
    offering = h["offering"].id
    for key, status in (("accepted", "accepted"), ("submitted", "submitted")):
        expected[(h[key].offering_id, status)] -= 1
        expected[(h[key].offering_id, "withdrawn")] += 1
    expected[(offering, "waitlisted")] -= 1
    expected[(offering, "accepted")] += 1
    assert statistics() == +expected
    assert db.session.get(type(h["offering"]), offering).seats_held == 1
    # Nothing more is sent to the old address; what was sent keeps only subject and dates.
    deliver()
    assert smtp_server.to(old_email) == []
    assert db.session.scalar(select(func.count()).where(OutboxEmail.to_address == old_email)) == 0
    kept = db.session.scalars(select(OutboxEmail).where(OutboxEmail.user_id == owner_id)).one()
    assert kept.subject.startswith("Candidature") and kept.body_text == "" and kept.body_html == ""
    # The CIN is free again: the person may register anew one day.
    assert db.session.scalar(select(func.count()).where(ApplicantProfile.cin == "QZ778899")) == 0
    # The other applicant is untouched.
    assert db.session.get(User, other_id).profile.cin == "QZ000001"


def test_profile_page_links_to_the_data_download_and_the_deletion(app):
    client = w.new_client(app)
    factories.login(client, factories.user())
    body = client.get("/me/profile").get_data(as_text=True)
    assert 'href="/me/data.json"' in body and 'href="/me/delete"' in body


# Point 16: retention purge ---------------------------------------------------------------


@pytest.fixture
def aged(app, clock):
    """Offerings closed 30, 25 and 23 months before NOW, one still open; applicants in them."""
    clock.set(NOW)

    def closed(months, closed_at=True, status="closed"):
        moment = NOW - timedelta(days=round(30.44 * months))
        return factories.offering(
            status=status,
            opens_at=moment - timedelta(days=60),
            closes_at=moment,
            closed_at=moment if closed_at else None,
            academic_year=f"{moment.year}-{moment.year + 1}",
        )

    old = closed(25)
    older = closed(30, closed_at=False)  # closes_at counts when closed_at is empty
    recent = closed(23)
    open_long_ago = closed(30, closed_at=False, status="open")  # never closed: kept
    gone = factories.user(profile={"cin": "PG100001"})
    returning = factories.user(profile={"cin": "PG100002"})
    current = factories.user(profile={"cin": "PG100003"})
    apps = {
        "gone_old": factories.application(gone, old, status="confirmed"),
        "gone_older": factories.application(gone, older, status="rejected"),
        "returning_old": factories.application(returning, old, status="rejected"),
        "returning_recent": factories.application(returning, recent),
        "current_recent": factories.application(current, recent, status="waitlisted"),
        "current_open": factories.application(current, open_long_ago),
    }
    document = w.add_document(apps["gone_old"])
    db.session.add(
        StatusChange(
            application_id=apps["gone_old"].id, from_status="submitted", to_status="accepted", note="Bravo"
        )
    )
    db.session.flush()
    return {"apps": apps, "users": (gone, returning, current), "document": document}


def purge(runner):
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def test_purge_anonymises_applications_of_offerings_closed_beyond_the_retention(app, runner, aged):
    gone, returning, current = aged["users"]
    apps = aged["apps"]
    path = Path(app.config["UPLOAD_FOLDER"]) / aged["document"].stored_name
    before = statistics()
    output = purge(runner)
    assert "3 applications and 1 accounts anonymised" in output
    for key in ("gone_old", "gone_older", "returning_old"):
        application = db.session.get(Application, apps[key].id)
        assert application.motivation == "—" and application.expected_benefit == "—"
    for key in ("returning_recent", "current_recent", "current_open"):
        assert db.session.get(Application, apps[key].id).motivation.startswith("Je souhaite")
    assert not path.exists()
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    assert all(c.note is None for c in db.session.scalars(select(StatusChange)))
    # Only the applicant without any recent application is anonymised.
    assert db.session.get(User, gone.id).email == f"deleted-{gone.id}@invalid"
    assert db.session.get(User, gone.id).profile.cin is None
    assert db.session.get(User, returning.id).profile.cin == "PG100002"
    assert db.session.get(User, current.id).profile.cin == "PG100003"
    # Statuses are kept: the statistics do not move.
    assert statistics() == before
    # Idempotent.
    assert "0 applications and 0 accounts anonymised" in purge(runner)
    assert statistics() == before


def test_purge_follows_the_clock_and_the_configured_retention(app, runner, aged, clock):
    clock.set(NOW - timedelta(days=92))  # three months earlier, only "older" is old enough
    assert "1 applications and 0 accounts anonymised" in purge(runner)
    clock.set(NOW)
    app.config["RETENTION_MONTHS"] = 12
    output = purge(runner)
    assert "4 applications and 2 accounts anonymised" in output
    returning = aged["users"][1]
    assert db.session.get(User, returning.id).profile.cin is None
