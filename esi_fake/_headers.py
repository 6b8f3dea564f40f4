"""Headers as ESI sends and reads them: daily expiries, If-Modified-Since, gzip, request ids."""

from __future__ import annotations

import datetime
import email.utils
import gzip
import re
import threading
import uuid

_DAILY = re.compile(r"expires daily at (\d{1,2}):(\d{2})")
_gzipped: dict[str, bytes] = {}  # ETag -> the body gzipped (bodies are cached by ETag too)
_gzipped_lock = threading.Lock()


def daily_time(description: str) -> tuple[int, int] | None:
    """(hour, minute) of a route CCP documents as "This route expires daily at 11:05"."""
    found = _DAILY.search(description or "")
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2))
    return (hour, minute) if hour < 24 and minute < 60 else None


def daily_expiry(at: tuple[int, int] | None, now: float) -> float | None:
    """The next such time of day (UTC) after `now`, or None for a route without one."""
    if at is None:
        return None
    moment = datetime.datetime.fromtimestamp(now, datetime.UTC)
    today = moment.replace(hour=at[0], minute=at[1], second=0, microsecond=0)
    return (today if today > moment else today + datetime.timedelta(days=1)).timestamp()


def not_modified_since(header: str | None, last_modified: float) -> bool:
    """An If-Modified-Since the data has not changed since (a date that does not parse: no)."""
    if not header:
        return False
    try:
        since = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        return False
    return int(last_modified) <= since.timestamp()


def compressed(body: bytes, etag: str) -> bytes:
    with _gzipped_lock:
        found = _gzipped.get(etag)
    if found is None:
        found = gzip.compress(body, compresslevel=5, mtime=0)
        with _gzipped_lock:
            if len(_gzipped) > 1024:
                _gzipped.clear()
            _gzipped[etag] = found
    return found


def request_id() -> str:
    """As ESI's X-ESI-Request-ID: a UUID."""
    return str(uuid.uuid4())
