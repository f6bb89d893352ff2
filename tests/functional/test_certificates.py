"""Issue 15, item 2: certificates of completion anyone can verify.

The PDF is read back with pypdf. For the Arabic version, what is compared is documented
where it is checked (``_drawn_lines`` and the Arabic test): the glyphs each line draws,
mapped back to characters through the font's ToUnicode table, taken from left to right
(drawing order) and from right to left (reading order of a right-to-left line).
"""

import io
import re
import unicodedata
from datetime import timedelta

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream
from sqlalchemy import func, select

from portal.applications.models import Application
from portal.certificates import numbers
from portal.certificates.models import Certificate
from portal.certificates.operations import CertificateError, issue, revoke
from portal.extensions import db
from portal.timeutil import utcnow
from portal.vocabulary import CertificateLanguage
from tests import factories
from tests.helpers import THREADS, Race, admin_client, audit_events, page_text

TRACK_FR = "Transformation numérique des associations"
TRACK_AR = "التحول الرقمي للجمعيات"
CITY_AR = "الرباط"
NAME_AR = ("سلمى", "بناني")
# Bidi controls fpdf2 keeps in the text layer (the isolates around the Arabic version's years).
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069\u200e\u200f"))


def _participant(status="completed", **profile):
    """A participant of a course that started two months ago, with their application."""
    city = factories.city("Rabat", name_ar=CITY_AR)
    track = factories.track(title_fr=TRACK_FR, title_ar=TRACK_AR)
    offering = factories.offering(track=track, city=city, course_starts_on=utcnow() - timedelta(days=60))
    names = {
        "first_name": "Salma",
        "last_name": "Bennani",
        "first_name_ar": NAME_AR[0],
        "last_name_ar": NAME_AR[1],
    }
    user = factories.user(profile={"city": city, **names, **profile})
    application = factories.application(user, offering, status=status)
    return user, application


def _logged_in(app, user):
    client = app.test_client()
    assert factories.login(client, user).status_code == 302
    return client


def _pdf_url(application, lang=None):
    url = f"/me/applications/{application.reference}/certificate.pdf"
    return url if lang is None else f"{url}?lang={lang}"


def _normalised(text):
    """NFKC folds any Arabic presentation form back to its letter; bidi controls dropped."""
    return unicodedata.normalize("NFKC", text).translate(BIDI_CONTROLS)


def _to_unicode(font):
    """The font's ToUnicode table: glyph code (int) → the characters it stands for."""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    table = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, chars in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[int(code, 16)] = bytes.fromhex(chars).decode("utf-16-be")
    return table


def _drawn_lines(pdf):
    """Each text object of the page as the list of what its glyphs stand for, in drawing order.

    fpdf2 writes a line as one text object (BT … ET) whose strings are two-byte glyph
    codes placed from left to right; the font's ToUnicode table gives the characters of
    each glyph (a ligature stands for several, in reading order).
    """
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts = {name: _to_unicode(ref.get_object()) for name, ref in page["/Resources"]["/Font"].items()}
    lines, current, font = [], None, None
    for operands, operator in ContentStream(page.get_contents(), page.pdf).operations:
        if operator == b"Tf":
            font = fonts[operands[0]]
        elif operator == b"BT":
            current = []
        elif operator == b"Tj" and current is not None:
            raw = operands[0].original_bytes if hasattr(operands[0], "original_bytes") else bytes(operands[0])
            current += [font.get(int.from_bytes(raw[i : i + 2], "big"), "") for i in range(0, len(raw), 2)]
        elif operator == b"ET":
            if current:
                lines.append(current)
            current = None
    return lines, fonts


def _link_uris(pdf):
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return [a.get_object()["/A"]["/URI"] for a in page.get("/Annots", [])]


