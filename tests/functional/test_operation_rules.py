"""The rules that protect data, checked by the operations that write it (not only by forms).

Each rule is exercised by calling the operation directly, as the command line or a
future API would; a few cases go through the pages to see the refusal next to its field.
"""

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from portal.applications.models import Application, Document
from portal.applications.operations import (
    BENEFIT_MAX,
    MOTIVATION_MIN,
    SubmissionRefused,
    eligibility_problem,
    submit_application,
)
from portal.audit import AuditEvent
from portal.auth import operations as auth_ops
from portal.auth import staff
from portal.auth.models import User
from portal.auth.operations import AccountError
from portal.auth.passwords import verify_password
from portal.catalog import operations as catalog_ops
from portal.catalog.models import Offering, Track
from portal.extensions import db
from portal.refusals import AdminError
from portal.timeutil import local_day, utcnow
from tests import factories
from tests.samples import PDF

STRONG = "quatre chameaux traversent lentement Ouarzazate"
MOTIVATION = "Je souhaite renforcer les compétences numériques de notre association. " * 2
BENEFIT = "Des outils numériques pour nos bénévoles."


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _audit(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def _offering_values(**overrides):
    today = local_day(utcnow())
    values = {
        "academic_year": "2026-2027",
        "seats": 20,
        "opens_on": today,
        "closes_on": today + timedelta(days=30),
        "course_starts_on": today + timedelta(days=60),
        "status": "draft",
    }
    # A timedelta stands for that many days from today (parameters are made before the app).
    values.update({k: today + v if isinstance(v, timedelta) else v for k, v in overrides.items()})
    return values


def _create_offering(admin, **overrides):
    track, city = factories.track(), factories.city()
    return catalog_ops.create_offering(
        admin, track_id=track.id, city_id=city.id, **_offering_values(**overrides)
    )


# Offerings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"academic_year": "2026-2028"}, "academic_year"),
        ({"academic_year": "2026/2027"}, "academic_year"),
        ({"academic_year": "26-27"}, "academic_year"),
        ({"seats": 0}, "seats"),
        ({"seats": 10001}, "seats"),
        ({"seats": -3}, "seats"),
        ({"closes_on": timedelta(days=-1)}, "closes_on"),
        # The course starts after the last day of applications, not on it.
        ({"course_starts_on": timedelta(days=30)}, "course_starts_on"),
        ({"course_starts_on": timedelta(days=10)}, "course_starts_on"),
        ({"opens_on": date(1999, 12, 31)}, "opens_on"),
        ({"course_starts_on": date(2100, 1, 1)}, "course_starts_on"),
    ],
)
def test_create_offering_refuses_values_out_of_the_rules(app, overrides, field):
    admin = factories.user(role="admin")
    with pytest.raises(AdminError) as refused:
        _create_offering(admin, **overrides)
    assert refused.value.field == field
    assert str(refused.value.message)
    db.session.rollback()
    assert _count(Offering) == 0


def test_create_offering_accepts_a_window_and_a_course_after_it(app):
    admin = factories.user(role="admin")
    today = local_day(utcnow())
    offering = _create_offering(
        admin, closes_on=today, course_starts_on=today + timedelta(days=1), seats=1, academic_year="2029-2030"
    )
    assert offering.seats == 1 and offering.academic_year == "2029-2030"
    no_course = _create_offering(admin, course_starts_on=None, seats=10000)
    assert no_course.course_starts_on is None


def test_update_offering_and_change_seats_check_the_same_rules(app):
    admin = factories.user(role="admin")
    offering = factories.offering()
    db.session.commit()
    today = local_day(utcnow())
    values = {
        "seats": 25,
        "opens_on": today - timedelta(days=1),
        "closes_on": today + timedelta(days=30),
        "course_starts_on": today + timedelta(days=60),
        "status": offering.status,
    }
    for overrides, field in (
        ({"seats": 0}, "seats"),
        ({"closes_on": today + timedelta(days=90)}, "course_starts_on"),
        ({"closes_on": today - timedelta(days=2)}, "closes_on"),
    ):
        with pytest.raises(AdminError) as refused:
            catalog_ops.update_offering(admin, offering, **{**values, **overrides})
        assert refused.value.field == field
        db.session.rollback()
    with pytest.raises(AdminError) as refused:
        catalog_ops.change_seats(admin, offering, 10001)
    assert refused.value.field == "seats"
    db.session.rollback()
    assert db.session.get(Offering, offering.id).seats == 25
    assert not _audit("offering_changed") and not _audit("seats_changed")


