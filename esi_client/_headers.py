"""Reading ESI's response headers defensively: a server may send anything."""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from `now` (RFC 9110 §10.2.3: delay-seconds or an HTTP date).

    None when absent or unreadable; never negative, never infinite.
    """
    if not value:
        return None
    text = value.strip()
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
