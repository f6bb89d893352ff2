"""Database engine tuning: SQLite pragmas and write transactions that cannot deadlock.

On SQLite a deferred transaction that reads and then writes can fail at once with
"database is locked" when another connection writes first; the busy timeout does not
help in that case. Requests that may write (every method but GET/HEAD/OPTIONS) and CLI
commands therefore start their transactions with ``BEGIN IMMEDIATE``, which waits for
the write lock up front. Reads keep plain ``BEGIN`` and, with WAL, never block.
"""

import contextvars

from flask import has_request_context, request
from sqlalchemy import event

from portal.extensions import db

_write_intent = contextvars.ContextVar("write_intent", default=None)


def write_intent(value=True):
    """Declare that transactions in this context will write (returns a reset token)."""
    return _write_intent.set(value)


def _wants_write():
    explicit = _write_intent.get()
    if explicit is not None:
        return explicit
    if has_request_context():
        return request.method not in ("GET", "HEAD", "OPTIONS")
    return True


def is_sqlite():
    """Whether the bound database is SQLite."""
    return db.engine.dialect.name == "sqlite"


def init_app(app):
    """Install the SQLite connection hooks when the database is SQLite."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    busy_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write() else "BEGIN")
