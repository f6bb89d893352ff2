"""Every message of the code is translated in French, Arabic and English, and the catalogues
are up to date with the code (extract, then compare)."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("fr", "ar", "en")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """Message ids extracted from the code right now."""
    pot = tmp_path_factory.mktemp("babel") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            # The Makefile's keywords (make extract): plural messages built lazily too.
            "-k",
            "lazy_ngettext:1,2",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def catalogue(language):
    with (ROOT / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_up_to_date_with_the_code(extracted, language):
    ids = {message.id for message in catalogue(language) if message.id}
    assert sorted(extracted - ids) == [], f"messages missing from {language}: run make extract"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(extracted, language):
    untranslated = []
    for message in catalogue(language):
        if not message.id or message.id not in extracted:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            untranslated.append(message.id if isinstance(message.id, str) else message.id[0])
    assert untranslated == []
