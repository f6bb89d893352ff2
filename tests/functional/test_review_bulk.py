"""Bulk decisions on the rows selected in the queue."""

import re

from sqlalchemy import func, select

from portal.applications.models import Application
from portal.audit import AuditEvent
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories
from tests.helpers import message_text


def statuses(applications):
    db.session.expire_all()
    return [db.session.get(Application, a.id).status for a in applications]


def test_bulk_reject_with_a_message_emails_everyone_and_audits_each(app, client, deliver, smtp_server):
    offering = factories.offering()
    reviewer = factories.reviewer(offering)
    apps = [factories.application(offering_=offering) for _ in range(3)]
    untouched = factories.application(offering_=offering)
    db.session.commit()
    factories.login(client, reviewer)
    # The selection is made on the queue page's own form.
    page = client.get("/review").text
    assert 'action="/review/decide"' in page

    response = client.post(
        "/review/decide",
        data={
            "references": [a.reference for a in apps],
            "decision": "rejected",
            "message": "Les places étaient très demandées.",
            "back_sort": "score_desc",
        },
    )
    assert response.status_code == 302
    assert "sort=score_desc" in response.headers["Location"]
    report = client.get(response.headers["Location"]).text
    assert "3 décisions enregistrées." in report
    assert statuses(apps) == ["rejected"] * 3
    assert statuses([untouched]) == ["submitted"]
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "decision"))
        == 3
    )
    # The report is shown once.
    assert "Résultat de la décision groupée" not in client.get("/review").text

    emails = sorted(a.applicant.email for a in apps)
    deliver()
    messages = smtp_server.wait_for(3)
    assert len(messages) == 3
    assert all("Les places étaient très demandées." in message_text(m) for m in messages)
    assert sorted(str(m["To"]) for m in messages) == emails


def test_bulk_accept_stops_at_the_seats_best_first_and_offers_the_waitlist(app, client):
    offering = factories.offering(seats=3)
    reviewer = factories.reviewer(offering)
    factories.application(offering_=offering, status="confirmed")
    scores = [8.0, 14.0, None, 11.0, 3.0]
    apps = [factories.application(offering_=offering, status="under_review", mean_score=s) for s in scores]
    db.session.commit()
    factories.login(client, reviewer)

    response = client.post(
        "/review/decide", data={"references": [a.reference for a in apps], "decision": "accepted"}
    )
    report = client.get(response.headers["Location"]).text
    # Two seats were left: the two best scores get them.
    assert statuses(apps) == ["under_review", "accepted", "under_review", "accepted", "under_review"]
    db.session.expire_all()
    assert apps[0].offering.seats_held == 3
    assert "2 décisions enregistrées." in report
    full = re.search(r'<div class="mt-2" id="bulk-full">(.*?)</div>', report, re.S).group(1)
    for index in (0, 2, 4):
        assert apps[index].reference in full
    assert "les placer sur liste d'attente" in full

    # The offered button wait-lists exactly the refused ones.
    hidden = re.findall(r'name="references" value="([^"]+)"', full)
    assert sorted(hidden) == sorted(apps[i].reference for i in (0, 2, 4))
    client.post("/review/decide", data={"references": hidden, "decision": "waitlisted"})
    assert statuses(apps) == ["waitlisted", "accepted", "waitlisted", "accepted", "waitlisted"]


def test_bulk_reports_failures_and_never_touches_other_offerings(app, client):
    mine = factories.offering()
    other = factories.offering()
    reviewer = factories.reviewer(mine)
    ok = factories.application(offering_=mine)
    confirmed = factories.application(offering_=mine, status="confirmed")
    foreign = factories.application(offering_=other)
    db.session.commit()
    factories.login(client, reviewer)

    response = client.post(
        "/review/decide",
        data={
            "references": [ok.reference, confirmed.reference, foreign.reference, "APP-0000-000000"],
            "decision": "rejected",
        },
    )
    report = client.get(response.headers["Location"]).text
    assert statuses([ok, confirmed, foreign]) == ["rejected", "confirmed", "submitted"]
    assert "1 décision enregistrée." in report
    failed = re.search(r"Non traitées \(3\)", report)
    assert failed, report
    assert f"{foreign.reference}</bdi> — Candidature introuvable." in report
    assert f"{confirmed.reference}</bdi> — " in report
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 1


def test_bulk_without_selection_or_with_a_bad_decision_changes_nothing(app, client):
    offering = factories.offering()
    reviewer = factories.reviewer(offering)
    application = factories.application(offering_=offering)
    db.session.commit()
    factories.login(client, reviewer)
    empty = client.post("/review/decide", data={"decision": "rejected"}, follow_redirects=True)
    assert empty.status_code == 200 and "Sélectionnez au moins une candidature." in empty.text
    bad = client.post(
        "/review/decide",
        data={"decision": "confirmed", "references": [application.reference]},
        follow_redirects=True,
    )
    assert bad.status_code == 200 and "Décision invalide" in bad.text
    assert statuses([application]) == ["submitted"]


def test_bulk_refuses_more_than_a_page_worth_of_references(app, client):
    offering = factories.offering()
    reviewer = factories.reviewer(offering)
    application = factories.application(offering_=offering)
    db.session.commit()
    factories.login(client, reviewer)
    references = [application.reference] + [f"APP-2026-{n:06d}" for n in range(100)]
    response = client.post(
        "/review/decide", data={"decision": "rejected", "references": references}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "au plus 100 candidatures" in response.text
    assert statuses([application]) == ["submitted"]
