"""Uploads are read whole, not only by their first bytes (ASVS 12.1, 12.2).

A file that does not parse as the type its first bytes announce, a PDF with scripts or
automatic actions, an image with too many pixels and a compressed bomb are refused next
to the file field, in the applicant's language, with what was typed kept; valid files
pass; the checks themselves cost a bounded amount of memory and time.
"""

import html
import io
import struct
import time
import tracemalloc
import zlib
from functools import cache
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from sqlalchemy import func, select

from portal.applications import filecheck
from portal.applications.models import Application, Document
from portal.extensions import db
from tests import factories, samples
from tests.helpers import field_error
from tests.security import formdata
from tests.security import world as w

MB = 1024 * 1024
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
# The first bytes of a JFIF file: SOI, then an APP0 segment.
JPEG_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"

MESSAGES = {
    "pdf_unreadable": {
        "fr": "Ce fichier PDF n'a pas pu être lu : il est endommagé ou protégé par un mot de passe. "
        "Enregistrez-le de nouveau en PDF, sans mot de passe, puis réessayez.",
        "ar": "تعذّرت قراءة ملف PDF هذا: فهو تالف أو محمي بكلمة مرور. احفظه من جديد بصيغة PDF "
        "دون كلمة مرور، ثم أعد المحاولة.",
        "en": "This PDF file could not be read: it is damaged or protected by a password. "
        "Save it again as a PDF, without a password, and try again.",
    },
    "pdf_active": {
        "fr": "Ce PDF contient du JavaScript ou des actions automatiques, refusés pour la sécurité des "
        "personnes qui l'ouvriront. Imprimez-le en PDF ou scannez le document, puis réessayez.",
        "ar": "يحتوي ملف PDF هذا على شيفرة JavaScript أو على إجراءات تلقائية، وهي مرفوضة حفاظًا على "
        "سلامة الأشخاص الذين سيفتحونه. اطبعه بصيغة PDF أو امسح الوثيقة ضوئيًا، ثم أعد المحاولة.",
        "en": "This PDF contains JavaScript or automatic actions, which are refused for the safety of "
        "the people who will open it. Print it to PDF or scan the document, and try again.",
    },
    "pdf_too_heavy": {
        "fr": "Ce PDF est anormalement lourd à ouvrir (données compressées trop volumineuses ou trop "
        "d'éléments). Imprimez-le en PDF ou scannez le document, puis réessayez.",
        "ar": "يتطلب فتح ملف PDF هذا موارد مفرطة (بيانات مضغوطة ضخمة جدًا أو عناصر كثيرة جدًا). "
        "اطبعه بصيغة PDF أو امسح الوثيقة ضوئيًا، ثم أعد المحاولة.",
        "en": "This PDF is abnormally heavy to open (compressed data too large or too many elements). "
        "Print it to PDF or scan the document, and try again.",
    },
    "image_unreadable": {
        "fr": "Cette image n'a pas pu être lue : elle est endommagée ou son contenu ne correspond pas à "
        "son format. Enregistrez-la de nouveau en JPEG ou en PNG, puis réessayez.",
        "ar": "تعذّرت قراءة هذه الصورة: فهي تالفة أو لا يطابق محتواها صيغتها. احفظها من جديد بصيغة "
        "JPEG أو PNG، ثم أعد المحاولة.",
        "en": "This image could not be read: it is damaged or its content does not match its format. "
        "Save it again as a JPEG or PNG, and try again.",
    },
    "image_too_large": {
        "fr": "Cette image compte trop de pixels (50 millions au plus) : réduisez sa taille, puis réessayez.",
        "ar": "تحتوي هذه الصورة على عدد كبير جدًا من البكسلات (50 مليون على الأكثر): صغّر حجمها، ثم أعد "
        "المحاولة.",
        "en": "This image has too many pixels (50 million at most): reduce its size, and try again.",
    },
}


# Crafted files ------------------------------------------------------------------------


def png_chunk(kind, data):
    """One PNG chunk: length, type, data and the CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width, height):
    """A well-formed PNG whose header declares ``width`` × ``height`` RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + png_chunk(b"IEND", b"")
    )


def one_page_pdf(catalog=b"", page=b"", *more):
    """A one-page PDF (objects 1 to 3) with extra entries in its catalog and page, and objects 4..."""
    return samples.raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + page + b">>",
        *more,
    )