def test_offering_page_shows_the_operations_refusal_next_to_the_field(app):
    admin = factories.user(role="admin")
    track, city = factories.track(), factories.city()
    db.session.commit()
    client = app.test_client()
    assert factories.login(client, admin).status_code == 302
    today = local_day(utcnow())
    response = client.post(
        "/admin/offerings/new",
        data={
            "track_id": track.id,
            "city_id": city.id,
            "academic_year": "2026-2027",
            "seats": "0",
            "opens_on": today.isoformat(),
            "closes_on": (today + timedelta(days=30)).isoformat(),
            "course_starts_on": (today + timedelta(days=60)).isoformat(),
            "action": "open",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'id="seats-error"[^>]*>\s*Entre 1 et 10000 places', page)
    assert _count(Offering) == 0


# Tracks and minimum education -----------------------------------------------------------


def _track_values(**overrides):
    values = {
        "domain": "digital",
        "min_education": "secondary",
        "title_fr": "Titre",
        "title_ar": "عنوان",
        "title_en": "Title",
        "description_fr": "",
        "description_ar": "",
        "description_en": "",
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("code", "overrides", "field"),
    [
        ("NEW-1", {"domain": "cooking"}, "domain"),
        ("NEW-1", {"min_education": "phd"}, "min_education"),
        ("NEW-1", {"min_education": ""}, "min_education"),
        ("new 1", {}, "code"),
    ],
)
def test_create_track_refuses_unknown_values(app, code, overrides, field):
    admin = factories.user(role="admin")
    with pytest.raises(AdminError) as refused:
        catalog_ops.create_track(admin, code=code, **_track_values(**overrides))
    assert refused.value.field == field
    db.session.rollback()
    assert _count(Track) == 0


def test_update_track_refuses_an_unknown_minimum_education(app):
    admin = factories.user(role="admin")
    track = factories.track()
    db.session.commit()
    with pytest.raises(AdminError) as refused:
        catalog_ops.update_track(admin, track, **_track_values(min_education="doctorate"))
    assert refused.value.field == "min_education"
    db.session.rollback()
    assert db.session.get(Track, track.id).min_education == "secondary"


def test_an_unknown_minimum_education_is_not_read_as_no_minimum(app):
    offering = factories.offering()
    applicant = factories.user(profile={"education_level": "master"})
    assert eligibility_problem(applicant, offering) is None
    # A value that got around the operations is unknown; the database refuses to store it
    # (CHECK constraint), so the rule is asked before any flush.
    offering.track.min_education = "doctorate"
    with db.session.no_autoflush:
        assert eligibility_problem(applicant, offering) is not None
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_an_unknown_education_level_of_the_applicant_does_not_pass(app):
    offering = factories.offering(track=factories.track(min_education="none"))
    applicant = factories.user()
    applicant.profile.education_level = "unknown"
    with db.session.no_autoflush:
        assert eligibility_problem(applicant, offering) is not None
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# Passwords ----------------------------------------------------------------------------------

WEAK = ("short", "password1234", "qwertyuiopasdf")


@pytest.mark.parametrize("password", WEAK)
def test_create_confirmed_user_applies_the_password_policy(app, password):
    with pytest.raises(AccountError) as refused:
        auth_ops.create_confirmed_user("staff@ofppt.ma", "reviewer", password)
    assert refused.value.field == "password"
    db.session.rollback()
    assert _count(User) == 0


def test_create_confirmed_user_refuses_a_password_made_of_the_address(app):
    with pytest.raises(AccountError):
        auth_ops.create_confirmed_user("karim.bennani@ofppt.ma", "admin", "karimbennani2026")
    with pytest.raises(AccountError) as refused:
        auth_ops.create_confirmed_user("x@ofppt.ma", "superuser", STRONG)
    assert refused.value.field == "role"
    user = auth_ops.create_confirmed_user(" Staff@OFPPT.ma ", "reviewer", STRONG)
    assert user.email == "staff@ofppt.ma" and user.is_confirmed
    assert verify_password(user.password_hash, STRONG)


def test_reset_password_applies_the_policy_with_the_persons_own_data(app):
    user = factories.user(email="amina.alaoui@example.org")
    db.session.commit()
    old_hash = user.password_hash
    for password in (*WEAK, "amina.alaoui.amina"):
        with pytest.raises(AccountError) as refused:
            auth_ops.reset_password(user, password)
        assert refused.value.field == "password"
        db.session.rollback()
    assert db.session.get(User, user.id).password_hash == old_hash
    auth_ops.reset_password(user, STRONG)
    assert verify_password(user.password_hash, STRONG)


def test_update_account_refuses_a_weak_new_password_and_changes_nothing(app):
    user = factories.user()
    db.session.commit()
    old_hash, old_locale = user.password_hash, user.locale
    with pytest.raises(AccountError) as refused:
        auth_ops.update_account(user, factories.PASSWORD, "en", new_password="password1234")
    assert refused.value.field == "new_password"
    db.session.rollback()
    user = db.session.get(User, user.id)
    assert (user.password_hash, user.locale) == (old_hash, old_locale)


def test_register_applicant_applies_the_policy(app):
    profile = {name: None for name in auth_ops.PROFILE_FIELDS}
    profile.update(first_name="Youssef", last_name="Tazi", cin="AB123456")
    with pytest.raises(AccountError) as refused:
        auth_ops.register_applicant("youssef@example.org", "youssef.tazi.youssef", profile, "fr")
    assert refused.value.field == "password"
    assert _count(User) == 0


def test_accept_invite_applies_the_policy(app):
    admin = factories.user(role="admin")
    invited = staff.invite_staff(admin, "nadia@ofppt.ma", "reviewer")
    db.session.commit()
    for password in (*WEAK, "nadia@ofppt.ma nadia"):
        with pytest.raises(AdminError) as refused:
            staff.accept_invite(invited, password)
        assert refused.value.field == "password"
        db.session.rollback()
    assert db.session.get(User, invited.id).password_hash is None
    assert not _audit("invite_accepted")


def test_reset_page_shows_the_operations_refusal_next_to_the_field(app):
    from portal.auth.tokens import make_reset_token

    user = factories.user()
    db.session.commit()
    token = make_reset_token(user)
    response = app.test_client().post(
        f"/auth/reset/{token}", data={"password": "password1234", "password_confirm": "password1234"}
    )
    assert response.status_code == 200
    assert 'id="password-error"' in response.get_data(as_text=True)


# Applications ---------------------------------------------------------------------------------


def _pdf():
    return FileStorage(stream=io.BytesIO(PDF), filename="a.pdf", content_type="application/pdf")


@pytest.mark.parametrize(
    ("texts", "files", "field"),
    [
        ({"motivation": "x" * (MOTIVATION_MIN - 1), "expected_benefit": BENEFIT}, "membership", "motivation"),
        ({"motivation": "   ", "expected_benefit": BENEFIT}, "membership", "motivation"),
        (
            {"motivation": MOTIVATION, "expected_benefit": "y" * (BENEFIT_MAX + 1)},
            "membership",
            "expected_benefit",
        ),
        ({"motivation": MOTIVATION, "expected_benefit": None}, "membership", "expected_benefit"),
        ({"motivation": MOTIVATION, "expected_benefit": BENEFIT}, "cin", "membership"),
    ],
)
def test_submit_application_checks_texts_and_the_membership_attestation(app, texts, files, field):
    applicant, offering = factories.user(), factories.offering()
    db.session.commit()
    with pytest.raises(SubmissionRefused) as refused:
        submit_application(applicant, offering, texts, {files: _pdf()})
    assert refused.value.field == field
    db.session.rollback()
    assert _count(Application) == 0 and _count(Document) == 0


def test_submit_application_counts_a_line_break_as_one_character(app):
    applicant, offering = factories.user(), factories.offering()
    # 99 characters and a Windows line break: 100 once the break counts as one.
    motivation = "a" * 49 + "\r\n" + "b" * 50
    application = submit_application(
        applicant,
        offering,
        {"motivation": f"  {motivation}  ", "expected_benefit": BENEFIT},
        {"membership": _pdf()},
    )
    assert application.motivation == motivation.replace("\r\n", "\n")


# Reviewer assignment -----------------------------------------------------------------------------


def test_assign_reviewer_takes_active_reviewers_only_and_audits(app):
    offering = factories.offering()
    inactive = factories.user(role="reviewer", active=False)
    admin = factories.user(role="admin")
    applicant = factories.user()
    for person in (inactive, admin, applicant, None):
        with pytest.raises(AdminError) as refused:
            catalog_ops.assign_reviewer(None, offering, person)
        assert refused.value.field == "reviewers"
    reviewer = factories.user(role="reviewer")
    assert catalog_ops.assign_reviewer(admin, offering, reviewer) is True
    assert catalog_ops.assign_reviewer(admin, offering, reviewer) is False
    assert offering.reviewers == [reviewer]
    [event] = _audit("reviewers_changed")
    assert (event.actor_id, event.after) == (admin.id, {"reviewers": [reviewer.id]})


def test_offering_page_refuses_an_inactive_reviewer_rather_than_dropping_it(app):
    admin = factories.user(role="admin")
    offering = factories.offering()
    inactive = factories.user(role="reviewer", active=False)
    today = local_day(utcnow())
    with pytest.raises(AdminError) as refused:
        catalog_ops.update_offering(
            admin,
            offering,
            seats=offering.seats,
            opens_on=today - timedelta(days=1),
            closes_on=today + timedelta(days=30),
            course_starts_on=today + timedelta(days=60),
            status=offering.status,
            reviewer_ids=[inactive.id],
        )
    assert refused.value.field == "reviewers"


def test_assign_reviewer_command_uses_the_same_rule_and_is_audited(app, runner):
    offering = factories.offering()
    factories.user(role="reviewer", email="off@ofppt.ma", active=False)
    factories.user(role="admin", email="boss@ofppt.ma")
    factories.user(role="reviewer", email="on@ofppt.ma")
    db.session.commit()
    offering_id = offering.id
    for email in ("off@ofppt.ma", "boss@ofppt.ma"):
        result = runner.invoke(args=["assign-reviewer", "--email", email, "--offering", str(offering_id)])
        assert result.exit_code != 0
        assert "actif" in result.output
    result = runner.invoke(args=["assign-reviewer", "--email", "on@ofppt.ma", "--offering", str(offering_id)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert [u.email for u in db.session.get(Offering, offering_id).reviewers] == ["on@ofppt.ma"]
    [event] = _audit("reviewers_changed")
    assert event.actor_id is None
