"""What the proxy sends back for one request."""

from __future__ import annotations

from attrs import frozen


@frozen
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    cache: str  # hit, miss, revalidated, coalesced; "refused" when nothing was sent
    waited: float = 0.0