@cache
def zeros_deflated(megabytes):
    """``megabytes`` MB of zeros, deflated (200 MB make about 200 KB)."""
    return samples.deflated(b"\0" * MB, megabytes)


def pdf_bomb():
    """A PDF whose page content is 200 MB of zeros, compressed."""
    content = samples.stream(zeros_deflated(200), b"/Filter /FlateDecode ")
    return one_page_pdf(b"", b"/Contents 4 0 R ", content)


# The five findings: a PDF signature then HTML, a JPEG header then HTML, JavaScript run on
# opening, a PNG declaring 50,000 × 50,000 pixels, 200 MB hidden in a compressed stream.
FINDINGS = {
    "pdf-then-html": (lambda: b"%PDF-1.7\n" + HTML, "pdf_unreadable"),
    "jpeg-header-then-html": (lambda: JPEG_HEADER + HTML, "image_unreadable"),
    "pdf-javascript-on-opening": (
        lambda: one_page_pdf(b"/OpenAction << /S /JavaScript /JS (app.alert(document.title)) >> "),
        "pdf_active",
    ),
    "png-50000x50000": (lambda: png_declaring(50_000, 50_000), "image_too_large"),
    "pdf-200mb-compressed": (pdf_bomb, "pdf_too_heavy"),
}


def counts():
    """Applications and documents in the database."""
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Application, Document))


def submit(client, offering, **files):
    """Post the application form with ``files`` as field name → (bytes, file name)."""
    data = formdata.application(membership=files.pop("membership", (samples.PDF, "attestation.pdf")))
    for name, (content, filename) in files.items():
        data[name] = (io.BytesIO(content), filename)
    return client.post(f"/apply/{offering.id}", data=data, content_type="multipart/form-data")


def applicant_client(app, language):
    """A logged-in applicant whose language is ``language``, and an open offering."""
    offering = factories.offering()
    user = factories.user(locale=language)
    db.session.commit()
    client = w.new_client(app)
    factories.login(client, user)
    return client, offering


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
@pytest.mark.parametrize("finding", FINDINGS)
def test_each_finding_is_refused_next_to_the_field_in_the_applicants_language(app, finding, language):
    client, offering = applicant_client(app, language)
    make, reason = FINDINGS[finding]
    response = submit(client, offering, membership=(make(), "attestation.pdf"))
    assert response.status_code == 422
    assert field_error(response, "membership") == MESSAGES[reason][language]
    # The rest of the form is kept as typed; nothing is saved.
    assert formdata.MOTIVATION.strip()[:60] in html.unescape(response.get_data(as_text=True))
    assert counts() == (0, 0)
    assert not list(Path(app.config["UPLOAD_FOLDER"]).glob("*"))


def test_the_optional_cin_copy_is_checked_the_same_way(app):
    client, offering = applicant_client(app, "fr")
    response = submit(client, offering, cin_copy=(png_declaring(50_000, 50_000), "cin.png"))
    assert response.status_code == 422
    assert field_error(response, "cin_copy") == MESSAGES["image_too_large"]["fr"]
    assert field_error(response, "membership") is None
    assert counts() == (0, 0)


def test_valid_pdf_jpeg_and_png_made_by_pypdf_and_pillow_are_accepted(app):
    client, offering = applicant_client(app, "fr")
    response = submit(client, offering, membership=(samples.PDF, "a.pdf"), cin_copy=(samples.JPEG, "cin.jpg"))
    assert response.status_code == 302, field_error(response, "membership") or field_error(
        response, "cin_copy"
    )
    other = factories.offering()
    db.session.commit()
    response = submit(client, other, membership=(samples.PNG, "a.png"))
    assert response.status_code == 302, field_error(response, "membership")
    assert counts() == (2, 3)


# The same checks, file by file ---------------------------------------------------------


def scanned_pdf():
    """A PDF as a scanner makes it: one page holding a JPEG photo of the document."""
    out = io.BytesIO()
    Image.effect_noise((1240, 1754), 40).convert("RGB").save(out, "PDF", resolution=150, quality=80)
    return out.getvalue()


