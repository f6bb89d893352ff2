"""What an uploaded document must be beyond its first bytes: a file that parses, holds no
active content and stays cheap to open.

Reviewers open these files on their own computers, so a PDF with JavaScript or a launch
action, an image whose content is not what its header says, or a file that inflates to
hundreds of megabytes is refused, each with its reason. Every check is bounded, whatever
the file holds: so many PDF objects and values read, so many bytes inflated (in small
chunks, counted and dropped), images checked at an eighth of their size.
"""

import io
import zlib

import pypdf
from PIL import Image
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from portal.i18n import lazy_gettext as _l
from portal.usererror import UserError

# An A4 page scanned at 600 dpi has 35 million pixels; a phone photo 12 to 50 million.
MAX_IMAGE_PIXELS = 50_000_000
# Reading a PDF costs pypdf about the same per object and per value inside them, so both
# are counted: a scanned attestation has a few dozen objects, a 250 KB manual 600 objects
# and 4,000 values.
PDF_MAX_OBJECTS = 5_000
PDF_MAX_VALUES = 50_000
# Inflating a compressed stream: at most this much output for one that is not an image
# (page contents, fonts...), 8 bytes a pixel plus one a row for an image (four 16-bit
# components), and this much in all (an A4 page scanned at 300 dpi in colour is 26 MB);
# produced CHUNK bytes at a time and counted, never kept.
PDF_STREAM_MAX_BYTES = 16 * 1024 * 1024
PDF_INFLATE_MAX_BYTES = 64 * 1024 * 1024
CHUNK = 256 * 1024
# What pypdf decodes itself (object and cross-reference streams, other filters) is
# bounded by its own limits, lowered here: those streams are small in a real document.
PDF_LIMITS = {
    "zlib_maximum_output_length": 16 * 1024 * 1024,
    # Its fallback for damaged streams inflates byte by byte: keep it short.
    "zlib_maximum_recovery_input_length": 64 * 1024,
    "lzw_maximum_output_length": 16 * 1024 * 1024,
    "run_length_maximum_output_length": 16 * 1024 * 1024,
    "brotli_maximum_output_length": 16 * 1024 * 1024,
    "jbig2_maximum_output_length": 16 * 1024 * 1024,
    "array_based_stream_maximum_output_length": 16 * 1024 * 1024,
    "image_maximum_buffer_size": 16 * 1024 * 1024,
    "stream_decoding_work_maximum_length": 32 * 1024 * 1024,
    "maximum_declared_stream_length": 8 * 1024 * 1024,
    # One object read past PDF_MAX_VALUES is at most this big.
    "array_maximum_element_count": 20_000,
    "dictionary_maximum_element_count": 20_000,
    "page_tree_maximum_entries": 10_000,
    # Never run an outside program on an upload.
    "jbig2dec_binary": None,
}
FLATE = frozenset({"/FlateDecode", "/Fl"})
# Decoded by pypdf under PDF_LIMITS; image codecs (DCT, JPX, CCITT, JBIG2) are left to
# the viewer, which decodes only the pixels the image declares.
OTHER_COMPRESSIONS = frozenset({"/LZWDecode", "/LZW", "/RunLengthDecode", "/RL", "/BrotliDecode"})
# Keys that hold scripts or actions run without the reader asking: /JS (a script),
# /JavaScript (the document's scripts), /AA (actions on opening a page, a field...).
ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/AA"})
ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch"})

PDF_UNREADABLE = _l(
    "Ce fichier PDF n'a pas pu être lu : il est endommagé ou protégé par un mot de passe. Enregistrez-le de nouveau en PDF, sans mot de passe, puis réessayez."
)
PDF_ACTIVE = _l(
    "Ce PDF contient du JavaScript ou des actions automatiques, refusés pour la sécurité des personnes qui l'ouvriront. Imprimez-le en PDF ou scannez le document, puis réessayez."
)
PDF_TOO_HEAVY = _l(
    "Ce PDF est anormalement lourd à ouvrir (données compressées trop volumineuses ou trop d'éléments). Imprimez-le en PDF ou scannez le document, puis réessayez."
)
IMAGE_UNREADABLE = _l(
    "Cette image n'a pas pu être lue : elle est endommagée ou son contenu ne correspond pas à son format. Enregistrez-la de nouveau en JPEG ou en PNG, puis réessayez."
)
IMAGE_TOO_LARGE = _l(
    "Cette image compte trop de pixels (%(n)s millions au plus) : réduisez sa taille, puis réessayez.",
    n=MAX_IMAGE_PIXELS // 1_000_000,
)


class Refused(UserError):
    """A document that must not be stored, with the translated reason to show."""


def document_problem(stream, content_type):
    """A translated reason why the upload in ``stream`` must be refused, or None; rewinds it.

    ``content_type`` is the type found from the first bytes (uploads.detect_type).
    """
    try:
        if content_type == "application/pdf":
            check_pdf(stream)
        elif content_type in ("image/jpeg", "image/png"):
            check_image(stream, "JPEG" if content_type == "image/jpeg" else "PNG")
    except Refused as refused:
        return refused.message
    finally:
        stream.seek(0)
    return None


# Images ---------------------------------------------------------------------------------


