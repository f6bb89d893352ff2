"""The baseline the portal is compared with: bare Flask + SQLAlchemy + Jinja.

B1 ``GET /b1`` reads a dozen rows, adds one, sorts them and renders them in an escaped
HTML table (TechEmpower's "fortunes"). B2 ``POST /b2`` inserts one row and commits.

It runs under the portal's ``gunicorn.conf.py`` on the portal's database (same URL,
``PORTAL_SQLALCHEMY_DATABASE_URI``), with the same engine settings: on SQLite WAL, the
busy timeout, the page cache size and ``BEGIN IMMEDIATE`` for writing requests (not
the portal's writer queue: its single-statement transactions gain nothing from it); on
PostgreSQL the portal's pool options. Serve it with ``gunicorn -c gunicorn.conf.py 'bench.baseline_app:create_app()'``.
"""

import os

from flask import Flask, has_request_context, render_template, request
from jinja2 import DictLoader
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from portal.config import Config

metadata = MetaData()

b2_rows = Table(
    "bench_b2_row",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("payload", String(200), nullable=False),
    Column("created_at", DateTime, server_default=func.current_timestamp(), nullable=False),
)


class Base(DeclarativeBase):
    """Declarative base of the baseline's own tables."""

    metadata = metadata


class Fortune(Base):
    """A row of the B1 page."""

    __tablename__ = "bench_fortune"

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(2048))


FORTUNES = (
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
)

TEMPLATE = """<!DOCTYPE html>
<html><head><title>Fortunes</title></head>
<body><table><tr><th>id</th><th>message</th></tr>
{% for fortune in fortunes %}<tr><td>{{ fortune.id }}</td><td>{{ fortune.message }}</td></tr>
{% endfor %}</table></body></html>"""


def create_tables(engine):
    """Create the baseline's tables and its twelve fortunes (idempotent)."""
    metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        if not session.scalar(select(func.count()).select_from(Fortune)):
            session.add_all(Fortune(id=n + 1, message=m) for n, m in enumerate(FORTUNES))


def make_engine(url):
    """An engine configured as the portal configures its own for ``url``."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        busy_ms = int(os.environ.get("PORTAL_SQLITE_BUSY_TIMEOUT_MS", Config.SQLITE_BUSY_TIMEOUT_MS))

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA cache_size = -{32 * 1024}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection):
            writes = request.method not in ("GET", "HEAD", "OPTIONS") if has_request_context() else True
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

        return engine
    return create_engine(url, **Config.DATABASE_POOL_OPTIONS)


def create_app(url=None):
    """The baseline application on ``url`` (default: the portal's database URL)."""
    url = url or os.environ.get("BENCH_DATABASE_URL") or os.environ["PORTAL_SQLALCHEMY_DATABASE_URI"]
    engine = make_engine(url)
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"fortunes.html": TEMPLATE})

    @app.get("/b1")
    def fortunes():
        """A dozen rows read with the ORM, one added, sorted and rendered."""
        with Session(engine) as session:
            rows = list(session.scalars(select(Fortune)))
        rows.append(Fortune(id=0, message="Additional fortune added at request time."))
        rows.sort(key=lambda f: f.message)
        return render_template("fortunes.html", fortunes=rows)

    @app.post("/b2")
    def insert_row():
        """One row inserted and committed, then a redirect (as a form submission ends)."""
        payload = request.form.get("payload", "")[:200] or "row"
        with Session(engine) as session, session.begin():
            session.execute(insert(b2_rows).values(payload=payload))
        return "", 303, {"Location": "/b1"}

    @app.get("/healthz")
    def healthz():
        """Ready when the database answers."""
        with engine.connect() as connection:
            connection.execute(select(1))
        return {"status": "ok"}

    return app
