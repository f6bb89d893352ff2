"""Database engine tuning: SQLite pragmas and write transactions that cannot deadlock.

On SQLite a deferred transaction that reads and then writes can fail at once with
"database is locked" when another connection writes first; the busy timeout does not
help in that case. Requests that may write (every method but GET/HEAD/OPTIONS) and CLI
commands therefore start their transactions with ``BEGIN IMMEDIATE``, which waits for
the write lock up front. Reads keep plain ``BEGIN`` and, with WAL, never block.

Writers also queue on an exclusive ``flock`` of ``<database>-writer`` before their
``BEGIN IMMEDIATE``, held until the connection goes back to the pool. SQLite's own busy
handler waits by sleeping (up to 100 ms between tries), so under a burst of submissions
from several gunicorn workers most of the time went to sleeping while the lock was
free; the file lock hands it over within a couple of milliseconds. The busy timeout stays
as the backstop (and bounds the wait for the file lock), so nothing can wait forever.

List pages read their rows as named tuples (``plain_rows``).
"""

import contextvars
import fcntl
import os
import time
from collections import namedtuple
from functools import cache

from flask import has_request_context, request
from sqlalchemy import event

from portal.extensions import db

# Polling interval bounds while waiting for the writer lock (seconds).
_LOCK_POLL_MIN = 0.0002
_LOCK_POLL_MAX = 0.002

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


def _acquire_writer_lock(info, timeout):
    """Take the connection's exclusive writer lock, polling briefly; False after ``timeout``."""
    fd = info.get("writer_lock_fd")
    if fd is None or info.get("writer_lock_held"):
        return True
    deadline = time.monotonic() + timeout
    pause = _LOCK_POLL_MIN
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                # Let BEGIN IMMEDIATE and the busy timeout decide (and report) from here.
                return False
            time.sleep(pause)
            pause = min(pause * 2, _LOCK_POLL_MAX)
            continue
        info["writer_lock_held"] = True
        return True


def _release_writer_lock(info):
    """Give the writer lock back (the connection went back to the pool)."""
    if info.pop("writer_lock_held", False):
        fcntl.flock(info["writer_lock_fd"], fcntl.LOCK_UN)


def _close_writer_lock(info):
    """Release and close the connection's lock file descriptor."""
    _release_writer_lock(info)
    fd = info.pop("writer_lock_fd", None)
    if fd is not None:
        os.close(fd)


def init_app(app):
    """Install the SQLite connection hooks when the database is SQLite."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    busy_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    cache_kib = int(app.config["SQLITE_CACHE_KIB"])
    on_disk = engine.url.database not in (None, "", ":memory:") and not engine.url.database.startswith(
        "file:"
    )
    lock_path = f"{engine.url.database}-writer" if on_disk else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if on_disk:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            # Reads: a page cache of 32 MB instead of 2 MB per connection: the review queue
            # and the dashboard's aggregates run 10-20 % faster at 100,000 applications
            # (bench/). Measured and left out: temp_store = MEMORY (slower GROUP BY of
            # dates) and mmap_size (no faster than the cache, and the mapped file counts in
            # the workers' resident memory).
            cursor.execute(f"PRAGMA cache_size = -{cache_kib}")
            # One descriptor per connection: flock locks of separate descriptors exclude
            # each other, in one process (threads) as across processes (workers).
            record.info["writer_lock_fd"] = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if _wants_write():
            # ``info`` of the pooled connection: the dict the connect hook filled.
            _acquire_writer_lock(connection.connection.info, busy_ms / 1000)
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            # Straight to the driver: a deferred BEGIN takes no lock, so it cannot fail the
            # way BEGIN IMMEDIATE can, and SQLAlchemy's statement machinery around it cost
            # 4 % of a logged-in page's CPU (bench/profile_page.py).
            connection.connection.driver_connection.execute("BEGIN")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        if record is not None:
            _release_writer_lock(record.info)

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_connection, record):
        if record is not None:
            _close_writer_lock(record.info)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_connection, record, _exception):
        if record is not None:
            _close_writer_lock(record.info)


@cache
def _row_type(keys):
    return namedtuple("PlainRow", keys)


def plain_rows(result):
    """The rows of ``result`` (a Core result) as named tuples of its columns, by name.

    For the rows a page reads field by field: reading a field of SQLAlchemy's ``Row`` by
    name costs some twenty times what a named tuple's does, and a queue page reads 700.
    """
    make = _row_type(tuple(result.keys()))._make
    return [make(row) for row in result.all()]
