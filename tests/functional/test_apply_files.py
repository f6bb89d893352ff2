"""Uploaded files and text lengths: checked by content and size, errors next to the field."""

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.applications import uploads
from portal.applications.models import Application
from portal.applications.operations import submit_application
from portal.extensions import db
from tests import factories, samples
from tests.helpers import (
    BENEFIT,
    MOTIVATION,
    field_error,
    page_text,
    post_application,
    stored_files,
    submission_counts,
)
from tests.samples import JPEG, PDF, PNG

FIVE_MB = 5 * 1024 * 1024
BAD_FORMAT = "Format non accepté : envoyez un fichier PDF, JPEG ou PNG."


@pytest.fixture
def applicant_and_offering(app, client):
    """A logged-in applicant and an open offering."""
    applicant = factories.user()
    offering = factories.offering()
    factories.login(client, applicant)
    return applicant, offering


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "attestation.pdf", BAD_FORMAT),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg", BAD_FORMAT),
        (b"PK\x03\x04 a zip renamed", "scan.png", BAD_FORMAT),
        (b"", "vide.pdf", "Le fichier est vide."),
        (b"%PDF-1.4\n" + b"0" * FIVE_MB, "gros.pdf", "Le fichier dépasse la taille maximale de 5 Mo."),
    ],
    ids=["html-named-pdf", "svg", "zip-named-png", "empty", "over-5mb"],
)
def test_bad_membership_file_gets_a_field_error_and_nothing_is_saved(
    app, client, applicant_and_offering, content, filename, message
):
    _, offering = applicant_and_offering
    before = submission_counts()
    response = post_application(client, offering, membership=(content, filename))
    assert response.status_code == 422
    text = page_text(response)
    assert field_error(text, "membership") == message
    assert MOTIVATION.strip()[:60] in text  # what was typed is kept
    assert submission_counts() == before
    assert stored_files(app) == []


def test_bad_optional_cin_copy_is_refused_too(app, client, applicant_and_offering):
    _, offering = applicant_and_offering
    response = post_application(client, offering, cin=(b"<svg/>", "cin.jpg"))
    assert response.status_code == 422
    assert field_error(page_text(response), "cin_copy") == BAD_FORMAT
    assert field_error(page_text(response), "membership") is None
    assert submission_counts()["Application"] == 0


def test_missing_membership_file_is_required(app, client, applicant_and_offering):
    _, offering = applicant_and_offering
    response = post_application(client, offering, membership=None)
    assert response.status_code == 422
    assert field_error(page_text(response), "membership") == "Joignez l'attestation d'adhésion."
    assert submission_counts()["Application"] == 0


def test_a_file_of_exactly_5mb_is_accepted(app, client, applicant_and_offering):
    _, offering = applicant_and_offering
    content = samples.pdf_of_size(FIVE_MB)
    assert post_application(client, offering, membership=(content, "a.pdf")).status_code == 302
    [doc] = db.session.scalars(select(Application)).one().documents
    assert doc.size == FIVE_MB


def test_jpeg_and_png_are_detected_by_content_and_names_are_sanitized(app, client, applicant_and_offering):
    _, offering = applicant_and_offering
    response = post_application(
        client,
        offering,
        # A JPEG named .pdf is a JPEG; path parts and odd characters never reach the disk.
        membership=(JPEG, "../../etc/Attestation signée.pdf"),
        cin=(PNG, "بطاقة.png"),
    )
    assert response.status_code == 302
    docs = {d.kind: d for d in db.session.scalars(select(Application)).one().documents}
    assert docs["membership"].content_type == "image/jpeg"
    assert docs["membership"].original_name == "Attestation_signee.jpg"
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", docs["membership"].stored_name)
    assert docs["cin"].content_type == "image/png"
    assert docs["cin"].original_name == "document.png"
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert sorted(p.name for p in folder.iterdir()) == sorted(d.stored_name for d in docs.values())
    assert not list(folder.parent.glob("**/Attestation*"))


def test_request_larger_than_max_content_length_gets_the_413_page(app, client, applicant_and_offering):
    _, offering = applicant_and_offering
    too_big = app.config["MAX_CONTENT_LENGTH"] + 1024
    response = post_application(client, offering, membership=(b"%PDF-" + b"0" * too_big, "enorme.pdf"))
    assert response.status_code == 413
    text = page_text(response)
    assert "Fichier trop volumineux" in text
    assert "chaque fichier doit faire au plus 5 Mo" in text
    assert 'class="navbar' in text and "</footer>" in text  # inside the layout
    assert submission_counts()["Application"] == 0
    assert stored_files(app) == []


