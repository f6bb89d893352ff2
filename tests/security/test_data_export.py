"""Right of access (law 09-08): /me/data.json gives everything held on the person, and
only on them: reviews and mean score, staff who looked at or decided on their file, and
the emails sent to them, without a secret link that still works."""

import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.admin import exports
from portal.applications.models import Application
from portal.audit import AuditEvent
from portal.auth import staff
from portal.auth.models import User
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.review.models import Review
from portal.timeutil import utcnow
from tests import factories
from tests.helpers import message_text
from tests.security import world as w

NOW = datetime(2027, 3, 15, 10, 0)
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def export(app, user):
    """The person's export, downloaded by them through the real page."""
    client = w.new_client(app)
    assert factories.login(client, user).status_code == 302
    response = client.get("/me/data.json")
    assert response.status_code == 200
    return json.loads(response.data), response.get_data(as_text=True)


def review(application, reviewer, scores, comment):
    db.session.add(
        Review(
            application_id=application.id,
            reviewer_id=reviewer.id,
            score_motivation=scores[0],
            score_engagement=scores[1],
            score_fit=scores[2],
            recommendation="accept",
            comment=comment,
        )
    )


@pytest.fixture
def files(app, clock):
    """Two applicants in one offering, reviewed by two reviewers; an administrator."""
    clock.set(NOW)
    offering = factories.offering(seats=5)
    first = factories.reviewer(offering, email="examinatrice@ofppt.ma")
    second = factories.reviewer(offering, email="examinateur@ofppt.ma")
    admin = factories.user(role="admin", email="admin@ofppt.ma")
    owner = factories.user(profile={"cin": "QZ778899", "last_name": "Bennani"})
    other = factories.user(profile={"cin": "QZ000001", "last_name": "Alaoui"})
    mine = factories.application(owner, offering, mean_score=11.5)
    theirs = factories.application(other, offering, mean_score=7.0)
    review(mine, first, (4, 3, 5), "Motivation claire, projet associatif solide.")
    review(mine, second, (3, 4, 4), None)
    review(theirs, first, (2, 2, 3), "Dossier de Mme Alaoui incomplet.")
    db.session.commit()
    return {
        "offering": offering,
        "first": first,
        "second": second,
        "admin": admin,
        "owner": owner,
        "other": other,
        "mine": mine,
        "theirs": theirs,
    }


def test_reviews_scores_comments_and_mean_score_are_given_to_the_person(app, files):
    data, text = export(app, files["owner"])
    (application,) = data["applications"]
    assert application["reference"] == files["mine"].reference
    assert application["mean_score"] == 11.5
    by_reviewer = {r["by"]["email"]: r for r in application["reviews"]}
    assert set(by_reviewer) == {"examinatrice@ofppt.ma", "examinateur@ofppt.ma"}
    first = by_reviewer["examinatrice@ofppt.ma"]
    assert first["scores"] == {"motivation": 4, "engagement": 3, "fit": 5}
    assert first["total"] == 12
    assert first["recommendation"] == "accept"
    assert first["comment"] == "Motivation claire, projet associatif solide."
    assert first["by"] == {"role": "reviewer", "email": "examinatrice@ofppt.ma"}
    assert ISO_UTC.match(first["created_at"]) and ISO_UTC.match(first["updated_at"])
    assert by_reviewer["examinateur@ofppt.ma"]["comment"] is None
    # Nothing of the other applicant's file.
    assert "Alaoui" not in text and "7.0" not in text and files["theirs"].reference not in text


def test_staff_who_viewed_or_decided_are_listed_with_their_role(app, files, clock):
    mine, theirs = files["mine"], files["theirs"]
    document = w.add_document(mine, kind="cin")
    w.add_document(theirs)
    reviewer = w.new_client(app)
    assert factories.login(reviewer, files["first"]).status_code == 302
    assert reviewer.get(f"/review/applications/{mine.reference}").status_code == 200
    clock.set(NOW + timedelta(minutes=5))
    download = reviewer.get(f"/review/applications/{mine.reference}/documents/{document.id}")
    assert download.status_code == 200
    clock.set(NOW + timedelta(minutes=10))
    decided = reviewer.post(
        f"/review/applications/{mine.reference}/decide",
        data={"decision": "accepted", "message": "Bienvenue", "version": mine.version},
    )
    assert decided.status_code == 302
    assert db.session.get(Application, mine.id).status == "accepted"
    # The same reviewer also opens the other applicant's file: not the owner's business.
    assert reviewer.get(f"/review/applications/{theirs.reference}").status_code == 200
    clock.set(NOW + timedelta(minutes=15))
    # Deactivating the other applicant withdraws their application (a system event about
    # it): none of it belongs in the owner's download.
    staff.deactivate_user(files["admin"], files["other"])
    db.session.commit()
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.object_id == theirs.reference))

    data, text = export(app, files["owner"])
    actions = data["staff_actions"]
    reviewer_id = {"role": "reviewer", "email": "examinatrice@ofppt.ma"}
    assert [(a["action"], a["object"], a["application"], a["by"]) for a in actions] == [
        ("view_personal_data", "application", mine.reference, reviewer_id),
        ("view_personal_data", "document", mine.reference, reviewer_id),
        ("decision", "application", mine.reference, reviewer_id),
    ]
    assert [a["at"] for a in actions] == [
        "2027-03-15T10:00:00Z",
        "2027-03-15T10:05:00Z",
        "2027-03-15T10:10:00Z",
    ]
    assert actions[1]["document"] == "cin"
    assert actions[2]["before"] == {"status": "submitted"}
    assert actions[2]["after"] == {"status": "accepted"}
    assert theirs.reference not in text and "Alaoui" not in text


