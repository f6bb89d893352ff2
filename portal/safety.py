"""Small input-safety helpers shared by features."""

from urllib.parse import urlsplit


def safe_next(target):
    """``target`` when it is a relative path on this site, else None (no open redirect)."""
    if not target or not isinstance(target, str):
        return None
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
