"""Reading ESI's response headers defensively: a server may send anything."""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping

_ASCII_DIGITS = frozenset("0123456789")


def header_int(value: str | None, max_digits: int = 15) -> int | None:
    """A header's whole number: ASCII digits only (`str.isdigit` also takes '²' and Arabic-Indic
    digits, which `int` then refuses or reads), at most `max_digits` of them (a 400-digit value
    overflows every float it meets). None for anything else: absent, empty, negative, too long."""
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > max_digits or not _ASCII_DIGITS.issuperset(text):
        return None
    return int(text)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from `now` (RFC 9110 §10.2.3: delay-seconds or an HTTP date).

    None when absent or unreadable; never negative, never infinite.
    """
    if not value:
        return None
    text = value.strip()
    if len(text) > 64 or not text.isascii():  # float() would read Arabic-Indic digits
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), 1e12)


def cache_directives(headers: Mapping[str, str]) -> dict[str, str]:
    """Cache-Control as lower-cased directive names (RFC 9111 §5.2: case-insensitive)."""
    directives: dict[str, str] = {}
    for part in headers.get("cache-control", "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            directives[name.lower()] = value.strip().strip('"')
    return directives


def http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when.timestamp() if when.tzinfo is not None else None


MAX_ETAG_CHARS = 1024  # ESI's are 64-odd; a longer one would be sent back in every request


def usable_etag(value: str | None) -> str | None:
    """An ETag worth sending back in If-None-Match: printable ASCII of a sane length."""
    if not value or len(value) > MAX_ETAG_CHARS or not value.isascii() or not value.isprintable():
        return None
    return value
