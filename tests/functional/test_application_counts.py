"""Issue 16, item 4: the counts per offering and status the workflow keeps for the dashboard.

Every path that creates an application or changes its status keeps ``application_count``
equal to the applications, in the same transaction; concurrent transitions lose no update
(SQLite and PostgreSQL); ``flask counts check [--fix]`` finds and repairs a difference;
``/admin`` reads the counts live.
"""

import re
from datetime import timedelta

from sqlalchemy import select, update

from portal.applications import counts
from portal.applications.models import Application, ApplicationCount
from portal.applications.workflow import expire_unconfirmed, transition
from portal.auth.models import User
from portal.catalog.models import Offering
from portal.extensions import db
from portal.privacy.operations import erase_account, purge_expired
from portal.timeutil import utcnow
from tests import factories
from tests.helpers import THREADS, Race, admin_client, post_application


def kept(offering):
    """The counts kept for ``offering`` (or its id): {status: n}, zeros left out."""
    offering_id = getattr(offering, "id", offering)
    db.session.expire_all()
    rows = db.session.execute(
        select(ApplicationCount.status, ApplicationCount.n).where(ApplicationCount.offering_id == offering_id)
    )
    return {status: n for status, n in rows if n}


def test_submission_and_each_transition_keep_the_counts(app, client):
    offering = factories.offering(seats=2)
    reviewer = factories.reviewer(offering)
    applicant = factories.user()
    db.session.commit()
    factories.login(client, applicant)
    assert post_application(client, offering).status_code == 302
    assert kept(offering) == {"submitted": 1}

    first = factories.application(offering_=offering, status="accepted")
    second = factories.application(offering_=offering, status="accepted")
    waiting = factories.application(offering_=offering, status="waitlisted", mean_score=15.0)
    factories.application(offering_=offering, status="rejected")
    db.session.commit()
    assert kept(offering) == {"submitted": 1, "accepted": 2, "waitlisted": 1, "rejected": 1}

    # Withdrawing frees a seat, which promotes the waitlist: both moves are counted.
    transition(first, "withdrawn", first.applicant)
    db.session.commit()
    assert db.session.get(Application, waiting.id).status == "accepted"
    assert kept(offering) == {"submitted": 1, "accepted": 2, "withdrawn": 1, "rejected": 1}

    # Confirmation, then expiry of the seat not confirmed in time (the workflow tick).
    transition(second, "confirmed", second.applicant)
    db.session.execute(
        update(Application)
        .where(Application.id == waiting.id)
        .values(confirmation_deadline=utcnow() - timedelta(days=1))
    )
    db.session.commit()
    expire_unconfirmed()
    db.session.commit()
    assert kept(offering) == {"submitted": 1, "confirmed": 1, "expired": 1, "withdrawn": 1, "rejected": 1}

    # The cohort's outcome.
    offering.course_starts_on = offering.opens_at
    db.session.commit()
    transition(db.session.get(Application, second.id), "completed", reviewer)
    db.session.commit()
    assert kept(offering)["completed"] == 1 and "confirmed" not in kept(offering)
    assert counts.differences() == []


def test_decisions_one_by_one_and_in_bulk_keep_the_counts(app, client):
    offering = factories.offering(seats=2)
    reviewer = factories.reviewer(offering)
    apps = [factories.application(offering_=offering, status="under_review") for _ in range(4)]
    db.session.commit()
    factories.login(client, reviewer)
    client.post("/review/decide", data={"references": [a.reference for a in apps], "decision": "accepted"})
    # Two seats: two accepted, two refused (still under review).
    assert kept(offering) == {"accepted": 2, "under_review": 2}
    client.post("/review/decide", data={"references": [a.reference for a in apps], "decision": "rejected"})
    assert kept(offering) == {"accepted": 2, "rejected": 2}
    assert counts.differences() == []


def test_erasure_and_purge_keep_the_counts(app):
    offering = factories.offering(seats=5)
    leaving = factories.application(offering_=offering, status="accepted")
    factories.application(offering_=offering, status="under_review")
    db.session.commit()
    erase_account(leaving.applicant, factories.PASSWORD)
    db.session.commit()
    # The erased applicant's application stays (anonymised), withdrawn.
    assert kept(offering) == {"withdrawn": 1, "under_review": 1}
    offering.status = "closed"
    offering.closed_at = utcnow() - timedelta(days=3 * 365)
    db.session.commit()
    purge_expired()
    db.session.commit()
    assert kept(offering) == {"withdrawn": 1, "under_review": 1}
    assert counts.differences() == []


def test_concurrent_transitions_lose_no_count(app):
    """Accepts racing for the seats and withdrawals in other threads: the counts match after."""
    offering = factories.offering(seats=5)
    reviewer = factories.reviewer(offering)
    racing = [factories.application(offering_=offering, status="under_review") for _ in range(16)]
    leaving = [factories.application(offering_=offering, status="submitted") for _ in range(8)]
    ids = (offering.id, reviewer.id, [a.id for a in racing], [a.id for a in leaving])
    db.session.commit()
    db.session.remove()
    offering_id, reviewer_id, racing_ids, leaving_ids = ids
    work = [("accepted", i) for i in racing_ids] + [("withdrawn", i) for i in leaving_ids]

    def move(item):
        to, application_id = item
        application = db.session.get(Application, application_id)
        actor = db.session.get(User, reviewer_id) if to == "accepted" else application.applicant
        transition(application, to, actor)

    race = Race(app, THREADS)
    race.run([work[i::THREADS] for i in range(THREADS)], move)
    assert race.errors == []
    assert race.outcomes["ok"] == 5 + 8
    db.session.expire_all()
    assert kept(db.session.get(Offering, offering_id)) == {
        "accepted": 5,
        "under_review": 11,
        "withdrawn": 8,
    }
    assert counts.differences() == []


def test_the_check_command_reports_and_fixes_a_difference(app, runner):
    offering = factories.offering()
    factories.application(offering_=offering, status="under_review")
    factories.application(offering_=offering, status="submitted")
    db.session.commit()
    offering = offering.id
    result = runner.invoke(args=["counts", "check"])
    assert result.exit_code == 0 and "match" in result.output

    # A count that drifted (written behind the workflow's back) is reported, then fixed.
    db.session.execute(
        update(ApplicationCount)
        .where(ApplicationCount.offering_id == offering, ApplicationCount.status == "submitted")
        .values(n=7)
    )
    db.session.commit()
    result = runner.invoke(args=["counts", "check"])
    assert result.exit_code == 1
    assert f"offering {offering} submitted: kept 7, applications 1" in result.output
    assert kept(offering) == {"submitted": 7, "under_review": 1}

    result = runner.invoke(args=["counts", "check", "--fix"])
    assert result.exit_code == 0 and "1 differences fixed" in result.output
    db.session.remove()
    assert kept(offering) == {"submitted": 1, "under_review": 1}
    assert runner.invoke(args=["counts", "check"]).exit_code == 0


def test_the_dashboard_figures_are_live(app):
    admin, _ = admin_client(app)
    offering = factories.offering()
    factories.application(offering_=offering)
    db.session.commit()
    html = admin.get("/admin").get_data(as_text=True)
    assert re.search(r'id="total-applications">1<', html)
    factories.application(offering_=offering, status="under_review")
    db.session.commit()
    # No cache: the next request shows the new application.
    html = admin.get("/admin").get_data(as_text=True)
    assert re.search(r'id="total-applications">2<', html)
    html = admin.get("/admin?status=under_review").get_data(as_text=True)
    assert re.search(r'id="total-applications">1<', html)