def check_image(stream, image_format):
    """Refuse an image that Pillow cannot read as ``image_format`` or that has too many pixels."""
    try:
        stream.seek(0)
        # formats=: a PNG inside a file that starts like a JPEG is not a JPEG.
        with Image.open(stream, formats=[image_format]) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise Refused(IMAGE_TOO_LARGE)
            image.verify()
        if image_format == "JPEG":
            # verify() reads no JPEG data: decode it at an eighth of its size, which reads
            # every block for a fraction of the cost and memory of a full decode.
            stream.seek(0)
            with Image.open(stream, formats=[image_format]) as image:
                image.draft("L", (image.width // 8, image.height // 8))
                image.load()
    except Image.DecompressionBombError as error:
        raise Refused(IMAGE_TOO_LARGE) from error
    except Refused:
        raise
    except Exception as error:
        # Pillow reports damaged files with many types (OSError, SyntaxError, ValueError...).
        raise Refused(IMAGE_UNREADABLE) from error


# PDF ------------------------------------------------------------------------------------


def check_pdf(stream):
    """Refuse a PDF that pypdf cannot read, with active content, or too heavy to open."""
    try:
        with pypdf.apply_configuration(**PDF_LIMITS):
            stream.seek(0)
            # pypdf reads a few bytes at a time: from memory, rather than through the upload's
            # spooled temporary file, it parses 1.6 times faster (the file is at most
            # MAX_UPLOAD_BYTES, checked before).
            reader = pypdf.PdfReader(io.BytesIO(stream.read()))
            if reader.is_encrypted or len(reader.pages) == 0:
                raise Refused(PDF_UNREADABLE)
            _PdfWalk().visit(reader.trailer)
    except (LimitReachedError, RecursionError, MemoryError) as error:
        raise Refused(PDF_TOO_HEAVY) from error
    except Refused:
        raise
    except Exception as error:
        # pypdf reports damaged files with many types (PdfReadError, KeyError, ValueError...).
        raise Refused(PDF_UNREADABLE) from error


def _get(dictionary, key):
    """The value of ``key`` in a PDF dictionary, references followed, or None."""
    value = dictionary.get(key)
    return None if value is None else value.get_object()


class _PdfWalk:
    """One pass over the objects of a PDF, with the counts that bound it."""

    def __init__(self):
        self.seen = set()
        self.values = 0
        self.inflated = 0

    def visit(self, root):
        """Check every object reachable from ``root`` (the trailer), as a viewer may read it."""
        todo = [root]
        while todo:
            item = todo.pop()
            self.values += 1
            if self.values > PDF_MAX_VALUES:
                raise Refused(PDF_TOO_HEAVY)
            if isinstance(item, IndirectObject):
                key = (item.idnum, item.generation)
                if key in self.seen:
                    continue
                self.seen.add(key)
                if len(self.seen) > PDF_MAX_OBJECTS:
                    raise Refused(PDF_TOO_HEAVY)
                item = item.get_object()
            if isinstance(item, DictionaryObject):
                check_dictionary(item)
                if isinstance(item, StreamObject):
                    self.check_stream(item)
                # The raw values: this loop follows each reference once.
                todo.extend(dict.values(item))
            elif isinstance(item, ArrayObject):
                todo.extend(list.__iter__(item))

    def check_stream(self, stream):
        """Inflate a compressed stream in chunks, refusing it past its limits."""
        limit = PDF_STREAM_MAX_BYTES
        if _get(stream, "/Subtype") == "/Image":
            width, height = _get(stream, "/Width"), _get(stream, "/Height")
            if not isinstance(width, int) or not isinstance(height, int) or width < 0 or height < 0:
                raise Refused(PDF_UNREADABLE)
            if width * height > MAX_IMAGE_PIXELS:
                raise Refused(PDF_TOO_HEAVY)
            limit = (8 * width + 1) * height
        first_filter = _get(stream, "/Filter")
        if isinstance(first_filter, ArrayObject):
            first_filter = first_filter[0] if first_filter else None
        if first_filter in FLATE:
            # pypdf keeps the encoded bytes there; get_data() would inflate them all at once.
            self.inflate(stream._data, limit)
        elif first_filter in OTHER_COMPRESSIONS:
            self.count(len(stream.get_data()), 0, limit)

    def inflate(self, data, limit):
        """Inflate zlib ``data`` CHUNK bytes at a time, counting the output without keeping it."""
        decompressor = zlib.decompressobj()
        produced = 0
        while True:
            try:
                output = decompressor.decompress(data, CHUNK)
            except zlib.error as error:
                raise Refused(PDF_UNREADABLE) from error
            produced = self.count(len(output), produced, limit)
            data = decompressor.unconsumed_tail
            if decompressor.eof or not (output or data):
                return

    def count(self, size, produced, limit):
        """Add ``size`` inflated bytes to the stream's ``produced`` and to the file's total."""
        produced += size
        self.inflated += size
        if produced > limit or self.inflated > PDF_INFLATE_MAX_BYTES:
            raise Refused(PDF_TOO_HEAVY)
        return produced


def check_dictionary(dictionary):
    """Refuse scripts, launch actions, additional actions and any opening action but GoTo."""
    if not ACTIVE_KEYS.isdisjoint(dictionary.keys()):
        raise Refused(PDF_ACTIVE)
    if _get(dictionary, "/S") in ACTIVE_ACTIONS:
        raise Refused(PDF_ACTIVE)
    opening = _get(dictionary, "/OpenAction")
    # A destination (an array) or a GoTo only shows a page; anything else acts.
    if isinstance(opening, DictionaryObject) and _get(opening, "/S") != "/GoTo":
        raise Refused(PDF_ACTIVE)
