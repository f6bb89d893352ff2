"""Issue 6 point 11 (ASVS 12.1–12.5): uploads checked by content and size, stored safely.

The type is decided by the file's first bytes, never by its name or declared type; files
are stored under a random name outside ``static/``; downloads are attachments that the
browser may not sniff; a path in the file name cannot leave the upload folder.
"""

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.applications.models import Application, Document
from portal.extensions import db
from tests import factories
from tests.security import formdata
from tests.security import world as w

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
BAD_FORMAT = "Format non accepté : envoyez un fichier PDF, JPEG ou PNG."
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(pdf|jpg|png)")


@pytest.fixture
def applicant(app):
    """A logged-in applicant, an open offering and the client."""
    offering = factories.offering()
    user = factories.user()
    client = w.new_client(app)
    factories.login(client, user)
    return client, offering, user


def submit(client, offering, content, filename, content_type=None):
    """Post the application form with ``content`` as the membership file."""
    data = formdata.application(membership=None)
    data["membership"] = (
        (io.BytesIO(content), filename, content_type) if content_type else (io.BytesIO(content), filename)
    )
    return client.post(f"/apply/{offering.id}", data=data, content_type="multipart/form-data")


def files_in(folder):
    folder = Path(folder)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def documents():
    return db.session.scalar(select(func.count()).select_from(Document))


@pytest.mark.parametrize(
    ("content", "filename", "declared"),
    [
        (HTML, "attestation.pdf", "application/pdf"),
        (SVG, "attestation.pdf", "application/pdf"),
        (SVG, "scan.png", "image/png"),
        (HTML, "attestation.html", "text/html"),
        (b"MZ\x90\x00" + b"\x00" * 64, "attestation.pdf", "application/pdf"),
    ],
)
def test_html_svg_and_other_content_renamed_as_pdf_is_refused(app, applicant, content, filename, declared):
    client, offering, _ = applicant
    response = submit(client, offering, content, filename, declared)
    assert response.status_code == 422
    assert BAD_FORMAT in response.get_data(as_text=True)
    assert documents() == 0
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0
    assert files_in(app.config["UPLOAD_FOLDER"]) == []


def test_size_limit_per_file_and_per_request(app, applicant):
    client, offering, _ = applicant
    app.config["MAX_UPLOAD_BYTES"] = 2048
    too_big = formdata.PDF + b"0" * 2048
    response = submit(client, offering, too_big, "attestation.pdf")
    assert response.status_code == 422
    assert "taille maximale" in response.get_data(as_text=True)
    assert documents() == 0
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = submit(client, offering, formdata.PDF + b"0" * 8192, "attestation.pdf")
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.get_data(as_text=True)
    assert documents() == 0
    response = submit(client, offering, formdata.PDF + b"0" * 1024, "attestation.pdf")
    assert response.status_code == 302 and documents() == 1


@pytest.mark.parametrize(
    ("filename", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\win.ini.pdf", "windows_win.ini.pdf"),
        ("/etc/cron.d/job.pdf", "job.pdf"),
        ('a"b.pdf\r\nX-Injected: 1', "ab.pdf"),
        ("....pdf", "document.pdf"),
    ],
)
def test_a_path_in_the_file_name_cannot_escape_the_upload_folder(app, applicant, filename, shown):
    client, offering, user = applicant
    folder = Path(app.config["UPLOAD_FOLDER"])
    outside_before = {p.name for p in folder.parent.rglob("*") if not p.is_relative_to(folder)}
    response = submit(client, offering, formdata.PDF, filename)
    assert response.status_code == 302
    document = db.session.scalars(select(Document)).one()
    assert STORED_NAME.fullmatch(document.stored_name)
    assert files_in(folder) == [document.stored_name]
    outside_after = {p.name for p in folder.parent.rglob("*") if not p.is_relative_to(folder)}
    assert outside_after == outside_before
    assert document.original_name == shown or document.original_name.endswith(".pdf")
    assert "/" not in document.original_name and "\\" not in document.original_name
    assert (
        ".." not in document.original_name.removesuffix(".pdf").strip(".") or document.original_name == shown
    )
    # Downloading it sends the stored file, under the sanitized name, as an attachment.
    response = client.get(f"/me/applications/{document.application.reference}/documents/{document.id}")
    disposition = response.headers["Content-Disposition"]
    assert response.data == formdata.PDF
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition and "\n" not in disposition and "X-Injected" not in str(response.headers)


def test_the_extension_follows_the_content_not_the_name(app, applicant):
    client, offering, _ = applicant
    submit(client, offering, formdata.PDF, "page.html", "text/html")
    document = db.session.scalars(select(Document)).one()
    assert document.content_type == "application/pdf"
    assert document.stored_name.endswith(".pdf") and document.original_name == "page.pdf"


def test_downloads_are_attachments_that_cannot_be_sniffed(app, applicant):
    client, offering, user = applicant
    submit(client, offering, formdata.PDF, "attestation.pdf")
    document = db.session.scalars(select(Document)).one()
    reference = document.application.reference
    reviewer = factories.reviewer(offering)
    staff = w.new_client(app)
    factories.login(staff, reviewer)
    for who, path in [
        (client, f"/me/applications/{reference}/documents/{document.id}"),
        (staff, f"/review/applications/{reference}/documents/{document.id}"),
    ]:
        response = who.get(path)
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "attestation.pdf" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype == "application/pdf"
        assert (
            response.headers["Cache-Control"] == "no-store" or "no-cache" in response.headers["Cache-Control"]
        )


def test_uploads_are_stored_outside_static(app, applicant, tmp_path, monkeypatch):
    client, offering, _ = applicant
    submit(client, offering, formdata.PDF, "attestation.pdf")
    document = db.session.scalars(select(Document)).one()
    static = Path(app.static_folder).resolve()
    assert not Path(app.config["UPLOAD_FOLDER"]).resolve().is_relative_to(static)
    assert client.get(f"/static/{document.stored_name}").status_code == 404
    # The default configuration too: instance/uploads, never under static/.
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    default = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert Path(default.config["UPLOAD_FOLDER"]) == tmp_path / "uploads"
    assert not Path(default.config["UPLOAD_FOLDER"]).resolve().is_relative_to(static)
