"""Reading a response body within bounds: a size cap enforced while inflating, and a deadline.

httpx inflates each network chunk whole (a 64 KiB chunk of a gzip bomb can become 64 MB at
once), so the runtime reads the raw bytes and inflates them itself, at most `_STEP` bytes at a
time: memory stays near the cap whatever the server sends.
"""

from __future__ import annotations

import time
import zlib

import httpx2

from esi_client.runtime.records import BodyTooLarge, DeadlinePassed

_STEP = 256 * 1024
ACCEPT_ENCODING = "gzip, deflate"  # what the runtime inflates itself (ESI sends gzip)


class BodyReader:
    """Feed it raw chunks; `finish` returns the decoded body."""

    def __init__(self, content_encoding: str, limit: int, seconds_left: float | None) -> None:
        self.limit = limit
        self.deadline = None if seconds_left is None else time.monotonic() + seconds_left
        self.size = 0
        self.parts: list[bytes] = []
        encoding = content_encoding.strip().lower()
        self._inflater: zlib._Decompress | None
        if encoding in ("", "identity"):
            self._inflater = None
        elif encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflater = zlib.decompressobj()
        else:
            raise httpx2.DecodingError(f"unsupported Content-Encoding {content_encoding!r}")

    def feed(self, raw: bytes) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise DeadlinePassed
        inflater = self._inflater
        if inflater is None:
            self._add(raw)
            return
        data = raw
        try:
            while data:
                self._add(inflater.decompress(data, _STEP))
                data = inflater.unconsumed_tail
        except zlib.error as exc:
            raise httpx2.DecodingError(str(exc)) from None

    def finish(self) -> bytes:
        if self._inflater is not None:
            try:
                self._add(self._inflater.flush())
            except zlib.error as exc:
                raise httpx2.DecodingError(str(exc)) from None
        return b"".join(self.parts)

    def _add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise BodyTooLarge
        if chunk:
            self.parts.append(chunk)