def pdf_with_link_and_opening_view():
    """A PDF with a web link on its page and an opening view (a GoTo): no script."""
    return one_page_pdf(
        b"/OpenAction [3 0 R /Fit] ",
        b"/Annots [4 0 R] ",
        b"<< /Type /Annot /Subtype /Link /Rect [72 72 300 90] /A << /S /URI /URI (https://www.ofppt.ma) >> >>",
    )


def encrypted_pdf():
    """samples.PDF protected by a password (RC4, which pypdf writes without extra packages)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.PDF)))
    writer.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def jpeg_with_broken_scan():
    """A JPEG whose headers are right but whose compressed data is HTML, cut short."""
    real = samples.image("JPEG", (640, 480))
    start_of_scan = real.index(b"\xff\xda")
    return real[: start_of_scan + 12] + HTML * 4


def png_with_wrong_crc():
    """samples.PNG with one byte of its image data changed (its CRC no longer matches)."""
    data = bytearray(samples.PNG)
    data[data.index(b"IDAT") + 6] ^= 0xFF
    return bytes(data)


def many_objects_pdf(count):
    """A valid PDF whose catalog leads through a chain of ``count`` small objects."""
    chain = [b"<< /Next %d 0 R /V [1 2 3] >>" % (number + 1) for number in range(4, count + 3)]
    return one_page_pdf(b"/Chain 4 0 R ", b"", *chain, b"<< >>")


JS = b"<< /S /JavaScript /JS (app.alert(1)) >>"
CASES = {
    # Accepted.
    "pypdf-pdf": (lambda: samples.PDF, "application/pdf", None),
    "scanned-pdf": (scanned_pdf, "application/pdf", None),
    "link-and-opening-view": (pdf_with_link_and_opening_view, "application/pdf", None),
    "pillow-jpeg": (lambda: samples.image("JPEG", (1200, 1600)), "image/jpeg", None),
    "pillow-png": (lambda: samples.image("PNG", (1200, 1600)), "image/png", None),
    "jpeg-followed-by-other-bytes": (lambda: samples.JPEG + b"trailing", "image/jpeg", None),
    # Does not parse as what its first bytes say.
    "pdf-then-html": (lambda: b"%PDF-1.7\n" + HTML, "application/pdf", "pdf_unreadable"),
    "pdf-without-pages": (
        lambda: samples.raw_pdf(
            b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"
        ),
        "application/pdf",
        "pdf_unreadable",
    ),
    "pdf-with-password": (encrypted_pdf, "application/pdf", "pdf_unreadable"),
    "pdf-corrupt-stream": (
        lambda: one_page_pdf(
            b"", b"/Contents 4 0 R ", samples.stream(b"x\x9c" + HTML, b"/Filter /FlateDecode ")
        ),
        "application/pdf",
        "pdf_unreadable",
    ),
    "jpeg-header-then-html": (lambda: JPEG_HEADER + HTML, "image/jpeg", "image_unreadable"),
    "jpeg-with-broken-scan": (jpeg_with_broken_scan, "image/jpeg", "image_unreadable"),
    "png-behind-a-jpeg-signature": (lambda: b"\xff\xd8\xff" + samples.PNG, "image/jpeg", "image_unreadable"),
    "jpeg-with-a-png-signature": (
        lambda: b"\x89PNG\r\n\x1a\n" + samples.JPEG,
        "image/png",
        "image_unreadable",
    ),
    "png-with-wrong-crc": (png_with_wrong_crc, "image/png", "image_unreadable"),
    # Scripts and automatic actions, wherever they hide.
    "javascript-on-opening": (
        lambda: one_page_pdf(b"/OpenAction " + JS + b" "),
        "application/pdf",
        "pdf_active",
    ),
    "javascript-on-opening-by-reference": (
        lambda: one_page_pdf(
            b"/OpenAction 4 0 R ", b"", b"<< /S /JavaScript /JS 5 0 R >>", samples.stream(b"app.alert(1)")
        ),
        "application/pdf",
        "pdf_active",
    ),
    "javascript-names-tree": (
        lambda: one_page_pdf(b"/Names << /JavaScript 4 0 R >> ", b"", b"<< /Names [(run) 5 0 R] >>", JS),
        "application/pdf",
        "pdf_active",
    ),
    "page-additional-action": (
        lambda: one_page_pdf(b"", b"/AA << /O " + JS + b" >> "),
        "application/pdf",
        "pdf_active",
    ),
    "catalog-additional-action": (
        lambda: one_page_pdf(b"/AA << /WC " + JS + b" >> "),
        "application/pdf",
        "pdf_active",
    ),
    "annotation-javascript": (
        lambda: one_page_pdf(
            b"", b"/Annots [4 0 R] ", b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A " + JS + b" >>"
        ),
        "application/pdf",
        "pdf_active",
    ),
    "launch-action": (
        lambda: one_page_pdf(
            b"",
            b"/Annots [4 0 R] ",
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /Launch /F (cmd.exe) >> >>",
        ),
        "application/pdf",
        "pdf_active",
    ),
    "web-page-on-opening": (
        lambda: one_page_pdf(b"/OpenAction << /S /URI /URI (https://example.org) >> "),
        "application/pdf",
        "pdf_active",
    ),
    "javascript-in-a-bookmark": (
        lambda: one_page_pdf(
            b"/Outlines 4 0 R ",
            b"",
            b"<< /First 5 0 R /Last 5 0 R >>",
            b"<< /Title (x) /Parent 4 0 R /A " + JS + b" >>",
        ),
        "application/pdf",
        "pdf_active",
    ),
    # Too big to open.
    "png-50000x50000": (lambda: png_declaring(50_000, 50_000), "image/png", "image_too_large"),
    "png-over-the-cap": (lambda: png_declaring(8000, 6300), "image/png", "image_too_large"),
    "pdf-200mb-content": (pdf_bomb, "application/pdf", "pdf_too_heavy"),
    "pdf-200mb-small-image": (
        lambda: one_page_pdf(
            b"",
            b"/Resources << /XObject << /Im0 4 0 R >> >> ",
            samples.stream(
                zeros_deflated(200),
                b"/Type /XObject /Subtype /Image /Width 100 /Height 100 /BitsPerComponent 8 "
                b"/ColorSpace /DeviceGray /Filter /FlateDecode ",
            ),
        ),
        "application/pdf",
        "pdf_too_heavy",
    ),
    "pdf-image-50000x50000": (
        lambda: one_page_pdf(
            b"",
            b"/Resources << /XObject << /Im0 4 0 R >> >> ",
            samples.stream(
                b"\xff\xd8\xff",
                b"/Type /XObject /Subtype /Image /Width 50000 /Height 50000 /Filter /DCTDecode ",
            ),
        ),
        "application/pdf",
        "pdf_too_heavy",
    ),
    # Each under the limit of a stream, together over the limit of a file.
    "pdf-many-small-bombs": (
        lambda: one_page_pdf(
            b"",
            b"/Contents [" + b" ".join(b"%d 0 R" % number for number in range(4, 14)) + b"] ",
            *[samples.stream(zeros_deflated(15), b"/Filter /FlateDecode ") for _ in range(10)],
        ),
        "application/pdf",
        "pdf_too_heavy",
    ),
    "pdf-too-many-values": (
        lambda: one_page_pdf(
            b"/V [4 0 R 5 0 R 6 0 R 7 0 R] ",
            b"",
            *[b"[" + b" 1" * (filecheck.PDF_MAX_VALUES // 3) + b"]"] * 4,
        ),
        "application/pdf",
        "pdf_too_heavy",
    ),
    "pdf-too-many-objects": (
        lambda: many_objects_pdf(filecheck.PDF_MAX_OBJECTS + 10),
        "application/pdf",
        "pdf_too_heavy",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_document_check(app, case):
    make, content_type, reason = CASES[case]
    stream = io.BytesIO(make())
    stream.seek(5)
    with app.test_request_context():
        problem = filecheck.document_problem(stream, content_type)
        assert (str(problem) if problem else None) == (MESSAGES[reason]["fr"] if reason else None)
    assert stream.tell() == 0  # rewound for storing


def test_a_compressed_bomb_is_refused_with_little_memory_and_time(app):
    bomb = pdf_bomb()
    tracemalloc.start()
    start = time.process_time()
    try:
        problem = filecheck.document_problem(io.BytesIO(bomb), "application/pdf")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    spent = time.process_time() - start
    assert problem is filecheck.PDF_TOO_HEAVY
    # Inflated a chunk at a time and dropped: the file and a few chunks in memory.
    assert peak < len(bomb) + 8 * filecheck.CHUNK, f"{peak / MB:.1f} MB"
    assert spent < 5, f"{spent:.1f} s"
