"""Production serving: gunicorn settings, ProxyFix, health check, request log, a real gunicorn."""

import http.client
import logging
import os
import re
import runpy
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from portal import create_app
from tests.helpers import TEST_DATABASE_URL, free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
BIN = Path(sys.executable).parent


def load_gunicorn_conf(monkeypatch, **env):
    """The settings gunicorn.conf.py defines under ``env``, checked by gunicorn's own validators."""
    from gunicorn.config import Config

    for name in ("PORT", "HOST", "WEB_CONCURRENCY", "GUNICORN_THREADS", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace = runpy.run_path(str(GUNICORN_CONF))
    config = Config()
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)
    return namespace, config


def test_gunicorn_conf_computes_workers_from_cpu_count(monkeypatch):
    namespace, config = load_gunicorn_conf(monkeypatch)
    cores = len(os.sched_getaffinity(0))
    assert config.workers == 2 * cores + 1
    assert config.bind == ["127.0.0.1:8000"]
    assert config.threads == 1
    # gunicorn's access log would write the query string: the application logs instead.
    assert config.accesslog is None
    assert namespace["wsgi_app"] == "wsgi:app"


def test_gunicorn_conf_reads_the_environment(monkeypatch):
    _namespace, config = load_gunicorn_conf(
        monkeypatch, PORT="8123", HOST="0.0.0.0", WEB_CONCURRENCY="3", GUNICORN_THREADS="4",  # noqa: S104
        FORWARDED_ALLOW_IPS="10.0.0.5",
    )  # fmt: skip
    assert config.workers == 3
    assert config.threads == 4
    assert config.bind == ["0.0.0.0:8123"]
    assert config.forwarded_allow_ips == ["10.0.0.5"]


def _probe_app(app, **config):
    """A fresh application on the test database with a route that shows what it sees of the client."""
    from flask import request

    fresh = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_ENABLED": False,
            **config,
        }
    )

    @fresh.get("/_probe")
    def probe():
        return {"addr": request.remote_addr, "scheme": request.scheme, "host": request.host}

    return fresh


FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "portal.example.ma",
}


def test_forwarded_headers_ignored_without_proxy_fix(app):
    client = _probe_app(app).test_client()
    seen = client.get("/_probe", headers=FORWARDED, environ_base={"REMOTE_ADDR": "127.0.0.9"}).json
    assert seen == {"addr": "127.0.0.9", "scheme": "http", "host": "localhost"}


