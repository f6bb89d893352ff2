"""Uploaded documents: type detection by content, safe storage, clean-up on rollback.

A file's type is decided by its first bytes, never by its name or the type the browser
declares; filecheck then reads the whole file as that type before it is accepted. Files
are stored under UPLOAD_FOLDER with a random name (no part of it comes from the user);
the original name is kept only, sanitized, as the download name.
Files written during a transaction are removed again if that transaction rolls back,
so the disk never holds a document without its database row.
"""

import contextlib
import hashlib
import os
import secrets
from pathlib import Path, PurePath

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

# Signature → (content type, extension).
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
EXTENSIONS = {content_type: ext for _, content_type, ext in SIGNATURES}
_PENDING = "portal_uploads_pending"
_CHUNK = 64 * 1024


def detect_type(stream):
    """Content type of a file from its first bytes (PDF, JPEG, PNG), or None; rewinds it."""
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    for signature, content_type, _ in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def stream_size(stream):
    """Size in bytes of a seekable stream; rewinds it."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def display_name(filename, content_type):
    """A safe name to offer on download: sanitized stem plus the extension of the real type."""
    stem = secure_filename(PurePath(filename or "").stem)[:100] or "document"
    return f"{stem}{EXTENSIONS.get(content_type, '')}"


def upload_folder():
    """The folder holding the uploads (created on first use)."""
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store(file_storage, session):
    """Write an already validated upload under a random name; return its Document fields.

    The file is registered with ``session``: if the transaction rolls back, it is deleted.
    """
    stream = file_storage.stream
    content_type = detect_type(stream)
    stored_name = secrets.token_hex(16) + EXTENSIONS.get(content_type, "")
    path = upload_folder() / stored_name
    digest = hashlib.sha256()
    size = 0
    # O_EXCL: never overwrite an existing file, whatever the odds of a name collision.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    session.info.setdefault(_PENDING, []).append(path)
    with os.fdopen(fd, "wb") as out:
        stream.seek(0)
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return {
        "original_name": display_name(file_storage.filename, content_type),
        "stored_name": stored_name,
        "content_type": content_type,
        "size": size,
        "sha256": digest.hexdigest(),
    }


def discard_pending(session):
    """Delete the files written in the session's current transaction (it did not commit)."""
    for path in session.info.pop(_PENDING, []):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@event.listens_for(Session, "after_commit")
def _keep_committed_files(session):
    # The rows are committed: the files now belong to them.
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _discard_on_rollback(session, transaction):
    # The outermost transaction ended without after_commit (which runs first): rolled back.
    if transaction.parent is None and session.info.get(_PENDING):
        discard_pending(session)
