"""The account input rules on their own: CIN, phone, email, names, age, tokens."""

from datetime import date, datetime, timedelta

import pytest

from portal.auth import tokens
from portal.auth.validators import (
    age_on,
    has_control_characters,
    is_adult,
    is_arabic_name,
    is_latin_name,
    normalize_cin,
    normalize_email,
    normalize_phone,
)
from portal.extensions import db
from tests import factories


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("ab123456", "AB123456"), ("A1", "A1"), (" j 123456 ", "J123456"), ("Bk999", "BK999")],
)
def test_good_cin(typed, stored):
    assert normalize_cin(typed) == stored


@pytest.mark.parametrize("typed", ["", "A", "1", "ABC1", "AB1234567", "A-1", "1A", "AB12C", "É1", None, 12])
def test_bad_cin(typed):
    assert normalize_cin(typed) is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0612345678", "+212612345678"),
        ("0712345678", "+212712345678"),
        ("0522123456", "+212522123456"),
        ("06 12 34 56 78", "+212612345678"),
        ("06.12.34.56.78", "+212612345678"),
        ("06-12-34-56-78", "+212612345678"),
        ("+212612345678", "+212612345678"),
        ("+212 6 12 34 56 78", "+212612345678"),
        ("00212612345678", "+212612345678"),
        ("00 212 5 22 12 34 56", "+212522123456"),
    ],
)
def test_good_phone(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "0412345678",
        "0812345678",
        "061234567",
        "06123456789",
        "612345678",
        "+212412345678",
        "+2120612345678",
        "+33612345678",
        "0021261234567",
        "06/12/34/56/78",
        "06123456７８",  # full-width digits
        "٠٦١٢٣٤٥٦٧٨",  # Arabic-Indic digits
        None,
    ],
)
def test_bad_phone(typed):
    assert normalize_phone(typed) is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("Amina@Example.ORG", "amina@example.org"), ("  a.b+c@sub.example.ma ", "a.b+c@sub.example.ma")],
)
def test_good_email(typed, stored):
    assert normalize_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "amina",
        "amina@",
        "@example.org",
        "a b@example.org",
        "a@localhost",
        "a@example.org\x00",
        "a@exa mple.org",
    ],
)
def test_bad_email(typed):
    assert normalize_email(typed) is None


@pytest.mark.parametrize("name", ["Amina", "El Idrissi", "Aït-Ben Haddou", "O'Neil", "Zoé", "M. Benali"])
def test_latin_names(name):
    assert is_latin_name(name)


@pytest.mark.parametrize("name", ["", "Amina2", "أمينة", "Amina!", "---", "Ива́н"])
def test_not_latin_names(name):
    assert not is_latin_name(name)


@pytest.mark.parametrize("name", ["أمينة", "الإدريسي", "عبد الله", "مُحَمَّد"])
def test_arabic_names(name):
    assert is_arabic_name(name)


@pytest.mark.parametrize("name", ["Amina", "أمينة1", "", " - "])
def test_not_arabic_names(name):
    assert not is_arabic_name(name)


def test_control_characters():
    assert (
        has_control_characters("a\x00b")
        and has_control_characters("a\nb")
        and has_control_characters("\u202e")
    )
    assert not has_control_characters("Amina El Idrissi — أمينة")


def test_age_counts_whole_years():
    born = date(2008, 10, 1)
    assert age_on(born, date(2026, 9, 30)) == 17
    assert age_on(born, date(2026, 10, 1)) == 18
    assert not is_adult(born, date(2026, 9, 30), 18)
    assert is_adult(born, date(2026, 10, 1), 18)
    # Born on 29 February: adult on 1 March of the eighteenth year.
    assert not is_adult(date(2008, 2, 29), date(2026, 2, 28), 18)
    assert is_adult(date(2008, 2, 29), date(2026, 3, 1), 18)


def test_min_age_comes_from_the_configuration(app):
    app.config["MIN_AGE_YEARS"] = 21
    assert not is_adult(date(2006, 1, 1), date(2026, 6, 1))
    assert is_adult(date(2005, 1, 1), date(2026, 6, 1))


def test_tokens_expire_on_the_portal_clock_and_are_bound_to_their_purpose(app, clock):
    start = clock.set(datetime(2026, 10, 1, 8, 0))
    user = factories.user()
    db.session.commit()
    confirm, reset = tokens.make_confirm_token(user), tokens.make_reset_token(user)
    assert tokens.read_confirm_token(confirm) is user
    assert tokens.read_reset_token(reset) is user
    # A token of one kind is not accepted as the other.
    assert tokens.read_reset_token(confirm) is None and tokens.read_confirm_token(reset) is None
    # Exactly at the limit it works; one second later it does not.
    clock.set(start + timedelta(seconds=app.config["RESET_TOKEN_MAX_AGE"]))
    assert tokens.read_reset_token(reset) is user
    clock.set(start + timedelta(seconds=app.config["RESET_TOKEN_MAX_AGE"] + 1))
    assert tokens.read_reset_token(reset) is None
    # A token from the future (clock set back) is refused too.
    clock.set(start - timedelta(minutes=5))
    assert tokens.read_confirm_token(confirm) is None


def test_tokens_follow_the_state_they_were_made_for(app):
    user = factories.user()
    db.session.commit()
    confirm, reset = tokens.make_confirm_token(user), tokens.make_reset_token(user)
    user.email = "changed@example.org"
    user.password_hash = "$argon2id$v=19$m=65536,t=3,p=1$other"
    assert tokens.read_confirm_token(confirm) is None
    assert tokens.read_reset_token(reset) is None


@pytest.mark.parametrize("token", ["", "x", "a" * 600, "eyJ1Ijo1fQ.ZZZ.bad", None])
def test_garbage_tokens(app, token):
    assert tokens.read_confirm_token(token) is None
    assert tokens.read_reset_token(token) is None


def test_multiline_texts_refuse_every_control_character_but_tab_and_line_breaks():
    """The validator's character class is exactly Unicode's Cc category less tab, LF and CR."""
    import unicodedata

    from wtforms.validators import StopValidation

    from portal.safety import MultilineText

    class Field:
        data = None

    refused = set()
    for code in range(0x110000):
        field = Field()
        field.data = f"a{chr(code)}b"
        try:
            MultilineText()(None, field)
        except StopValidation:
            refused.add(chr(code))
    control = {chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cc"}
    assert refused == control - set("\t\n\r")
    assert "\u200f" not in refused and "\u200d" not in refused  # RLM, ZWJ