@pytest.mark.parametrize(
    ("length", "ok"),
    [(99, False), (100, True), (3000, True), (3001, False)],
)
def test_motivation_length_bounds(app, client, applicant_and_offering, length, ok):
    _, offering = applicant_and_offering
    # Surrounding spaces do not count.
    response = post_application(client, offering, motivation="  " + "m" * length + "\n ")
    if ok:
        assert response.status_code == 302
        assert len(db.session.scalars(select(Application)).one().motivation) == length
    else:
        assert response.status_code == 422
        assert (
            field_error(page_text(response), "motivation")
            == "La motivation doit compter entre 100 et 3000 caractères."
        )
        assert submission_counts()["Application"] == 0


@pytest.mark.parametrize(
    ("benefit", "message"),
    [
        ("", "Indiquez ce que la formation apportera à votre association."),
        ("Trop court", "Ce texte doit compter entre 20 et 2000 caractères."),
        ("b" * 2001, "Ce texte doit compter entre 20 et 2000 caractères."),
    ],
)
def test_expected_benefit_is_required_with_bounds(app, client, applicant_and_offering, benefit, message):
    _, offering = applicant_and_offering
    response = post_application(client, offering, benefit=benefit)
    assert response.status_code == 422
    assert field_error(page_text(response), "expected_benefit") == message
    assert submission_counts()["Application"] == 0


def _upload(content, name):
    return FileStorage(stream=io.BytesIO(content), filename=name, content_type="application/pdf")


def test_files_written_by_a_transaction_that_rolls_back_are_removed(app):
    applicant = factories.user()
    offering = factories.offering()
    db.session.commit()
    application = submit_application(
        applicant,
        offering,
        {"motivation": MOTIVATION, "expected_benefit": BENEFIT},
        {"membership": _upload(PDF, "a.pdf")},
    )
    path = Path(app.config["UPLOAD_FOLDER"]) / application.documents[0].stored_name
    assert path.read_bytes() == PDF
    db.session.rollback()
    assert not path.exists()
    assert submission_counts()["Application"] == 0


def test_files_of_a_committed_transaction_stay(app):
    applicant = factories.user()
    offering = factories.offering()
    application = submit_application(
        applicant,
        offering,
        {"motivation": MOTIVATION, "expected_benefit": BENEFIT},
        {"membership": _upload(PDF, "a.pdf")},
    )
    path = Path(app.config["UPLOAD_FOLDER"]) / application.documents[0].stored_name
    db.session.commit()
    # Later transactions of the same session do not touch it, even when they roll back.
    db.session.scalar(select(Application.id))
    db.session.rollback()
    assert path.exists()


def test_content_detection_ignores_names_and_declared_types():
    assert uploads.detect_type(io.BytesIO(PDF)) == "application/pdf"
    assert uploads.detect_type(io.BytesIO(JPEG)) == "image/jpeg"
    assert uploads.detect_type(io.BytesIO(PNG)) == "image/png"
    assert uploads.detect_type(io.BytesIO(b"GIF89a")) is None
    assert uploads.detect_type(io.BytesIO(b" %PDF-1.4")) is None
    assert uploads.display_name("", "application/pdf") == "document.pdf"
    assert uploads.display_name("rapport.exe", "image/png") == "rapport.png"


def test_the_upload_limits_follow_max_upload_bytes(tmp_path, monkeypatch):
    from portal import create_app

    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    base = {"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://", "RATELIMIT_ENABLED": False}
    shipped = create_app(base).config
    assert shipped["MAX_CONTENT_LENGTH"] == 2 * FIVE_MB + shipped["MAX_FORM_BYTES"]
    smaller = create_app({**base, "MAX_UPLOAD_BYTES": 1024 * 1024}).config
    assert smaller["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024 + smaller["MAX_FORM_BYTES"]
    # An explicit value still wins.
    assert create_app({**base, "MAX_CONTENT_LENGTH": 123456}).config["MAX_CONTENT_LENGTH"] == 123456


@pytest.mark.parametrize(("language", "size"), [("fr", "2 Mo"), ("en", "2 MB"), ("ar", "2 ميغابايت")])
def test_the_form_and_the_413_page_give_the_configured_size(
    app, client, applicant_and_offering, language, size
):
    _, offering = applicant_and_offering
    app.config["MAX_UPLOAD_BYTES"] = 2 * 1024 * 1024
    client.post(f"/lang/{language}")
    form = page_text(client.get(f"/apply/{offering.id}"))
    assert form.count(size) == 2 and "5 Mo" not in form and "5 MB" not in form
    too_big = app.config["MAX_CONTENT_LENGTH"] + 1024
    response = post_application(client, offering, membership=(b"%PDF-" + b"0" * too_big, "enorme.pdf"))
    assert response.status_code == 413
    assert size in page_text(response).replace("\u202f", " ").replace("\xa0", " ")
