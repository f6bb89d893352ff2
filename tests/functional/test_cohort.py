"""Cohorts and completion (issue 15, item 1): the outcome rules of the workflow, the emails,
no promotion once the course has started, and the cohort page of reviewers."""

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.applications import workflow
from portal.applications.models import StatusChange
from portal.applications.workflow import CourseNotStarted, NotAllowed, ReasonRequired
from portal.extensions import db
from portal.timeutil import local_day, utcnow
from portal.vocabulary import ApplicationStatus as S
from tests import factories
from tests.helpers import admin_client, audit_events, message_html, message_text, page_text

LANGUAGES = ("fr", "ar", "en")


def _started(days_ago=1, **kw):
    """An offering whose course started ``days_ago`` days ago (Moroccan time)."""
    start = datetime.combine(local_day(utcnow()) - timedelta(days=days_ago), time())
    return factories.offering(course_starts_on=start, **kw)


def _history(application):
    return db.session.scalar(
        select(func.count()).select_from(StatusChange).where(StatusChange.application_id == application.id)
    )


def _reviewer_client(app, offering):
    reviewer = factories.reviewer(offering)
    db.session.commit()
    client = app.test_client()
    assert factories.login(client, reviewer).status_code == 302
    return client, reviewer


# The workflow's rules ------------------------------------------------------------------


def test_no_outcome_before_the_course_starts_nor_without_a_start_date(app):
    for offering in (factories.offering(), factories.offering(course_starts_on=None)):
        application = factories.application(offering_=offering, status="confirmed")
        reviewer = factories.reviewer(offering)
        before = _history(application)
        for outcome, reason in ((S.COMPLETED, None), (S.NOT_COMPLETED, "never_came")):
            with pytest.raises(CourseNotStarted):
                workflow.transition(application, outcome, reviewer, reason=reason)
        db.session.refresh(application)
        assert application.status == S.CONFIRMED and _history(application) == before
    assert audit_events("outcome_recorded") == []


def test_the_first_day_of_the_course_opens_recording(app, clock):
    offering = factories.offering()
    application = factories.application(offering_=offering, status="confirmed")
    reviewer = factories.reviewer(offering)
    start_day = offering.course_starts_on.date()
    # The evening before (22:00 in Rabat) is still too early; the morning of the first day is not.
    clock.set(datetime.combine(start_day - timedelta(days=1), time(21, 0)))
    with pytest.raises(CourseNotStarted):
        workflow.transition(application, S.COMPLETED, reviewer)
    clock.set(datetime.combine(start_day, time(9, 0)))
    workflow.transition(application, S.COMPLETED, reviewer)
    assert application.status == S.COMPLETED


def test_not_completed_needs_a_known_reason_and_stores_it(app):
    offering = _started()
    applicant = factories.user(locale="en")
    application = factories.application(applicant, offering, status="confirmed")
    reviewer = factories.reviewer(offering)
    held = offering.seats_held
    for reason in (None, "", "bored"):
        with pytest.raises(ReasonRequired) as refused:
            workflow.transition(application, S.NOT_COMPLETED, reviewer, reason=reason)
        assert refused.value.field == "reason"
    assert application.status == S.CONFIRMED
    change = workflow.transition(application, S.NOT_COMPLETED, reviewer, reason="dropped_out")
    db.session.refresh(application)
    assert (application.status, application.completion_reason) == (S.NOT_COMPLETED, "dropped_out")
    # The history's note is the reason, in the participant's language.
    assert change.note == "Left during the training"
    assert change.actor_id == reviewer.id
    (event,) = audit_events("outcome_recorded")
    assert (event.actor_id, event.object_id) == (reviewer.id, application.reference)
    assert event.before == {"status": "confirmed"}
    assert event.after == {"status": "not_completed", "completion_reason": "dropped_out"}
    # The outcome keeps the seat it used.
    db.session.refresh(offering)
    assert offering.seats_held == held


def test_completed_clears_any_reason(app):
    offering = _started()
    application = factories.application(offering_=offering, status="confirmed")
    application.completion_reason = "excluded"  # left by older data
    db.session.flush()
    change = workflow.transition(application, S.COMPLETED, factories.reviewer(offering), reason="never_came")
    db.session.refresh(application)
    assert (application.status, application.completion_reason) == (S.COMPLETED, None)
    assert change.note is None
    assert audit_events("outcome_recorded")[0].after == {"status": "completed"}


