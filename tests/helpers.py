"""Helpers shared by the test modules: clients, emails, pages, the application form, TOTP.

Fixtures live in the conftest files and objects in tests/factories.py; anything else more
than one test module needs lives here (or, for the security tests' fixed world and form
data, in tests/security/world.py, formdata.py and access_matrix.py). Test modules import
from these modules, never from one another.
"""

import html
import io
import os
import re
import socket
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pyotp
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import create_app
from portal.applications.models import Application, Document, StatusChange
from portal.applications.workflow import SeatsFull, WorkflowError
from portal.audit import AuditEvent
from portal.catalog.models import Offering, taking_applications
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.timeutil import utcnow
from tests import factories
from tests.samples import PDF

# The database of the run: SQLite in a temporary folder unless this points elsewhere
# (PostgreSQL in CI).
TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
# The Redis database of the tests that share counts between two instances, flushed by
# them; PORTAL_TEST_REDIS_DB keeps two runs apart (make test gives PostgreSQL's run another).
REDIS_DB = int(os.environ.get("PORTAL_TEST_REDIS_DB", "7"))
REDIS_URI = f"redis://127.0.0.1:6379/{REDIS_DB}"
# The key that encrypts TOTP secrets in the tests (a Fernet key, used nowhere else).
TEST_TOTP_KEY = "7tpZUGGA7h1_-F-0cb3RXD-JbNhO60RHJJIuFsFrNog="


# Clients -------------------------------------------------------------------------------


class PortalClient(FlaskClient):
    """Test client whose requests run as in production, each in its own app context.

    Flask reuses an app context that is already pushed (the ``app`` fixture pushes one
    for factories), which would share ``g`` — the logged-in user, the locale — between
    requests. Each request gets a fresh context instead. The test's own session is
    committed before the request, so the request sees the factories' rows and SQLite is
    not left waiting on the test's write lock, and expired after it, so the test reads
    what the request wrote.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        try:
            with self.application.app_context():
                return super().open(*args, **kwargs)
        finally:
            db.session.expire_all()


def another_worker(app, tmp_path, name, **config):
    """A second application on the test's database, as another gunicorn worker or host.

    It has its own folders and ``config`` on top; dispose of its engine after use.
    """
    other = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "TOTP_ENCRYPTION_KEYS": app.config["TOTP_ENCRYPTION_KEYS"],
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": False,
            "STAFF_TWO_FACTOR_REQUIRED": False,
            "UPLOAD_FOLDER": str(tmp_path / name / "uploads"),
            "MAIL_FILE_FOLDER": str(tmp_path / name / "mail"),
            **config,
        }
    )
    # Each request in its own context of that instance, the test's transaction committed first.
    other.test_client_class = PortalClient
    return other


def free_port():
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_client(app, **kw):
    """A test client logged in as a new administrator; returns (client, administrator)."""
    admin = factories.user(role="admin", **kw)
    db.session.commit()
    client = app.test_client()
    response = factories.login(client, admin)
    assert response.status_code == 302, "administrator login failed"
    return client, admin


def login_with_email(client, email, password=factories.PASSWORD):
    """Log in through the form by address (a factory user may be detached by then)."""
    return client.post("/auth/login", data={"email": email, "password": password})


# Emails --------------------------------------------------------------------------------


def message_text(message):
    """The plain-text body of a received message."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content()


def message_html(message):
    """The HTML body of a received message."""
    part = message.get_body(preferencelist=("html",))
    return part.get_content()


def find_link(message, path_fragment):
    """The first URL in the message's text containing ``path_fragment``; returns its path."""
    for url in re.findall(r"https?://\S+", message_text(message)):
        if path_fragment in url:
            return re.sub(r"^https?://[^/]+", "", url.rstrip(".,)>"))
    raise AssertionError(f"no link with {path_fragment!r} in message {message['Subject']!r}")


def account_notices():
    """(to, subject, text) of every account_changed email in the outbox, oldest first."""
    db.session.rollback()
    rows = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.template == "account_changed").order_by(OutboxEmail.id)
    )
    return [(row.to_address, row.subject, row.body_text) for row in rows]


# Pages ---------------------------------------------------------------------------------


def page_text(response):
    """The response body with HTML entities decoded, for looking up messages."""
    return html.unescape(response.get_data(as_text=True))


def field_error(page, name):
    """The error text shown next to field ``name`` (None when there is none).

    ``page`` is a response or its HTML.
    """
    if not isinstance(page, str):
        page = page.get_data(as_text=True)
    match = re.search(rf'id="{name}-error"[^>]*>(.*?)</div>', page, re.S)
    return html.unescape(match.group(1)).strip() if match else None


def assert_throttled(response, window=3600):
    """The translated 429 page, with a Retry-After header within ``window`` seconds."""
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Trop de tentatives" in page and '<html lang="fr"' in page
    assert 0 < int(response.headers["Retry-After"]) <= window