def test_staff_actions_on_the_account_itself_are_listed(app, files, clock):
    staff.deactivate_user(files["admin"], files["owner"])
    clock.set(NOW + timedelta(hours=1))
    staff.reactivate_user(files["admin"], files["owner"])
    db.session.commit()
    data, _ = export(app, files["owner"])
    admin_id = {"role": "admin", "email": "admin@ofppt.ma"}
    actions = [(a["action"], a["object"], a["by"], a["after"]) for a in data["staff_actions"]]
    # The deactivation withdrew the owner's application: the system's act is listed too.
    assert actions == [
        ("application_withdrawn", "application", None, {"status": "withdrawn"}),
        ("user_deactivated", "user", admin_id, {"active": False}),
        ("user_reactivated", "user", admin_id, {"active": True}),
    ]
    assert export(app, files["other"])[0]["staff_actions"] == []


def test_emails_give_address_subject_dates_status_and_body(app, files, deliver):
    owner = files["owner"]
    for user, body in (
        (owner, "Bonjour Mme Bennani, votre dossier avance."),
        (files["other"], "Bonjour Mme Alaoui"),
    ):
        db.session.add(
            OutboxEmail(
                to_address=user.email,
                template="application_received",
                locale="fr",
                subject="Candidature bien reçue",
                body_text=body,
                body_html=f"<p>{body}</p>",
                user_id=user.id,
            )
        )
    db.session.commit()
    owner_id = owner.id
    assert deliver() == (2, 0)
    owner = db.session.get(User, owner_id)
    data, text = export(app, owner)
    (email,) = data["emails"]
    assert email["to"] == owner.email
    assert email["subject"] == "Candidature bien reçue"
    assert email["status"] == "sent"
    assert email["body"] == "Bonjour Mme Bennani, votre dossier avance."
    assert ISO_UTC.match(email["created_at"]) and ISO_UTC.match(email["sent_at"])
    assert "Alaoui" not in text


def test_a_secret_link_in_an_email_is_not_given_in_a_usable_form(app, files, deliver, smtp_server):
    owner = files["owner"]
    owner_id, address = owner.id, owner.email
    assert w.new_client(app).post("/auth/forgot", data={"email": address}).status_code == 302
    # Before delivery the row holds no link at all: the worker makes it when it sends.
    assert "/auth/reset/" not in export(app, db.session.get(User, owner_id))[1]
    assert deliver() == (1, 0)
    (message,) = smtp_server.to(address)
    (token,) = re.findall(r"/auth/reset/([A-Za-z0-9_.-]+)", message_text(message))
    # A link that works: whoever read the export could choose the person's password.
    assert w.new_client(app).get(f"/auth/reset/{token}").status_code == 200
    data, text = export(app, db.session.get(User, owner_id))
    (email,) = data["emails"]
    assert (email["template"], email["subject"]) == ("reset_password", message["Subject"])
    assert token not in text


def add_applications(owner, count):
    """``count`` more applications of ``owner``, each with documents, two reviewers (who
    reviewed and viewed it), and an email."""
    for _ in range(count):
        offering = factories.offering()
        application = factories.application(owner, offering, mean_score=9.0)
        w.add_document(application)
        w.add_document(application, kind="cin")
        for reviewer in (factories.reviewer(offering), factories.reviewer(offering)):
            review(application, reviewer, (3, 3, 3), "Bien")
            db.session.add(
                AuditEvent(
                    actor_id=reviewer.id,
                    action="view_personal_data",
                    object_type="application",
                    object_id=str(application.id),
                )
            )
            exports.record_export(reviewer, "csv", {}, 1)
        db.session.add(
            OutboxEmail(
                to_address=owner.email,
                template="application_received",
                locale="fr",
                subject="Candidature",
                body_text="Bonjour",
                body_html="<p>Bonjour</p>",
                user_id=owner.id,
                sent_at=utcnow(),
                status="sent",
            )
        )
    db.session.commit()


def test_the_export_costs_the_same_number_of_queries_whatever_the_size_of_the_file(app, files, query_counter):
    owner = files["owner"]
    client = w.new_client(app)
    assert factories.login(client, owner).status_code == 302
    counts = []
    for more, applications in ((1, 2), (5, 7)):
        add_applications(owner, more)
        with query_counter() as counter:
            response = client.get("/me/data.json")
        assert response.status_code == 200
        data = json.loads(response.data)
        assert len(data["applications"]) == applications
        assert sum(len(a["reviews"]) for a in data["applications"]) == 2 * applications
        assert len(data["staff_actions"]) == 2 * (applications - 1)
        assert len(data["emails"]) == applications - 1
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    print(counts)


def test_the_privacy_notice_says_what_the_download_contains(app):
    page = w.new_client(app).get("/privacy").get_data(as_text=True)
    rights = page.split('id="rights"')[1].split("</ul>")[0]
    for words in ("évaluations de vos candidatures", "ont consulté votre dossier", "courriels"):
        assert words in rights, words


def test_the_register_entry_of_the_persons_association_is_given(app, files):
    from portal.associations import operations as assoc_ops

    owner, other = files["owner"], files["other"]
    city = factories.city(name="Tiznit")
    entry = assoc_ops.find_or_declare(
        name_fr="Association Tifawin",
        name_ar="جمعية تيفاوين",
        registration_number="TZN-2011-0042",
        field="culture",
        city_id=city.id,
    )
    owner.profile.association = entry
    db.session.commit()
    data, _ = export(app, owner)
    assert data["profile"]["association"]["register_entry"] == {
        "name": "Association Tifawin",
        "name_ar": "جمعية تيفاوين",
        "registration_number": "TZN-2011-0042",
        "city": "Tiznit",
        "state": "to_verify",
    }
    data, _ = export(app, other)
    assert data["profile"]["association"]["register_entry"] is None
