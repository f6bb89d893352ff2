"""Issue 11 points 5 (logging half) and 6: no secret in logs, no version banner.

- Statement parameters never appear in an engine error, nor in the log of it: under
  concurrent writes on SQLite, "database is locked" was logged with the SQL and its
  parameters (an email address...).
- The development server of ``make run`` names no werkzeug nor Python version, and the
  access logs (werkzeug's, gunicorn's) mask the tokens of emailed links and query strings.
"""

import http.client
import logging
import runpy
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, StatementError
from werkzeug.serving import make_server

from portal import logmask
from portal.auth import tokens
from portal.devserver import RequestHandler
from portal.extensions import db
from tests import factories
from tests.helpers import another_worker, free_port

SECRET_EMAIL = "very.private.person@example.org"
ROOT = Path(__file__).resolve().parents[2]


def test_engine_errors_carry_no_parameters(app):
    with pytest.raises((DBAPIError, StatementError)) as caught:
        db.session.execute(text("SELECT * FROM no_such_table WHERE email = :email"), {"email": SECRET_EMAIL})
    db.session.rollback()
    assert SECRET_EMAIL not in str(caught.value)
    assert "hide_parameters" in str(caught.value)
    assert db.engine.hide_parameters


def test_a_database_error_in_a_request_logs_no_parameter(app, tmp_path, caplog):
    other = another_worker(app, tmp_path, "w")

    @other.get("/boom")
    def boom():
        db.session.execute(text("SELECT * FROM no_such_table WHERE email = :email"), {"email": SECRET_EMAIL})
        return "never"

    caplog.set_level(logging.DEBUG)
    try:
        response = other.test_client().get("/boom")
    finally:
        with other.app_context():
            db.engine.dispose()
    assert response.status_code == 500
    assert "no_such_table" in caplog.text  # the error was logged...
    assert SECRET_EMAIL not in caplog.text  # ...without the parameter
    assert SECRET_EMAIL not in response.get_data(as_text=True)


def test_mask_text_hides_tokens_and_query_strings():
    line = '127.0.0.1 - - "GET /auth/reset/abc.DEF-123?email=x%40y.ma HTTP/1.1" 200 -'
    masked = logmask.mask_text(line)
    assert "abc.DEF-123" not in masked and "x%40y.ma" not in masked
    assert '"GET /auth/reset/…?… HTTP/1.1" 200' in masked
    assert logmask.mask_text("POST /admin/invite/tok.en HTTP/1.1") == "POST /admin/invite/… HTTP/1.1"
    assert logmask.mask_text("GET /auth/confirm/t0k3n") == "GET /auth/confirm/…"
    assert logmask.mask_text("POST /auth/confirm/resend") == "POST /auth/confirm/resend"
    assert logmask.mask_text("GET /tracks/NUM-TRANS") == "GET /tracks/NUM-TRANS"


@pytest.fixture
def dev_server(app):
    """The portal behind the development server of make run, on a free port."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True, request_handler=RequestHandler)
    logmask.install(logging.getLogger("werkzeug"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(5)


def _get(server, path):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


def test_the_development_server_names_no_version(dev_server):
    response = _get(dev_server, "/healthz")
    assert response.status == 200
    server = response.getheader("Server")
    assert server == "portal"
    assert "Werkzeug" not in server and "Python" not in server


def test_the_development_server_access_log_masks_tokens(app, dev_server, caplog):
    user = factories.user()
    db.session.commit()
    token = tokens.make_confirm_token(user)
    caplog.set_level(logging.INFO, logger="werkzeug")
    _get(dev_server, f"/auth/confirm/{token}?email={SECRET_EMAIL}")
    access = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/auth/confirm/…" in line for line in access), access
    assert not any(token in line or SECRET_EMAIL in line for line in access), access


def test_run_dev_uses_the_development_server():
    script = (ROOT / "scripts" / "run-dev.sh").read_text()
    assert "-m portal.devserver" in script
    assert "$FLASK run" not in script


def test_gunicorn_logs_are_masked():
    from gunicorn.config import Config

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["logger_class"] == "portal.logmask.GunicornLogger"
    config = Config()
    config.set("logger_class", settings["logger_class"])
    config.set("accesslog", "-")
    logger = config.logger_class(config)
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    for log in (logger.access_log, logger.error_log):
        log.addHandler(Keep())
    # gunicorn's access line: its format with the atoms of the request.
    logger.access_log.info(
        config.access_log_format,
        {
            "h": "1.2.3.4",
            "l": "-",
            "u": "-",
            "t": "[now]",
            "r": "GET /auth/reset/s3cr3t?email=a%40b.ma HTTP/1.1",
            "s": "200",
            "b": "5",
            "f": "https://portal/admin/invite/inv1t3",
            "a": "curl",
        },
    )
    logger.error("Invalid request from ip=%s: %s", "1.2.3.4", "GET /auth/confirm/t0k3n?x=1 HTTP/1.1")
    joined = "\n".join(records)
    assert "/auth/reset/…?…" in joined and "/auth/confirm/…?…" in joined
    for secret in ("s3cr3t", "a%40b.ma", "inv1t3", "t0k3n"):
        assert secret not in joined