def audit_events(action):
    """The audit events of ``action``, oldest first."""
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


# The application form ------------------------------------------------------------------

MOTIVATION = (
    "Je coordonne les bénévoles de notre association et je veux apprendre à numériser nos outils. " * 2
)
BENEFIT = "Une association mieux organisée, des dossiers de financement numériques."


def apply_data(motivation=MOTIVATION, benefit=BENEFIT, membership=(PDF, "attestation.pdf"), cin=None):
    """Form data for the application form; files are (bytes, filename) pairs or None."""
    data = {"motivation": motivation, "expected_benefit": benefit}
    if membership is not None:
        data["membership"] = (io.BytesIO(membership[0]), membership[1])
    if cin is not None:
        data["cin_copy"] = (io.BytesIO(cin[0]), cin[1])
    return data


def post_application(client, offering, **kw):
    """Submit the application form for ``offering`` (an Offering or its id)."""
    offering_id = getattr(offering, "id", offering)
    return client.post(f"/apply/{offering_id}", data=apply_data(**kw), content_type="multipart/form-data")


def submission_counts():
    """How many rows a submission writes, table by table."""
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Application, Document, StatusChange, OutboxEmail)
    }


def stored_files(app):
    """Files present in the upload folder."""
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# The staff second factor ---------------------------------------------------------------

# The moment the second-factor tests freeze the clock at.
TOTP_NOW = datetime(2026, 11, 2, 10, 0, 0)


def code_at(secret, moment):
    """The code an authenticator app shows at ``moment``."""
    return pyotp.TOTP(secret).at(moment.replace(tzinfo=UTC))


def staff(role="reviewer"):
    """A committed staff member: a reviewer of a new offering, or an administrator."""
    user = factories.user(role=role) if role == "admin" else factories.reviewer(factories.offering())
    db.session.commit()
    return user


def secret_on(page):
    """The secret shown for typing by hand (spaces removed)."""
    match = re.search(r'<code[^>]*id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>', page)
    assert match, "no secret on the enrolment page"
    return match.group(1).replace(" ", "")


def recovery_codes_on(page):
    """The recovery codes listed on the page shown after enrolment."""
    block = page.split('id="recovery-codes"')[1].split("</ul>")[0]
    return re.findall(r"<li[^>]*>([0-9A-Z-]+)</li>", block)


def enrol(client, user):
    """Log in with the password and enrol an authenticator; return (secret, recovery codes)."""
    assert factories.login(client, user).status_code == 302
    page = client.get("/auth/two-factor/setup").get_data(as_text=True)
    secret = secret_on(page)
    done = client.post("/auth/two-factor/setup", data={"code": code_at(secret, TOTP_NOW)})
    assert done.status_code == 200, done.get_data(as_text=True)
    return secret, recovery_codes_on(done.get_data(as_text=True))


def takes_applications(offering):
    """Whether ``offering`` is open now, by the catalogue's one definition (an SQL condition)."""
    query = select(Offering.id).where(Offering.id == offering.id, taking_applications(utcnow()))
    return db.session.scalar(query) is not None


# Races -----------------------------------------------------------------------------------

# Worker threads of the concurrency tests (as many as concurrent reviewer sessions).
THREADS = 8


class Race:
    """Run ``work(item)`` for each item, spread over threads that start together."""

    def __init__(self, app, threads):
        self.app = app
        self.threads = threads
        self.barrier = threading.Barrier(threads)
        self.lock = threading.Lock()
        self.outcomes = Counter()
        self.errors = []

    def _note(self, outcome, error=None):
        with self.lock:
            self.outcomes[outcome] += 1
            if error is not None:
                self.errors.append(error)

    def _run(self, chunk, work):
        with self.app.app_context():
            try:
                self.barrier.wait(timeout=30)
                for item in chunk:
                    try:
                        work(item)
                        db.session.commit()
                    except SeatsFull:
                        db.session.rollback()
                        self._note("full")
                    except WorkflowError as error:
                        db.session.rollback()
                        self._note(type(error).__name__)
                    except Exception as error:  # noqa: BLE001 - any other error fails the test
                        db.session.rollback()
                        self._note("error", repr(error))
                    else:
                        self._note("ok")
            finally:
                db.session.remove()

    def run(self, chunks, work):
        """Start one thread per chunk (all at once) and wait for them."""
        assert len(chunks) == self.threads
        db.session.remove()  # the main thread holds nothing while the race runs
        threads = [threading.Thread(target=self._run, args=(chunk, work)) for chunk in chunks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
            assert not thread.is_alive(), "a worker thread hung"
        return self


def reach_cells(html, row):
    """{figure: text} of the reach table's row ``data-row="row"`` (/admin/reach, /programme)."""
    match = re.search(rf'<tr[^>]*data-row="{re.escape(row)}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, row
    return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', match.group(1)))
