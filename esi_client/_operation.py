"""The facts each generated operation carries, taken from the spec at generation time."""

from __future__ import annotations

from typing import Literal

from attrs import frozen

Paging = Literal["page", "cursor"]
Location = Literal["path", "query", "body"]


@frozen
class RateLimit:
    """`x-rate-limit`: a floating-window token bucket shared by a group of routes."""

    group: str
    max_tokens: int
    window_seconds: int


@frozen
class Parameter:
    """One argument of an operation's functions (`body` for a request body)."""

    name: str
    python_name: str
    location: Location
    json_type: str
    required: bool
    description: str = ""
    enum: tuple[str, ...] = ()
    # The spec's bounds, checked before a request is sent (an array's apply to each item).
    minimum: int | float | None = None
    maximum: int | float | None = None
    pattern: str | None = None
    max_items: int | None = None


@frozen
class Operation:
    """What the runtime and esi_auth need to know about one ESI operation."""

    id: str
    python_name: str
    module: str
    tag: str
    method: str
    path: str
    summary: str
    scopes: tuple[str, ...]
    roles: tuple[str, ...]
    paging: Paging | None
    cache_age: int | None
    cache_mode: str | None
    rate_limit: RateLimit | None
    compatibility_date: str | None
    parameters: tuple[Parameter, ...]

    @property
    def is_idempotent(self) -> bool:
        return self.method in {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