def test_only_staff_of_the_offering_record_an_outcome_never_on_their_own_application(app):
    offering = _started()
    application = factories.application(offering_=offering, status="confirmed")
    outsiders = (
        factories.reviewer(factories.offering()),  # reviewer of another offering
        application.applicant,  # the participant
        factories.user(),  # another applicant
        None,  # the system
    )
    for actor in outsiders:
        for outcome, reason in ((S.COMPLETED, None), (S.NOT_COMPLETED, "excluded")):
            with pytest.raises(NotAllowed):
                workflow.transition(application, outcome, actor, reason=reason)
    # Someone given an administrator's role after confirming a seat does not grade themself.
    own = factories.application(offering_=offering, status="confirmed")
    own.applicant.role = "admin"
    db.session.flush()
    with pytest.raises(NotAllowed):
        workflow.transition(own, S.COMPLETED, own.applicant)
    # An administrator, assigned or not, may.
    workflow.transition(application, S.COMPLETED, factories.user(role="admin"))
    assert application.status == S.COMPLETED


@pytest.mark.parametrize("source", ["accepted", "waitlisted", "withdrawn", "completed", "not_completed"])
def test_only_a_confirmed_participant_gets_an_outcome(app, source):
    offering = _started()
    application = factories.application(offering_=offering, status=source)
    with pytest.raises(NotAllowed):
        workflow.transition(application, S.COMPLETED, factories.reviewer(offering))


# Emails --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_participants_get_their_outcome_by_email_in_their_language(app, deliver, smtp_server, language):
    expected = {
        "fr": ("Formation achevée", "Formation non achevée", "Exclu(e) de la formation", "certificat"),
        "ar": ("أتممت التكوين", "لم يتم إتمام التكوين", "أُقصي من التكوين", "شهادة"),
        "en": ("Training completed", "Training not completed", "Excluded from the training", "certificate"),
    }[language]
    offering = _started()
    done = factories.application(factories.user(locale=language), offering, status="confirmed")
    left = factories.application(factories.user(locale=language), offering, status="confirmed")
    reviewer = factories.reviewer(offering)
    workflow.transition(done, S.COMPLETED, reviewer)
    workflow.transition(left, S.NOT_COMPLETED, reviewer, reason="excluded")
    db.session.commit()
    done_address, left_address, reference = done.applicant.email, left.applicant.email, done.reference
    assert deliver()[0] == 2
    (completed,) = smtp_server.to(done_address)
    (not_completed,) = smtp_server.to(left_address)
    assert expected[0] in completed["Subject"] and reference in completed["Subject"]
    assert expected[1] in not_completed["Subject"]
    link = f"http://portal.test/me/applications/{reference}"
    for body in (message_text(completed), message_html(completed)):
        assert link in body and expected[3] in body
    for body in (message_text(not_completed), message_html(not_completed)):
        assert expected[2] in body
    assert ('dir="rtl"' in message_html(completed)) == (language == "ar")


# No promotion once the course has started ----------------------------------------------


def _full_offering_with_a_waitlist(**kw):
    offering = factories.offering(seats=1, **kw)
    confirmed = factories.application(offering_=offering, status="confirmed")
    waiting = factories.application(offering_=offering, status="waitlisted")
    return offering, confirmed, waiting


def test_a_seat_freed_before_the_course_starts_promotes_the_waitlist(app):
    offering, confirmed, waiting = _full_offering_with_a_waitlist()
    workflow.transition(confirmed, S.WITHDRAWN, confirmed.applicant)
    db.session.refresh(waiting)
    assert waiting.status == S.ACCEPTED
    assert offering.seats_held == 1


def test_a_seat_freed_after_the_course_starts_promotes_nobody(app, clock):
    offering, confirmed, waiting = _full_offering_with_a_waitlist()
    clock.set(offering.course_starts_on + timedelta(days=2))
    workflow.transition(confirmed, S.WITHDRAWN, confirmed.applicant)
    db.session.refresh(waiting)
    db.session.refresh(offering)
    assert waiting.status == S.WAITLISTED
    assert offering.seats_held == 0
    # Nor does more seats, nor a later look at the waitlist.
    offering.seats = 3
    assert workflow.promote_waitlist(offering) == []
    assert audit_events("application_promoted") == []


