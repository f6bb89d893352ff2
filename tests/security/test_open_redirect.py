"""ASVS 5.1.5: ``next=`` only accepts relative paths on this site (issue point 9)."""

import pytest

from portal.safety import safe_next


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "evil.example",
        "/ok\r\nLocation: https://evil.example",
        "",
        None,
    ],
)
def test_foreign_or_malformed_targets_are_refused(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/", "/me", "/tracks?city=3", "/apply/4#top"])
def test_relative_paths_are_kept(target):
    assert safe_next(target) == target
