"""Issue 6 point 7 (ASVS 5.1.2): role, status and counters sent in forms are ignored.

Each form gets its valid fields plus fields naming columns an attacker would like to
set (role, active, status, seats_held, applicant_id...); the stored rows show that
only the form's own fields were used.
"""

from sqlalchemy import select

from portal.applications.models import Application
from portal.auth.models import User
from portal.catalog.models import Offering
from portal.extensions import db
from portal.review.models import Review
from tests import factories
from tests.security import formdata
from tests.security import world as w

ACCOUNT_FIELDS = {
    "role": "admin",
    "active": "y",
    "is_admin": "1",
    "email_confirmed_at": "2020-01-01",
    "auth_version": "99",
    "consent_version": "forged",
    "password_hash": "forged",
    "id": "1",
    "user_id": "1",
    "locale_override": "en",
}
APPLICATION_FIELDS = {
    "status": "accepted",
    "seats_held": "0",
    "seats": "1000",
    "applicant_id": "1",
    "offering_id": "1",
    "reference": "APP-FORGED",
    "version": "99",
    "mean_score": "15",
    "decided_at": "2020-01-01",
    "confirmation_deadline": "2099-01-01",
    "reviewer_id": "1",
    "application_id": "1",
}


def test_registration_ignores_role_and_account_fields(app):
    city = factories.city()
    client = w.new_client(app)
    response = client.post("/auth/register", data={**formdata.registration(city), **ACCOUNT_FIELDS})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "amina.new@example.org"))
    assert user.role == "applicant"
    assert user.email_confirmed_at is None
    assert user.auth_version == 1
    assert user.consent_version == app.config["PRIVACY_NOTICE_VERSION"]
    assert user.id != 1 or db.session.get(User, 1).email == "amina.new@example.org"
    assert user.password_hash.startswith("$argon2id$")


def test_profile_ignores_role_and_account_fields(app):
    applicant = factories.user(profile={"last_name": "Bennani"})
    other = factories.user()
    client = w.new_client(app)
    factories.login(client, applicant)
    data = {**formdata.profile(applicant, association_role="Présidente"), **ACCOUNT_FIELDS}
    data["user_id"] = str(other.id)
    response = client.post("/me/profile", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert applicant.profile.association_role == "Présidente"  # the form's own field was saved
    assert applicant.role == "applicant"
    assert applicant.auth_version == 1
    assert applicant.profile.user_id == applicant.id
    assert other.profile.association_role == "Membre"


def test_staff_profile_cannot_promote_itself(app):
    reviewer = factories.reviewer()
    client = w.new_client(app)
    factories.login(client, reviewer)
    client.post("/me/profile", data={"locale": "en", **ACCOUNT_FIELDS})
    db.session.expire_all()
    assert reviewer.locale == "en"
    assert reviewer.role == "reviewer"


def test_apply_ignores_status_seats_and_owner_fields(app):
    offering = factories.offering(seats=10)
    other_offering = factories.offering()
    victim = factories.user()
    applicant = factories.user()
    client = w.new_client(app)
    factories.login(client, applicant)
    fields = {**APPLICATION_FIELDS, "applicant_id": str(victim.id), "offering_id": str(other_offering.id)}
    response = client.post(
        f"/apply/{offering.id}", data=formdata.application(**fields), content_type="multipart/form-data"
    )
    assert response.status_code == 302
    application = db.session.scalars(select(Application)).one()
    assert application.applicant_id == applicant.id
    assert application.offering_id == offering.id
    assert application.status == "submitted"
    assert application.reference.startswith("APP-") and application.reference != "APP-FORGED"
    assert application.version == 1
    assert application.mean_score is None
    assert application.decided_at is None and application.confirmation_deadline is None
    db.session.expire_all()
    assert (offering.seats, offering.seats_held) == (10, 0)
    assert db.session.get(Offering, other_offering.id).seats_held == 0


def test_review_ignores_status_score_and_reviewer_fields(app):
    offering = factories.offering(seats=10)
    application = factories.application(offering_=offering)
    other_application = factories.application(offering_=offering)
    reviewer = factories.reviewer(offering)
    colleague = factories.reviewer(offering)
    client = w.new_client(app)
    factories.login(client, reviewer)
    fields = {
        **APPLICATION_FIELDS,
        "reviewer_id": str(colleague.id),
        "application_id": str(other_application.id),
        "total": "15",
        "score_motivation": "1",
    }
    response = client.post(f"/review/applications/{application.reference}", data=formdata.review(**fields))
    assert response.status_code == 302
    review = db.session.scalars(select(Review)).one()
    assert (review.reviewer_id, review.application_id) == (reviewer.id, application.id)
    assert review.score_motivation == 1
    db.session.expire_all()
    # The first review puts the application under review, nothing more.
    assert application.status == "under_review"
    assert application.mean_score == 9
    assert other_application.status == "submitted"
    assert offering.seats_held == 0


def test_decision_ignores_status_and_seat_fields(app):
    offering = factories.offering(seats=10)
    application = factories.application(offering_=offering)
    reviewer = factories.reviewer(offering)
    client = w.new_client(app)
    factories.login(client, reviewer)
    fields = {"status": "confirmed", "seats_held": "0", "seats": "1", "confirmation_deadline": "2099-01-01"}
    client.post(
        f"/review/applications/{application.reference}/decide",
        data=formdata.decision(application, "accepted", **fields),
    )
    db.session.expire_all()
    assert application.status == "accepted"
    assert (offering.seats, offering.seats_held) == (10, 1)
    assert application.confirmation_deadline.year != 2099


def test_admin_offering_form_cannot_set_the_seat_counter(app):
    offering = factories.offering(seats=10)
    factories.application(offering_=offering, status="accepted")
    admin = factories.user(role="admin")
    client = w.new_client(app)
    factories.login(client, admin)
    db.session.commit()
    data = formdata.offering_edit(offering, seats="12", seats_held="0", track_id="999", city_id="999")
    response = client.post(f"/admin/offerings/{offering.id}", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert (offering.seats, offering.seats_held) == (12, 1)
    assert offering.track_id != 999 and offering.city_id != 999
