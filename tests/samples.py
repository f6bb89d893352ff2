"""Small valid documents for upload tests, made with pypdf and Pillow, and a PDF builder for
crafting bad ones by hand."""

import io
import zlib

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ContentStream


def pdf(padding=0):
    """A one-page A4 PDF with a compressed drawing; ``padding`` bytes of attachment make it bigger."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    drawing = ContentStream(None, writer)
    drawing.set_data(b"0.2 g 72 700 451 60 re f\n")
    page.replace_contents(drawing)
    page.compress_content_streams()
    if padding:
        writer.add_attachment("padding.txt", b"-" * padding)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_of_size(size):
    """A valid PDF of exactly ``size`` bytes."""
    padding = size - len(pdf(1))
    for _ in range(5):
        data = pdf(padding)
        if len(data) == size:
            return data
        padding += size - len(data)
    raise AssertionError(f"no PDF of {size} bytes")


def image(image_format, size=(64, 48)):
    """A small JPEG or PNG (``image_format`` as Pillow names it)."""
    out = io.BytesIO()
    Image.new("RGB", size, (180, 40, 40)).save(out, image_format)
    return out.getvalue()


def raw_pdf(*objects, root=1, trailer=b""):
    """A PDF made of the given object bodies (numbered from 1), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        trailer,
        xref,
    )
    return bytes(out)


def stream(data, dictionary=b""):
    """The body of a stream object holding ``data`` (already encoded)."""
    return b"<< /Length %d %s>>\nstream\n" % (len(data), dictionary) + data + b"\nendstream"


def deflated(chunk, times):
    """``chunk`` repeated ``times`` times, zlib-compressed without holding it all in memory."""
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(chunk) for _ in range(times)]
    return b"".join(parts) + compressor.flush()


PDF = pdf()
JPEG = image("JPEG")
PNG = image("PNG")
