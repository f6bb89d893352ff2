"""The staff commands of the contract: create-user and assign-reviewer."""

from sqlalchemy import select

from portal.auth.models import User
from portal.auth.passwords import verify_password
from portal.extensions import db
from tests import factories

STAFF_PASSWORD = "a long staff password 2026"


def _user(email):
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_create_user_with_password_makes_a_confirmed_reviewer_who_can_log_in(runner, client):
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            " Reviewer@OFPPT.ma ",
            "--role",
            "reviewer",
            "--password",
            STAFF_PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    assert "reviewer@ofppt.ma" in result.output
    user = _user("reviewer@ofppt.ma")
    assert user.role == "reviewer" and user.is_confirmed and user.active
    assert verify_password(user.password_hash, STAFF_PASSWORD)
    assert STAFF_PASSWORD not in result.output

    response = factories.login(client, user, STAFF_PASSWORD)
    assert response.status_code == 302
    assert client.get("/review").status_code == 200


def test_create_user_prompts_for_the_password_when_absent(runner):
    result = runner.invoke(
        args=["create-user", "--email", "admin@ofppt.ma", "--role", "admin"],
        input=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    user = _user("admin@ofppt.ma")
    assert user.role == "admin"
    assert verify_password(user.password_hash, STAFF_PASSWORD)


def test_create_user_refuses_a_duplicate_email_a_weak_password_and_an_unknown_role(runner):
    factories.user(role="reviewer", email="taken@ofppt.ma")
    db.session.commit()
    duplicate = runner.invoke(
        args=["create-user", "--email", "TAKEN@ofppt.ma", "--role", "reviewer", "--password", STAFF_PASSWORD]
    )
    assert duplicate.exit_code != 0
    assert "already exists" in duplicate.output

    weak = runner.invoke(
        args=["create-user", "--email", "weak@ofppt.ma", "--role", "reviewer", "--password", "short"]
    )
    assert weak.exit_code != 0
    assert _user("weak@ofppt.ma") is None

    role = runner.invoke(
        args=["create-user", "--email", "boss@ofppt.ma", "--role", "superuser", "--password", STAFF_PASSWORD]
    )
    assert role.exit_code != 0
    assert _user("boss@ofppt.ma") is None


def test_assign_reviewer_assigns_once_and_gives_access_to_the_queue(runner):
    offering = factories.offering()
    other = factories.offering()
    reviewer = factories.user(role="reviewer", email="rev@ofppt.ma")
    db.session.commit()
    offering_id, other_id = offering.id, other.id

    for _ in range(2):  # idempotent
        result = runner.invoke(
            args=["assign-reviewer", "--email", "REV@ofppt.ma", "--offering", str(offering_id)]
        )
        assert result.exit_code == 0, result.output
        assert offering.track.code in result.output
    reviewer = _user("rev@ofppt.ma")
    assert [o.id for o in reviewer.reviewed_offerings] == [offering_id]

    result = runner.invoke(args=["assign-reviewer", "--email", "rev@ofppt.ma", "--offering", str(other_id)])
    assert result.exit_code == 0
    assert sorted(o.id for o in _user("rev@ofppt.ma").reviewed_offerings) == sorted([offering_id, other_id])


def test_assign_reviewer_refuses_unknown_people_applicants_and_offerings(runner):
    offering = factories.offering()
    applicant = factories.user()
    factories.user(role="reviewer", email="rev2@ofppt.ma")
    db.session.commit()

    unknown = runner.invoke(
        args=["assign-reviewer", "--email", "nobody@ofppt.ma", "--offering", str(offering.id)]
    )
    assert unknown.exit_code != 0
    not_staff = runner.invoke(
        args=["assign-reviewer", "--email", applicant.email, "--offering", str(offering.id)]
    )
    assert not_staff.exit_code != 0
    no_offering = runner.invoke(args=["assign-reviewer", "--email", "rev2@ofppt.ma", "--offering", "999999"])
    assert no_offering.exit_code != 0
    db.session.expire_all()
    assert offering.reviewers == []
