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
    # seconds the answer stays fresh from now, when it was just received from ESI (a miss, a
    # revalidation, a coalesced answer); 0 for a copy the cache had kept (its age is the cache's)
    fresh_for: float = 0.0
