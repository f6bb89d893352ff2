"""The certificate of completion as a PDF (fpdf2), in French or in Arabic.

Text is shaped by HarfBuzz (uharfbuzz, through fpdf2's text shaping): Arabic letters join
and the Arabic version runs right to left, with the Latin parts (number, address) kept
left to right inside it. The font is Amiri (SIL Open Font License, fonts/OFL.txt), shipped
in the repository, which draws both scripts. The QR code (segno) is drawn as vector
squares and is also a link to the verification page, whose address is printed beneath.
The wording is translated like the pages (French msgids, the Arabic catalogue).
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import segno
from fpdf import FPDF

from portal.i18n import force_locale, isolate_text
from portal.i18n import gettext as _
from portal.templating import format_day
from portal.vocabulary import CertificateLanguage

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "Amiri"
# The programme's colours: a deep green frame and headings, dark text.
GREEN = (0, 98, 65)
GOLD = (176, 141, 60)
DARK = (33, 37, 41)
GREY = (85, 90, 96)
PAGE_W, PAGE_H = 297, 210  # A4 landscape, mm
MARGIN = 22
QR_SIZE = 34  # mm

# fontTools logs every step of subsetting the font at INFO: a page of lines per download.
logging.getLogger("fontTools").setLevel(logging.WARNING)


@dataclass(frozen=True)
class CertificateFacts:
    """Everything printed on a certificate, gathered by the view from the database."""

    number: str
    name: str
    name_ar: str | None
    track_fr: str
    track_ar: str
    city_fr: str
    city_ar: str
    academic_year: str
    course_starts_on: datetime | None
    issued_at: datetime
    verify_url: str


class _Certificate(FPDF):
    """One landscape page, in one direction."""

    def __init__(self, rtl):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.rtl = rtl
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.add_font(FONT, "", str(FONTS / "Amiri-Regular.ttf"))
        self.add_font(FONT, "B", str(FONTS / "Amiri-Bold.ttf"))
        self.direction(rtl)

    def direction(self, rtl):
        """Shape the following text right to left (Arabic) or left to right."""
        if rtl:
            self.set_text_shaping(use_shaping_engine=True, direction="rtl", script="arab", language="ara")
        else:
            self.set_text_shaping(use_shaping_engine=True, direction="ltr")

    def line(self, text, size, style="", color=DARK, height=None, align="C", rtl=None, inset=0):
        """A centred (or aligned) paragraph, ``inset`` mm narrower on each side, then the next line."""
        self.direction(self.rtl if rtl is None else rtl)
        self.set_font(FONT, style, size)
        self.set_text_color(*color)
        self.set_x(self.l_margin + inset)
        width = self.w - self.l_margin - self.r_margin - 2 * inset
        self.multi_cell(width, height or size * 0.5, text, align=align, new_x="LMARGIN", new_y="NEXT")
        self.direction(self.rtl)

    def frame(self):
        """A double frame: green outside, a thin gold line inside."""
        self.set_draw_color(*GREEN)
        self.set_line_width(1.6)
        self.rect(8, 8, PAGE_W - 16, PAGE_H - 16)
        self.set_draw_color(*GOLD)
        self.set_line_width(0.4)
        self.rect(12, 12, PAGE_W - 24, PAGE_H - 24)

    def qr(self, url, x, y, size):
        """The QR code of ``url`` drawn with squares (runs of dark modules), linked to ``url``."""
        code = segno.make(url, error="m", micro=False)
        rows = [list(row) for row in code.matrix_iter(scale=1, border=0)]
        module = size / len(rows)
        self.set_fill_color(0, 0, 0)
        for r, row in enumerate(rows):
            c = 0
            while c < len(row):
                if row[c]:
                    start = c
                    while c < len(row) and row[c]:
                        c += 1
                    self.rect(x + start * module, y + r * module, (c - start) * module, module, style="F")
                else:
                    c += 1
        self.link(x, y, size, size, url)


def _unbroken(text):
    """``text`` with no-break spaces: a date is never split across two lines."""
    return text.replace(" ", "\u00a0")


def _body(facts, language):
    """The sentences of the certificate in ``language`` (called inside force_locale)."""
    arabic = language == CertificateLanguage.AR
    name = (facts.name_ar or facts.name) if arabic else facts.name
    track = facts.track_ar if arabic else facts.track_fr
    city = facts.city_ar if arabic else facts.city_fr
    # Isolated left to right: without it the two years of "2026-2027" swap places in Arabic.
    year = isolate_text(facts.academic_year) if arabic else facts.academic_year
    if facts.course_starts_on is not None:
        where = _(
            "dispensée à %(city)s dans le cadre du programme de formation des acteurs associatifs, session ouverte le %(start)s, année de formation %(year)s.",
            city=city,
            start=_unbroken(format_day(facts.course_starts_on)),
            year=year,
        )
    else:
        where = _(
            "dispensée à %(city)s dans le cadre du programme de formation des acteurs associatifs, année de formation %(year)s.",
            city=city,
            year=year,
        )
    return name, track, where


def render(facts, language):
    """The PDF (bytes) of the certificate described by ``facts``, in ``language`` (fr or ar)."""
    language = CertificateLanguage(language)
    rtl = language == CertificateLanguage.AR
    with force_locale(language.value):
        name, track, where = _body(facts, language)
        pdf = _Certificate(rtl)
        pdf.set_title(_("Certificat de fin de formation") + " " + facts.number)
        pdf.set_author("OFPPT")
        pdf.set_lang(language.value)
        pdf.add_page()
        pdf.frame()
        pdf.set_y(20)
        pdf.line(_("Royaume du Maroc"), 13, "B", GREY, height=6)
        pdf.line(_("Ministère chargé des relations avec la société civile"), 12, "", GREY, height=6)
        pdf.line(
            _("Office de la formation professionnelle et de la promotion du travail (OFPPT)"),
            12,
            "",
            GREY,
            height=6,
        )
        pdf.ln(5)
        pdf.line(_("Certificat de fin de formation"), 30, "B", GREEN, height=14)
        pdf.ln(3)
        pdf.line(_("Le présent certificat atteste que"), 15, height=8)
        pdf.line(name, 26, "B", DARK, height=13)
        pdf.line(_("a suivi et achevé la formation"), 15, height=8)
        pdf.line(f"« {track} »" if not rtl else f"«{track}»", 20, "B", GREEN, height=11)
        pdf.ln(1)
        pdf.line(where, 14, height=7, inset=18)

        # The foot: number and date on the reading side's start, the QR code at its end.
        qr_y = PAGE_H - MARGIN - QR_SIZE - 6
        qr_x = MARGIN + 4 if rtl else PAGE_W - MARGIN - QR_SIZE - 4
        pdf.qr(facts.verify_url, qr_x, qr_y, QR_SIZE)
        text_w = PAGE_W - 2 * MARGIN - QR_SIZE - 16
        text_x = PAGE_W - MARGIN - text_w - 4 if rtl else MARGIN + 4
        align = "R" if rtl else "L"
        pdf.set_xy(text_x, qr_y + 2)
        for text, size, style, color, text_rtl in (
            (_("Certificat n°"), 12, "", GREY, rtl),
            (facts.number, 16, "B", DARK, False),
            (_("Délivré le %(date)s", date=format_day(facts.issued_at)), 12, "", GREY, rtl),
            (
                _("Vérifiez l'authenticité de ce certificat en scannant le code ou à l'adresse :"),
                11,
                "",
                GREY,
                rtl,
            ),
            (facts.verify_url, 11, "", GREEN, False),
        ):
            pdf.direction(text_rtl)
            pdf.set_font(FONT, style, size)
            pdf.set_text_color(*color)
            pdf.set_x(text_x)
            pdf.multi_cell(text_w, size * 0.5, text, align=align, new_x="LEFT", new_y="NEXT")
        return bytes(pdf.output())
