"""``escape_text`` is ``markupsafe.escape`` without the Markup object: the same text, always."""

import pytest
from markupsafe import Markup, escape

from portal.templating import escape_text
from portal.vocabulary import ApplicationStatus


@pytest.mark.parametrize(
    "value",
    [
        "Liste d'attente",
        '<script>alert("x") & co</script>',
        "جمعية الأمل",
        "",
        12345,
        None,
        ApplicationStatus.UNDER_REVIEW,
        Markup("<b>déjà sûr</b> &amp;"),
    ],
)
def test_escape_text_is_markupsafes_escape_as_text(value):
    text = escape_text(value)
    assert type(text) is str
    assert text == str(escape(value))