def test_proxy_fix_takes_client_from_forwarded_headers(app):
    client = _probe_app(app, PROXY_FIX_X_FOR=1).test_client()
    seen = client.get("/_probe", headers=FORWARDED, environ_base={"REMOTE_ADDR": "127.0.0.9"}).json
    assert seen == {"addr": "203.0.113.7", "scheme": "https", "host": "portal.example.ma"}
    # One proxy trusted: an address the client put in front of the proxy's is not believed.
    forged = dict(FORWARDED, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    assert client.get("/_probe", headers=forged).json["addr"] == "203.0.113.7"


def test_healthz_is_503_when_the_database_is_unreachable():
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x",
            "RATELIMIT_ENABLED": False,
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable"}


def test_pool_options_only_for_server_databases(app):
    from portal.extensions import db

    server = create_app(
        {
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x",
            "RATELIMIT_ENABLED": False,
        }
    )
    assert server.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    with server.app_context():
        assert db.engine.pool._pre_ping
    sqlite = create_app(
        {"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://", "RATELIMIT_ENABLED": False}
    )
    assert "pool_pre_ping" not in sqlite.config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_request_log_line_has_request_id_and_no_query_string(client, caplog):
    caplog.set_level(logging.INFO, logger="portal.request")
    response = client.get(
        "/privacy?email=amina%40example.org&cin=AB123456", headers={"X-Request-ID": "req-42.abc"}
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "req-42.abc"
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.request"]
    assert len(lines) == 1
    assert lines[0].startswith("GET /privacy 200 ")
    assert "rid=req-42.abc" in lines[0]
    for secret in ("?", "amina", "example.org", "AB123456", "cin="):
        assert secret not in lines[0]


def test_request_log_generates_an_id_and_masks_tokens(client, caplog):
    caplog.set_level(logging.INFO, logger="portal.request")
    response = client.get("/auth/confirm/secret-token-value", headers={"X-Request-ID": "bad id with spaces"})
    rid = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "portal.request"]
    assert f"rid={rid}" in line
    assert "secret-token-value" not in line
    assert "/auth/confirm/" in line


def test_a_request_refused_before_the_view_is_logged_too(app, caplog):
    caplog.set_level(logging.INFO, logger="portal.request")
    client = _probe_app(app, WTF_CSRF_ENABLED=True).test_client()
    response = client.post("/auth/login", data={"email": "a@example.org"}, headers={"X-Request-ID": "rid-7"})
    assert response.status_code == 400
    assert response.headers["X-Request-ID"] == "rid-7"
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.request"]
    assert len(lines) == 1
    assert lines[0].startswith("POST /auth/login 400 ")
    assert "rid=rid-7" in lines[0]


def _http_get(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def served_database(app, tmp_path):
    """A database gunicorn can serve: the PostgreSQL test database seeded, or a migrated SQLite file."""
    if TEST_DATABASE_URL:
        from portal.catalog.operations import seed_catalogue
        from portal.extensions import db

        seed_catalogue()
        db.session.commit()
        return TEST_DATABASE_URL
    url = f"sqlite:///{tmp_path / 'served.db'}"
    env = dict(
        os.environ, PORTAL_SQLALCHEMY_DATABASE_URI=url, PORTAL_INSTANCE_PATH=str(tmp_path / "instance")
    )
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run(
            [str(BIN / "flask"), "--app", "portal", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    return url


def test_gunicorn_serves_the_portal(served_database, tmp_path):
    port = free_port()
    env = dict(
        os.environ,
        PORT=str(port),
        WEB_CONCURRENCY="2",
        PORTAL_SQLALCHEMY_DATABASE_URI=served_database,
        PORTAL_SECRET_KEY="gunicorn-test-secret",
        PORTAL_INSTANCE_PATH=str(tmp_path / "instance"),
        PORTAL_RATELIMIT_ENABLED="false",
    )
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF)],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 15
            health = None
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    health = _http_get(port, "/healthz")
                    break
                except OSError:
                    time.sleep(0.1)
            assert health is not None, log_path.read_text()
            status, headers, body = health
            assert status == 200
            assert b'"database":"ok"' in body.replace(b" ", b"")
            # gunicorn names itself without a version.
            assert not re.search(r"\d", headers.get("Server", ""))
            status, _headers, body = _http_get(port, "/?utm=x")
            assert status == 200
            assert b"Rabat" in body
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)
    output = log_path.read_text()
    assert "Booting worker" in output
    assert output.count("Booting worker") == 2
    assert re.search(r"GET /healthz 200 [\d.]+ms rid=[0-9a-f]{32}", output)
    assert "utm" not in output
    assert make_url(served_database).password is None or make_url(served_database).password not in output


def test_benchmark_data_generator_is_consistent_and_reusable(client):
    from sqlalchemy import func, select

    from bench.generate import populate
    from portal.applications.models import Application, Document
    from portal.catalog.models import Offering, OfferingAssociationSeat
    from portal.extensions import db
    from portal.vocabulary import ApplicationStatus
    from tests.factories import PASSWORD, _hash

    first = populate(applications=60, password_hash=_hash())
    second = populate(applications=120, burst_applicants=3, burst_offerings=4, password_hash=_hash(), seed=9)
    assert db.session.scalar(select(func.count()).select_from(Application)) == 180
    assert db.session.scalar(select(func.count()).select_from(Document)) >= 180
    for offering in db.session.scalars(select(Offering)):
        held = db.session.scalar(
            select(func.count()).where(
                Application.offering_id == offering.id,
                Application.status.in_(sorted(ApplicationStatus.SEAT_HOLDING)),
            )
        )
        assert offering.seats_held == held <= offering.seats
    # Each seat is counted in its association, as the workflow counts it.
    per_association = db.session.execute(
        select(Application.offering_id, Application.seat_association_id, func.count())
        .where(Application.seat_association_id.is_not(None))
        .group_by(Application.offering_id, Application.seat_association_id)
    ).all()
    counters = db.session.execute(
        select(
            OfferingAssociationSeat.offering_id,
            OfferingAssociationSeat.association_id,
            OfferingAssociationSeat.held,
        )
    ).all()
    assert sorted(per_association) == sorted(counters) and counters
    # Cohorts have outcomes, so the programme's reach has figures.
    assert db.session.scalar(select(func.count()).where(Application.status == ApplicationStatus.COMPLETED))
    assert len(second.burst_emails) == 3 and len(second.burst_offering_ids) == 4
    assert first.queue_count == db.session.scalar(
        select(func.count()).where(
            Application.offering_id == first.queue_offering_id,
            Application.status == ApplicationStatus.UNDER_REVIEW,
            Application.id <= 60,  # the first population's rows (ids follow the largest one, here none)
        )
    )
    # The generated accounts log in through the real form.
    response = client.post("/auth/login", data={"email": second.applicant_email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/me").status_code == 200
