"""Issue 6 point 17 (ASVS 7.1.1, 8.3.5): CIN and phone never in logs, URLs or error pages;
staff views of personal data are in the audit log.

A full journey — register, confirm, apply, review (queue, CIN search, application page,
document), decide, confirm the seat, change the phone, administration and exports, some
error pages — runs with every log record captured at DEBUG; the log messages, every URL
requested or redirected to, and the body of every error page are searched for the CIN
and the phone number as typed, as stored and in E.164.

Audit of staff views: one ``view_personal_data`` event per staff member, object and hour
(an application page or a document), so the log answers "who saw this person's data and
when" without one row per page refresh.
"""

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.applications.models import Application, Document
from portal.audit import AuditEvent
from portal.auth.models import User
from portal.extensions import db
from tests import factories
from tests.helpers import PortalClient, find_link
from tests.security import formdata
from tests.security import world as w

CIN_TYPED, CIN = "qx 918273", "QX918273"
PHONE_TYPED, PHONE_NEW = "0661 23 45 67", "07.71.22.33.44"
SECRETS = (
    CIN,
    "918273",
    "0661234567",
    "+212661234567",
    "212661234567",
    "661234567",
    "0771223344",
    "+212771223344",
    "771223344",
)
NOW = datetime(2026, 10, 1, 9, 30)


class RecordingClient(PortalClient):
    """A test client that remembers every URL it asked for or was redirected to."""

    urls = None
    error_pages = None

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
        query = kwargs.get("query_string")
        self.urls.append(f"{path}?{query}" if query else path)
        if "Location" in response.headers:
            self.urls.append(response.headers["Location"])
        # Error pages (4xx, 5xx); 422 is a form shown again with what its user typed.
        if response.status_code >= 400 and response.status_code != 422:
            self.error_pages.append(response.get_data(as_text=True))
        return response


