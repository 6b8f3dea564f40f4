"""Types shared by the generated functions and models: the UNSET marker and the Response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, Literal, TypeVar

from attrs import frozen

T = TypeVar("T")


class Unset:
    """The value of an optional argument or model field that was not given."""

    __slots__ = ()

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Unset = Unset()


def to_jsonable(value: object) -> object:
    """A parsed result (models, lists of models, plain values) as JSON-ready data."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, list):
        return [to_jsonable(item) for item in value]
    return value


@frozen
class Response(Generic[T]):
    """A parsed ESI response with the facts the runtime read from its headers.

    `from_cache` is true when the runtime answered without a request of its own (from its
    cache, or from an identical request another caller had in flight), or when ESI answered
    304 and the cached result was reused.
    """

    status_code: int
    headers: Mapping[str, str]
    parsed: T
    from_cache: bool = False

    @property
    def pages(self) -> int | None:
        """X-Pages: the number of pages of a paged operation, when ESI said."""
        value = self.headers.get("x-pages")
        return int(value) if value and value.isdigit() else None

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def expires(self) -> str | None:
        return self.headers.get("expires")