def test_the_participant_downloads_the_french_certificate_with_its_facts(app):
    user, application = _participant()
    client = _logged_in(app, user)
    detail = client.get(f"/me/applications/{application.reference}").get_data(as_text=True)
    assert _pdf_url(application, "fr") in detail and _pdf_url(application, "ar") in detail

    response = client.get(_pdf_url(application, "fr"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    certificate = db.session.scalar(select(Certificate))
    assert re.fullmatch(r"OFPPT-\d{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", certificate.number)
    assert certificate.language == CertificateLanguage.FR
    text = _normalised(PdfReader(io.BytesIO(response.data)).pages[0].extract_text())
    url = f"{app.config['BASE_URL'].rstrip('/')}/verify/{certificate.number}"
    for expected in ("Salma Bennani", TRACK_FR, "Rabat", application.academic_year, certificate.number, url):
        assert expected in text
    assert "Certificat de fin de formation" in text
    # The QR code is drawn from this address and is a link to it.
    assert _link_uris(response.data) == [url]
    # Nothing personal beyond the name: no CIN, email, phone or birth date.
    for private in (user.profile.cin, user.email, "+212600000000", "1990"):
        assert private not in text
    # The certificate page now shows its number.
    assert certificate.number in client.get(f"/me/applications/{application.reference}").get_data(
        as_text=True
    )


def test_the_arabic_certificate_is_shaped_right_to_left_with_the_same_number(app):
    user, application = _participant()
    client = _logged_in(app, user)
    french = client.get(_pdf_url(application, "fr"))
    arabic = client.get(_pdf_url(application, "ar"))
    assert french.status_code == arabic.status_code == 200
    assert db.session.scalar(select(func.count(Certificate.id))) == 1
    certificate = db.session.scalar(select(Certificate))
    # The last language chosen is remembered; the number does not change with it.
    assert certificate.language == CertificateLanguage.AR

    # 1. The text layer, as pypdf extracts it and normalised (NFKC, bidi controls dropped),
    # holds the Arabic wording, track title, city and name in logical (reading) order,
    # and the number and the address unchanged.
    text = _normalised(PdfReader(io.BytesIO(arabic.data)).pages[0].extract_text())
    for expected in ("شهادة إتمام التكوين", TRACK_AR, CITY_AR, " ".join(NAME_AR), certificate.number):
        assert expected in text
    assert f"/verify/{certificate.number}" in text
    assert "Salma Bennani" not in text  # the Arabic name is used when the profile has one

    lines, fonts = _drawn_lines(arabic.data)
    # 2. Shaped: Arabic letters take their joined forms, so one letter is drawn with
    # several glyphs (isolated, initial, medial, final); unshaped text has one per letter.
    glyphs_per_letter = {}
    for table in fonts.values():
        for code, chars in table.items():
            if len(chars) == 1 and "\u0600" <= chars <= "\u06ff":
                glyphs_per_letter.setdefault(chars, set()).add(code)
    assert max(len(codes) for codes in glyphs_per_letter.values()) >= 2
    # 3. Right to left: the track title's line, its glyphs read from right to left, is
    # the title in logical order; read from left to right (drawing order) it is not.
    reading = ["".join(reversed(line)) for line in lines]
    drawing = ["".join(line) for line in lines]
    assert any(TRACK_AR in _normalised(line) for line in reading)
    assert not any(TRACK_AR in _normalised(line) for line in drawing)
    # Whereas the French certificate's title is drawn left to right.
    assert any(
        "Certificat de fin de formation" in line
        for line in ("".join(x) for x in _drawn_lines(french.data)[0])
    )


def test_the_number_stays_when_downloaded_again_and_issue_is_idempotent(app):
    user, application = _participant()
    client = _logged_in(app, user)
    client.get(_pdf_url(application))
    number = db.session.scalar(select(Certificate.number))
    client.get(_pdf_url(application, "ar"))
    again = issue(application, CertificateLanguage.FR)
    assert again.number == number
    assert db.session.scalar(select(func.count(Certificate.id))) == 1


@pytest.mark.parametrize("status", ["confirmed", "not_completed", "accepted", "submitted"])
def test_no_certificate_before_completion(app, status):
    user, application = _participant(status=status)
    client = _logged_in(app, user)
    assert client.get(_pdf_url(application, "fr")).status_code == 404
    assert _pdf_url(application, "fr") not in client.get(
        f"/me/applications/{application.reference}"
    ).get_data(as_text=True)
    with pytest.raises(CertificateError):
        issue(application, CertificateLanguage.FR)
    assert db.session.scalar(select(func.count(Certificate.id))) == 0


def test_only_the_participant_gets_the_pdf(app):
    _user, application = _participant()
    other = factories.user()
    reviewer = factories.reviewer(application.offering)
    admin = factories.user(role="admin")
    for who in (other, reviewer, admin):
        assert _logged_in(app, who).get(_pdf_url(application, "fr")).status_code == 404
    anonymous = app.test_client().get(_pdf_url(application, "fr"))
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    assert db.session.scalar(select(func.count(Certificate.id))) == 0


def test_an_unknown_language_is_not_found(app):
    user, application = _participant()
    assert _logged_in(app, user).get(_pdf_url(application, "en")).status_code == 404


def test_verification_of_a_valid_certificate_shows_no_personal_data(app):
    user, application = _participant()
    certificate = issue(application, CertificateLanguage.FR)
    client = app.test_client()
    response = client.get(f"/verify/{certificate.number}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-result="valid"' in page
    for expected in ("Salma Bennani", TRACK_FR, "Rabat", application.academic_year):
        assert expected in page
    for private in (user.profile.cin, user.email, "+212600000000", "1990", user.profile.association_name):
        assert private not in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_verification_tolerates_case_spaces_and_lookalike_letters(app):
    _user, application = _participant()
    number = issue(application, CertificateLanguage.FR).number
    typed = " ".join(number.lower().split("-"))
    assert 'data-result="valid"' in app.test_client().get(f"/verify/{typed}").get_data(as_text=True)
    # The form at /verify leads to the number's page.
    response = app.test_client().get("/verify", query_string={"number": f"  {typed} "})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/verify/{number}")


def test_an_unknown_number_is_a_clear_404(app):
    _user, application = _participant()
    number = issue(application, CertificateLanguage.FR).number
    other = numbers.new_number(2026)
    assert other != number
    for typed in (other, "OFPPT-2026-AAAA-AAAA", "nonsense", "x" * 500):
        response = app.test_client().get(f"/verify/{typed}")
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert 'data-result="unknown"' in page
        assert "Numéro inconnu" in page
        assert "Salma" not in page


def test_erasing_the_account_takes_the_certificate_with_it(app):
    from portal.privacy.operations import anonymise_user

    user, application = _participant()
    number = issue(application, CertificateLanguage.FR).number
    db.session.commit()
    assert app.test_client().get(f"/verify/{number}").status_code == 200
    anonymise_user(user)
    db.session.commit()
    response = app.test_client().get(f"/verify/{number}")
    assert response.status_code == 404 and 'data-result="unknown"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Certificate.id))) == 0


def test_verification_in_arabic_and_english(app):
    _user, application = _participant()
    number = issue(application, CertificateLanguage.FR).number
    arabic = app.test_client().get(f"/verify/{number}", headers={"Accept-Language": "ar"})
    assert '<html lang="ar" dir="rtl"' in arabic.get_data(as_text=True)
    assert "شهادة صحيحة" in arabic.get_data(as_text=True)
    assert TRACK_AR in arabic.get_data(as_text=True)
    english = app.test_client().get(f"/verify/{number}", headers={"Accept-Language": "en"})
    assert "Valid certificate" in english.get_data(as_text=True)


def test_an_administrator_revokes_a_certificate_after_confirming(app):
    user, application = _participant()
    certificate = issue(application, CertificateLanguage.FR)
    number = certificate.number
    client, admin = admin_client(app)

    listing = client.get("/admin/certificates", query_string={"q": number.lower().replace("-", " ")})
    assert listing.status_code == 200 and number in listing.get_data(as_text=True)
    confirm = client.get(f"/admin/certificates/{certificate.id}/revoke")
    assert confirm.status_code == 200 and "Confirmez-vous la révocation" in confirm.get_data(as_text=True)
    # The confirmation page changed nothing; an empty reason is refused next to the field.
    refused = client.post(f"/admin/certificates/{certificate.id}/revoke", data={"reason": "  "})
    assert refused.status_code == 422
    assert db.session.get(Certificate, certificate.id).revoked_at is None

    done = client.post(
        f"/admin/certificates/{certificate.id}/revoke", data={"reason": "Attestation obtenue par erreur"}
    )
    assert done.status_code == 302
    revoked = db.session.get(Certificate, certificate.id)
    assert revoked.revoked_at is not None and revoked.revoked_by_id == admin.id
    assert revoked.revocation_reason == "Attestation obtenue par erreur"
    events = audit_events("certificate_revoked")
    assert [(e.actor_id, e.object_type, e.object_id) for e in events] == [
        (admin.id, "certificate", str(certificate.id))
    ]
    assert events[0].after == {"number": number, "reason": "Attestation obtenue par erreur"}

    # The public page says so, with the date; the participant can no longer download it.
    public = app.test_client().get(f"/verify/{number}")
    assert public.status_code == 200
    text = public.get_data(as_text=True)
    assert 'data-result="revoked"' in text and "Certificat révoqué" in text
    assert "Attestation obtenue par erreur" not in text  # the reason stays internal
    participant = _logged_in(app, user)
    assert participant.get(_pdf_url(application, "fr")).status_code == 404
    assert "révoqué" in participant.get(f"/me/applications/{application.reference}").get_data(as_text=True)
    # Revoking again is refused; no second audit event.
    with pytest.raises(CertificateError):
        revoke(admin, revoked, "encore")
    assert client.get(f"/admin/certificates/{certificate.id}/revoke").status_code == 302
    assert len(audit_events("certificate_revoked")) == 1


def test_only_administrators_revoke(app):
    _user, application = _participant()
    certificate = issue(application, CertificateLanguage.FR)
    reviewer = factories.reviewer(application.offering)
    with pytest.raises(CertificateError):
        revoke(reviewer, certificate, "motif")
    assert certificate.revoked_at is None


def test_verification_is_throttled_per_address(app, throttled):
    app.config["VERIFY_ADDRESS_LIMIT"] = "3 per minute"
    client = app.test_client()
    for _ in range(3):
        assert client.get("/verify/OFPPT-2026-AAAA-AAAA").status_code == 404
    response = client.get("/verify/OFPPT-2026-AAAA-AAAA")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_certificate_numbers_are_random_and_checked():
    drawn = {numbers.new_number(2026) for _ in range(500)}
    assert len(drawn) == 500
    for number in list(drawn)[:50]:
        assert numbers.normalize(number) == number
        assert numbers.normalize(number.lower().replace("-", " ")) == number
        # Every single mistyped character of the random part is caught by the check character.
        body = number.replace("-", "")[9:]
        for i, char in enumerate(body):
            for other in numbers.ALPHABET:
                if other != char:
                    typo = body[:i] + other + body[i + 1 :]
                    assert numbers.normalize(numbers.format_number(2026, typo)) is None
    assert numbers.normalize("OFPPT-2026-0O1I-L") is None
    assert numbers.normalize("x" * 1000) is None


def test_lookalike_letters_are_read_as_digits():
    symbols = "0011ABC"
    number = numbers.format_number(2026, symbols + numbers.check_symbol(symbols))
    typed = numbers.format_number(2026, "OOlIABC" + numbers.check_symbol(symbols))
    assert numbers.normalize(typed) == number


def test_page_text_helper_sees_the_verify_form(app):
    page = page_text(app.test_client().get("/verify"))
    assert "Numéro du certificat" in page


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_every_state_of_the_certificate_pages_passes_the_nu_html_checker(app, html_checker, language):
    user, application = _participant()
    valid = issue(application, CertificateLanguage.FR)
    _other, revoked_application = _participant()
    revoked = issue(revoked_application, CertificateLanguage.AR)
    client, admin = admin_client(app)
    revoke(admin, revoked, "Erreur de saisie")
    db.session.commit()
    visitor = app.test_client()
    visitor.post(f"/lang/{language}")
    client.post(f"/lang/{language}")
    participant = _logged_in(app, user)
    participant.post(f"/lang/{language}")
    pages = {
        "form": visitor.get("/verify"),
        "valid": visitor.get(f"/verify/{valid.number}"),
        "revoked": visitor.get(f"/verify/{revoked.number}"),
        "unknown": visitor.get("/verify/OFPPT-2026-AAAA-AAAA"),
        "application": participant.get(f"/me/applications/{application.reference}"),
        "list": client.get("/admin/certificates"),
        "confirm": client.get(f"/admin/certificates/{valid.id}/revoke"),
        "refused": client.post(f"/admin/certificates/{valid.id}/revoke", data={"reason": ""}),
    }
    assert [r.status_code for r in pages.values()] == [200, 200, 200, 404, 200, 200, 200, 422]
    for name, response in pages.items():
        html_checker.assert_valid(response.get_data(as_text=True), f"{name} ({language})")


def test_the_participants_data_export_holds_the_certificate(app):
    user, application = _participant()
    client = _logged_in(app, user)
    client.get(_pdf_url(application, "ar"))
    number = db.session.scalar(select(Certificate.number))
    exported = client.get("/me/data.json").get_json()
    [entry] = [a for a in exported["applications"] if a["reference"] == application.reference]
    assert entry["certificate"]["number"] == number
    assert entry["certificate"]["language"] == "ar"
    assert entry["certificate"]["revoked_at"] is None


def _more_certificates(times):
    """``times`` more completed participants with their certificates."""
    offering = factories.offering(seats=100, course_starts_on=utcnow() - timedelta(days=60))
    for _ in range(times):
        issue(factories.application(offering_=offering, status="completed"), CertificateLanguage.FR)
    db.session.commit()


def _statements(client, query_counter, path, status=200):
    client.get(path)  # warm caches (locale, compiled templates) outside the count
    with query_counter() as counter:
        assert client.get(path).status_code == status, path
    return counter.count


def test_certificate_pages_run_a_constant_number_of_queries(app, query_counter):
    user, application = _participant()
    number = issue(application, CertificateLanguage.FR).number
    _more_certificates(2)
    admin, _admin = admin_client(app)
    participant = _logged_in(app, user)
    pages = [
        (app.test_client(), f"/verify/{number}", 200),
        (app.test_client(), "/verify/OFPPT-2026-AAAA-AAAA", 404),
        (admin, "/admin/certificates", 200),
        (participant, f"/me/applications/{application.reference}", 200),
    ]
    small = [_statements(client, query_counter, path, status) for client, path, status in pages]
    _more_certificates(30)
    assert [_statements(client, query_counter, path, status) for client, path, status in pages] == small
    # The public lookup is one query (plus the session's, none for a visitor).
    assert small[0] <= 2


def test_first_downloads_at_the_same_moment_issue_one_certificate(app):
    """Eight first downloads at once (two tabs, a double click...) end with one certificate."""
    _user, application = _participant()
    application_id = application.id
    db.session.commit()

    def download(language):
        issue(db.session.get(Application, application_id), language)

    languages = [CertificateLanguage.FR, CertificateLanguage.AR] * (THREADS // 2)
    race = Race(app, THREADS).run([[language] for language in languages], download)
    assert race.errors == []
    assert race.outcomes["ok"] == THREADS
    assert db.session.scalar(select(func.count(Certificate.id))) == 1


def test_the_arabic_certificate_uses_the_latin_name_when_there_is_no_arabic_one(app):
    user, application = _participant(first_name_ar=None, last_name_ar=None)
    response = _logged_in(app, user).get(_pdf_url(application, "ar"))
    text = _normalised(PdfReader(io.BytesIO(response.data)).pages[0].extract_text())
    assert "Salma Bennani" in text and TRACK_AR in text
