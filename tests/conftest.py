"""Shared fixtures: the app on a real database, a real SMTP server on loopback, helpers.

The database is SQLite (a file, so threads can share it) unless PORTAL_TEST_DATABASE_URL
points elsewhere (PostgreSQL in CI). The schema is created once per run; every test
starts from empty tables.
"""

import email
import email.policy
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete, event

from portal import create_app, timeutil
from portal.extensions import cache, db, mail
from tests import factories
from tests.helpers import TEST_DATABASE_URL, TEST_TOTP_KEY, PortalClient, free_port


class Mailbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        if self.refuse:
            return "451 Try again later"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"

    def clear(self):
        with self.lock:
            self.messages.clear()

    def wait_for(self, count, timeout=5):
        """Wait until ``count`` messages arrived; return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        with self.lock:
            return list(self.messages)

    def to(self, address):
        """Messages sent to ``address``."""
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on loopback for the whole run."""
    handler = Mailbox()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture(scope="session")
def _app(smtp_server):
    tmp = Path(tempfile.mkdtemp(prefix="portal-test-"))
    url = TEST_DATABASE_URL or f"sqlite:///{tmp / 'test.db'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "TOTP_ENCRYPTION_KEYS": [TEST_TOTP_KEY],
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_server.port,
            "MAIL_SUPPRESS_SEND": False,
            "BASE_URL": "http://portal.test",
            "UPLOAD_FOLDER": str(tmp / "uploads"),
            "MAIL_FILE_FOLDER": str(tmp / "mail"),
            "RATELIMIT_ENABLED": False,
            # The security tests turn the staff second factor on; other tests log staff in
            # with the password only.
            "STAFF_TWO_FACTOR_REQUIRED": False,
            # Tests move the frozen clock by days while a user stays logged in; the session
            # tests put back the shipped timeouts (30 minutes idle, 12 hours in all).
            "SESSION_IDLE_MINUTES": 100 * 365 * 24 * 60,
            "SESSION_ABSOLUTE_HOURS": 100 * 365 * 24,
            "OUTBOX_BACKOFF_SECONDS": 1,
            # OWASP's minimum argon2id cost, five times cheaper than the shipped one: every
            # login verifies a hash. tests/security/test_passwords.py checks the shipped cost.
            "PASSWORD_HASH_TIME_COST": 2,
            "PASSWORD_HASH_MEMORY_KIB": 19 * 1024,
            # Tests change data between two looks at the dashboard; tests/functional/
            # test_caching.py turns the cache of its figures back on.
        }
    )
    mail.init_app(app)
    with app.app_context():
        import portal.models  # noqa: F401 - every table in the metadata

        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


def _empty_tables():
    db.session.rollback()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(delete(table))


@pytest.fixture
def app(_app, smtp_server):
    """The application, with empty tables, an empty cache, an empty mailbox and an unfrozen clock."""
    saved = dict(_app.config)
    # Every client, from the ``client`` fixture or ``app.test_client()``, runs each request
    # in its own app context, as in production (a test may have swapped the class).
    _app.test_client_class = PortalClient
    smtp_server.clear()
    smtp_server.refuse = False
    with _app.app_context():
        _empty_tables()
        # Pages cached by an earlier test may match this test's data by chance (same ids).
        cache.clear()
    ctx = _app.app_context()
    ctx.push()
    try:
        yield _app
    finally:
        db.session.remove()
        ctx.pop()
        timeutil.freeze(None)
        _app.config.clear()
        _app.config.update(saved)
        for folder in (_app.config["UPLOAD_FOLDER"], _app.config["MAIL_FILE_FOLDER"]):
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def applicant(app, client):
    """Amina, an applicant logged in on ``client``, whose profile form is valid as it stands."""
    user = factories.user(
        email="amina@example.org",
        profile={"cin": "AB123456", "phone": "+212612345678", "last_name": "Benali"},
    )
    db.session.commit()
    assert factories.login(client, user).status_code == 302
    return user


@pytest.fixture
def throttled(app):
    """Throttling of guesses on, in a fresh in-memory storage (``app`` restores the config)."""
    from portal.auth import throttle

    app.config["RATELIMIT_ENABLED"] = True
    app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    app.extensions.pop(throttle._EXTENSION, None)
    yield app
    app.extensions.pop(throttle._EXTENSION, None)


@pytest.fixture
def client(app):
    """A test client (see PortalClient)."""
    return app.test_client()


@pytest.fixture
def city(app):
    """Rabat, for the city selects of the forms; committed so requests see it."""
    obj = factories.city("Rabat")
    db.session.commit()
    return obj


@pytest.fixture
def catalogue(app):
    """The catalogue that ships with the portal (regions, cities, tracks, offerings), committed."""
    from portal.catalog.operations import seed_catalogue

    seed_catalogue()
    db.session.commit()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def clock():
    """Freeze ``utcnow()``: ``clock.set(datetime)``; unfrozen after the test."""

    class Clock:
        def set(self, moment):
            timeutil.freeze(moment)
            return moment

    yield Clock()
    timeutil.freeze(None)


@pytest.fixture
def query_counter(app):
    """Count SQL statements: ``with query_counter() as q: ...; q.count``."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        class Counter:
            count = 0
            statements = []

        counter = Counter()

        def _count(conn, cursor, statement, *args):
            counter.count += 1
            counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", _count)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", _count)

    return counting


@pytest.fixture
def deliver(app):
    """Deliver the outbox now (as ``flask outbox send`` does); returns (sent, failed)."""
    from portal.notifications.delivery import send_due

    def _deliver():
        result = send_due()
        db.session.remove()
        return result

    return _deliver


@pytest.fixture(scope="session")
def html_checker():
    """The Nu HTML Checker, one service for the run: ``html_checker.assert_valid(html, page)``."""
    from tests.html_checker import HtmlChecker

    checker = HtmlChecker()
    yield checker
    checker.stop()