@pytest.mark.parametrize(("started", "promoted"), [(False, True), (True, False)])
def test_the_workflow_tick_promotes_only_before_the_course_starts(app, runner, clock, started, promoted):
    offering = factories.offering(seats=1)
    late = factories.application(offering_=offering, status="accepted")
    waiting = factories.application(offering_=offering, status="waitlisted")
    db.session.commit()
    moment = late.confirmation_deadline + timedelta(hours=1)
    if started:
        moment = max(moment, offering.course_starts_on + timedelta(days=1))
    else:
        assert moment < offering.course_starts_on
    clock.set(moment)
    result = runner.invoke(args=["workflow", "tick"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(type(late), late.id).status == S.EXPIRED
    assert db.session.get(type(waiting), waiting.id).status == (S.ACCEPTED if promoted else S.WAITLISTED)


# The cohort page -----------------------------------------------------------------------


def test_before_the_course_starts_the_page_says_when_recording_opens_and_has_no_buttons(app):
    offering = factories.offering()
    application = factories.application(offering_=offering, status="confirmed")
    client, _ = _reviewer_client(app, offering)
    response = client.get(f"/review/offerings/{offering.id}/cohort")
    assert response.status_code == 200
    text = page_text(response)
    assert application.applicant.display_name in text
    assert 'id="recording-closed"' in text
    assert 'name="outcome"' not in text and 'type="checkbox"' not in text
    # The queue links to the cohort of each of the reviewer's offerings.
    assert f"/review/offerings/{offering.id}/cohort" in client.get("/review").get_data(as_text=True)
    # And posting anyway is refused by the workflow, reported on the page.
    client.post(
        f"/review/offerings/{offering.id}/cohort",
        data={"references": [application.reference], "outcome": "completed"},
    )
    db.session.expire_all()
    assert db.session.get(type(application), application.id).status == S.CONFIRMED
    report = page_text(client.get(f"/review/offerings/{offering.id}/cohort"))
    assert "Participants mis à jour : 0" in report
    assert "son résultat ne peut être enregistré qu'à partir de ce jour" in report


def test_a_reviewer_records_one_participant_then_several_and_sees_what_failed(app, deliver, smtp_server):
    offering = _started()
    other_offering = _started()
    participants = [factories.application(offering_=offering, status="confirmed") for _ in range(4)]
    stranger = factories.application(offering_=other_offering, status="confirmed")
    waiting = factories.application(offering_=offering, status="waitlisted")
    client, reviewer = _reviewer_client(app, offering)
    path = f"/review/offerings/{offering.id}/cohort"
    page = page_text(client.get(path))
    for a in participants:
        assert a.reference in page
    assert stranger.reference not in page and waiting.reference not in page

    # One row: completed.
    response = client.post(path, data={"references": [participants[0].reference], "outcome": "completed"})
    assert response.status_code == 302 and response.location.endswith(path)
    # Several: not completed without a reason is refused for each, with the reason why.
    second = [participants[1].reference, participants[2].reference]
    client.post(path, data={"references": second, "outcome": "not_completed", "reason": ""})
    page = page_text(client.get(path))
    assert "Choisissez pourquoi la formation n'a pas été achevée." in page
    # With a reason; plus one already recorded, one of another offering and a wait-listed one.
    refs = [*second, participants[0].reference, stranger.reference, waiting.reference]
    client.post(path, data={"references": refs, "outcome": "not_completed", "reason": "never_came"})
    page = page_text(client.get(path))
    result = page[page.index('id="cohort-result"') :]
    assert "Participants mis à jour : 2" in result
    assert "Non traités (3)" in result
    for ref in (participants[0].reference, stranger.reference, waiting.reference):
        assert ref in result
    assert "Candidature introuvable." in result
    db.session.expire_all()
    statuses = {a.reference: db.session.get(type(a), a.id) for a in [*participants, stranger, waiting]}
    assert statuses[participants[0].reference].status == S.COMPLETED
    for ref in second:
        assert (statuses[ref].status, statuses[ref].completion_reason) == (S.NOT_COMPLETED, "never_came")
    assert statuses[participants[3].reference].status == S.CONFIRMED
    assert statuses[stranger.reference].status == S.CONFIRMED
    assert statuses[waiting.reference].status == S.WAITLISTED
    # The page shows each outcome and reason; recorded rows have no buttons left.
    row = page[page.index(f'data-reference="{second[0]}"') :]
    row = row[: row.index("</tr>")]
    assert "Formation non achevée" in row and "s'est jamais présenté(e)" in row
    assert 'name="outcome"' not in row
    assert len(audit_events("outcome_recorded")) == 3
    assert deliver()[0] == 3


def test_the_cohort_page_is_for_the_offerings_reviewers_and_administrators(app):
    offering = _started()
    application = factories.application(offering_=offering, status="confirmed")
    path = f"/review/offerings/{offering.id}/cohort"
    outsider_client, _ = _reviewer_client(app, factories.offering())
    applicant_client = app.test_client()
    factories.login(applicant_client, application.applicant)
    for client in (outsider_client, applicant_client):
        assert client.get(path).status_code == 404
        assert (
            client.post(
                path, data={"references": [application.reference], "outcome": "completed"}
            ).status_code
            == 404
        )
    assert outsider_client.get("/review/offerings/999999/cohort").status_code == 404
    db.session.expire_all()
    assert db.session.get(type(application), application.id).status == S.CONFIRMED
    admin, _ = admin_client(app)
    assert admin.get(path).status_code == 200
    admin.post(path, data={"references": [application.reference], "outcome": "completed"})
    db.session.expire_all()
    assert db.session.get(type(application), application.id).status == S.COMPLETED


def test_the_cohort_page_pages_by_fifty_with_a_constant_number_of_queries(app, query_counter):
    offering = _started(seats=1000)
    client, _ = _reviewer_client(app, offering)
    path = f"/review/offerings/{offering.id}/cohort"

    def grow(times):
        for _ in range(times):
            for status in ("confirmed", "confirmed", "completed", "not_completed", "submitted"):
                factories.application(offering_=offering, status=status)
        db.session.commit()

    def count():
        client.get(path)
        with query_counter() as counter:
            response = client.get(path)
        assert response.status_code == 200
        return counter.count

    grow(2)
    small = count()
    # The session, the offering and its reviewers, the page, its count and the counters.
    assert small <= 8
    grow(18)
    assert count() == small
    page = page_text(client.get(path))
    assert "80 participants" in page
    assert page.count("<tr data-reference=") == 50
    second = page_text(client.get(path + "?page=2"))
    assert second.count("<tr data-reference=") == 30


def test_administrators_reach_the_cohort_from_the_offering_and_export_the_outcomes(app):
    offering = _started()
    factories.application(offering_=offering, status="completed")
    factories.application(offering_=offering, status="not_completed", reason="excluded")
    client, _ = admin_client(app)
    page = client.get(f"/admin/offerings/{offering.id}").get_data(as_text=True)
    assert f'href="/review/offerings/{offering.id}/cohort"' in page
    for path in ("/admin/export.csv", "/admin/export.xlsx"):
        assert client.get(path).status_code == 200
    csv = client.get("/admin/export.csv").get_data(as_text=True)
    assert "Formation achevée" in csv and "Formation non achevée" in csv


# The participant's pages ---------------------------------------------------------------


def test_the_participant_sees_the_outcome_on_the_dashboard_page_and_timeline(app):
    offering = _started()
    applicant = factories.user()
    application = factories.application(applicant, offering, status="not_completed", reason="dropped_out")
    db.session.commit()
    client = app.test_client()
    factories.login(client, applicant)
    dashboard = page_text(client.get("/me"))
    assert 'data-status="not_completed"' in dashboard
    assert "Formation non achevée" in dashboard and "A abandonné en cours de formation" in dashboard
    page = page_text(client.get(f"/me/applications/{application.reference}"))
    assert 'id="outcome"' in page and "A abandonné en cours de formation" in page
    timeline = page[page.index('id="timeline-title"') :]
    assert 'data-status="not_completed"' in timeline


def test_a_completed_participant_is_told_the_certificate_comes_on_the_page(app):
    applicant = factories.user()
    application = factories.application(applicant, _started(), status="completed")
    db.session.commit()
    client = app.test_client()
    factories.login(client, applicant)
    page = page_text(client.get(f"/me/applications/{application.reference}"))
    assert 'data-status="completed"' in page and "certificat" in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_cohort_and_the_participants_page_are_valid_html(app, html_checker, language):
    offering = _started()
    factories.application(offering_=offering, status="confirmed")
    factories.application(offering_=offering, status="completed")
    gone = factories.application(offering_=offering, status="not_completed", reason="excluded")
    gone.applicant.locale = language
    reviewer = factories.reviewer(offering, locale=language)
    db.session.commit()
    client = app.test_client()
    factories.login(client, reviewer)
    html_checker.assert_valid(
        client.get(f"/review/offerings/{offering.id}/cohort").get_data(as_text=True), "cohort"
    )
    before = factories.offering()
    factories.application(offering_=before, status="confirmed")
    reviewer.reviewed_offerings.append(before)
    db.session.commit()
    html_checker.assert_valid(
        client.get(f"/review/offerings/{before.id}/cohort").get_data(as_text=True), "cohort"
    )
    participant = app.test_client()
    factories.login(participant, gone.applicant)
    html_checker.assert_valid(
        participant.get(f"/me/applications/{gone.reference}").get_data(as_text=True), "detail"
    )
    html_checker.assert_valid(participant.get("/me").get_data(as_text=True), "dashboard")