def test_cin_and_phone_never_reach_logs_urls_or_error_pages(app, caplog, clock, smtp_server, deliver):
    clock.set(NOW)
    caplog.set_level(logging.DEBUG)
    for name in ("portal", "portal.request", "portal.errors", "werkzeug"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    urls, error_pages = [], []
    RecordingClient.urls, RecordingClient.error_pages = urls, error_pages

    def client():
        app.test_client_class = RecordingClient
        return app.test_client()

    city = factories.city("Rabat")
    offering = factories.offering(city=city)
    reviewer = factories.reviewer(offering)
    admin = factories.user(role="admin")
    db.session.commit()
    # deliver() ends the test's session: keep ids, fetch the rows again when needed.
    offering_id, reviewer_id, admin_id = offering.id, reviewer.id, admin.id

    # The applicant registers, confirms, applies; an error page or two on the way.
    applicant = client()
    data = formdata.registration(city, cin=CIN_TYPED, phone=PHONE_TYPED, email="qx.person@example.org")
    assert applicant.post("/auth/register", data=data).status_code == 302
    duplicate = formdata.registration(
        city, cin=CIN_TYPED, phone=PHONE_TYPED, email="someone.else@example.org"
    )
    # CIN taken: the same answer as a new account, and a notice to the CIN's owner.
    assert client().post("/auth/register", data=duplicate).status_code == 302
    deliver()
    link = find_link(smtp_server.wait_for(1)[0], "/auth/confirm/")
    assert applicant.get(link).status_code == 200
    assert applicant.post(link).status_code == 302
    response = applicant.post(
        f"/apply/{offering_id}", data=formdata.application(), content_type="multipart/form-data"
    )
    assert response.status_code == 302
    application = db.session.scalars(select(Application)).one()
    document = db.session.scalars(select(Document)).one()
    ref = application.reference
    assert applicant.get(f"/me/applications/{ref}").status_code == 200
    assert applicant.get("/me/applications/APP-0000-000000").status_code == 404
    assert applicant.get(f"/review/applications/{ref}").status_code == 404
    assert applicant.get("/no-such-page").status_code == 404

    # The reviewer: queue, CIN search (a POST), application page, document, review, decision.
    staff = client()
    factories.login(staff, db.session.get(User, reviewer_id))
    assert staff.get("/review", query_string={"q": "El Idrissi"}).status_code == 200
    found = staff.post("/review/cin", data={"cin": CIN_TYPED})
    assert found.status_code == 200 and ref in found.get_data(as_text=True)
    assert staff.get(f"/review/applications/{ref}").status_code == 200
    assert staff.get(f"/review/applications/{ref}/documents/{document.id}").status_code == 200
    assert staff.post(f"/review/applications/{ref}", data=formdata.review()).status_code == 302
    db.session.expire_all()
    decided = staff.post(f"/review/applications/{ref}/decide", data=formdata.decision(application))
    assert decided.status_code == 302

    # The applicant confirms the seat and changes the phone number (current password needed).
    assert applicant.post(f"/me/applications/{ref}/confirm").status_code == 302
    user = db.session.scalar(select(User).where(User.email == "qx.person@example.org"))
    wrong = formdata.profile(user, phone=PHONE_NEW, current_password="not the password at all")
    assert applicant.post("/me/profile", data=wrong).status_code in (200, 422)
    right = formdata.profile(user, phone=PHONE_NEW, current_password=formdata.PASSWORD)
    assert applicant.post("/me/profile", data=right).status_code == 302
    assert applicant.get("/me/data.json").status_code == 200

    # The administrator: dashboard, users, exports, audit.
    office = client()
    factories.login(office, db.session.get(User, admin_id))
    for path in ("/admin", "/admin/users", "/admin/export.csv", "/admin/export.xlsx", "/admin/audit"):
        assert office.get(path).status_code == 200
    assert office.get("/admin/users", query_string={"q": "Idrissi"}).status_code == 200
    deliver()

    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "POST /auth/register 302" in logged  # the request log was captured
    assert len(urls) > 30
    for secret in SECRETS:
        assert secret.lower() not in logged.lower(), f"{secret} in the logs"
        assert not any(secret.lower() in url.lower() for url in urls), f"{secret} in a URL"
        for page in error_pages:
            i = page.find(secret)
            assert i < 0, f"{secret} in an error page: {page[max(0, i - 300) : i + 100]}"
    for typed in (CIN_TYPED, PHONE_TYPED, PHONE_NEW):
        assert typed not in logged and not any(typed in url for url in urls)


def test_sql_statements_and_their_parameters_are_not_logged_by_default(app):
    # SQLAlchemy would log every statement with its parameters (CINs included) at INFO;
    # its own loggers stay at WARNING and echo is off, whatever the root level.
    assert not app.config.get("SQLALCHEMY_ECHO")
    assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() >= logging.WARNING


def audit_views():
    db.session.rollback()
    return db.session.execute(
        select(AuditEvent.actor_id, AuditEvent.object_type, AuditEvent.object_id)
        .where(AuditEvent.action == "view_personal_data")
        .order_by(AuditEvent.id)
    ).all()


def test_staff_views_of_personal_data_are_audited_once_per_hour(app, clock):
    clock.set(NOW)
    offering = factories.offering()
    application = factories.application(offering_=offering)
    document = w.add_document(application)
    reviewer, admin = factories.reviewer(offering), factories.user(role="admin")
    staff, office, owner = w.new_client(app), w.new_client(app), w.new_client(app)
    factories.login(staff, reviewer)
    factories.login(office, admin)
    factories.login(owner, application.applicant)
    ref = application.reference
    page = f"/review/applications/{ref}"
    doc_paths = (f"{page}/documents/{document.id}", f"/me/applications/{ref}/documents/{document.id}")

    assert staff.get(page).status_code == 200
    assert audit_views() == [(reviewer.id, "application", str(application.id))]
    staff.get(page)
    clock.set(NOW + timedelta(minutes=59))
    staff.get(page)
    assert len(audit_views()) == 1  # once per hour, not once per refresh
    clock.set(NOW + timedelta(minutes=61))
    staff.get(page)
    assert len(audit_views()) == 2
    for path in doc_paths:
        assert office.get(path).status_code == 200
    assert audit_views()[2:] == [(admin.id, "document", str(document.id))]
    # The applicant reading their own document is not a staff view.
    assert owner.get(doc_paths[1]).status_code == 200
    assert len(audit_views()) == 3
    # Staff of another offering see nothing, so nothing is recorded for them.
    outsider = w.new_client(app)
    factories.login(outsider, factories.reviewer(factories.offering()))
    assert outsider.get(page).status_code == 404
    assert len(audit_views()) == 3
    # The administrator reads them on the audit page.
    audit = office.get("/admin/audit", query_string={"action": "view_personal_data"})
    assert audit.get_data(as_text=True).count("view_personal_data") >= 3
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) >= 3


def test_exports_of_personal_data_are_audited(app):
    factories.application()
    office = w.new_client(app)
    factories.login(office, factories.user(role="admin"))
    office.get("/admin/export.csv")
    office.get("/admin/export.xlsx")
    db.session.rollback()
    formats = [
        e.after["format"]
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
        )
    ]
    assert formats == ["csv", "xlsx"]


def test_the_request_log_line_carries_no_query_string(app, caplog):
    caplog.set_level(logging.INFO, logger="portal.request")
    client = w.new_client(app)
    client.get("/tracks", query_string={"city": "1", "q": CIN})
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.request"]
    assert lines and all(CIN not in line and "?" not in line for line in lines)
    assert re.search(r"GET /tracks 200 ", lines[-1])
