"""Turn a 2xx body into the operation's typed result, or one clear BadResponseError."""

from __future__ import annotations

import gc
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson

from esi_client._operation import Operation
from esi_client.decoding.checks import DECODING, WrongType, located
from esi_client.decoding.fast_path import ModelParser, WireMismatch
from esi_client.errors import BadResponseError
from esi_client.stats import ClientStats

T = TypeVar("T")
logger = logging.getLogger("esi_client")
Parser = Callable[[Any], T]


class RawBody:
    """The parser that keeps a 2xx body as ESI sent it, undecoded: `esi proxy` forwards the
    bytes, and a cache hit costs it no decoding. Only `RAW_BODY` is used."""

    def __call__(self, data: Any) -> bytes:
        raise TypeError("RAW_BODY keeps the body's bytes; it is never given decoded JSON")


RAW_BODY = RawBody()

# Decoding a page builds ~1000 GC-tracked models; the cyclic collector then walks every model
# decoded so far again and again (measured: 40 % of an all-pages walk). Models are acyclic, so
# the collector is paused while a large body decodes. The pause nests across threads.
BIG_BODY_BYTES = 32 * 1024
_paused = 0
_we_disabled = False
_gc_lock = threading.Lock()


@contextmanager
def gc_paused() -> Iterator[None]:
    global _paused, _we_disabled
    with _gc_lock:
        if _paused == 0 and gc.isenabled():
            gc.disable()
            _we_disabled = True
        _paused += 1
    try:
        yield
    finally:
        with _gc_lock:
            _paused -= 1
            if _paused == 0 and _we_disabled:
                _we_disabled = False
                gc.enable()


def decode_and_parse(
    operation: Operation, parse: Parser[T], content: bytes, stats: ClientStats | None = None
) -> T:
    if parse is RAW_BODY:
        return content  # type: ignore[return-value]  # RAW_BODY's T is bytes
    if len(content) < BIG_BODY_BYTES:
        return parse_body(operation, parse, decode_json(operation, content), stats)
    with gc_paused():
        if isinstance(parse, ModelParser) and parse.has_wire:
            try:
                parsed: T = parse.decode_bytes(content)
            except WireMismatch as mismatch:
                logger.debug(
                    "%s: body is not exactly the spec's (%s): parsed by from_dict", operation.id, mismatch
                )
                if stats is not None:
                    stats.add("slow_decodes")
            else:
                if stats is not None:
                    stats.add("fast_decodes")
                return parsed
        return parse_body(operation, parse, decode_json(operation, content), stats)


def decode_json(operation: Operation, content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise BadResponseError(
            f"response body is not valid JSON ({exc})", operation_id=operation.id
        ) from None


def parse_body(operation: Operation, parse: Parser[T], data: Any, stats: ClientStats | None = None) -> T:
    """Run the generated (checked) parser; a value of the wrong type becomes one BadResponseError
    naming its JSON path, the value and the expected type."""
    context = DECODING.set((operation, stats))
    try:
        return parse(data)
    except (WrongType, KeyError) as exc:  # a KeyError: a required field of the top level is missing
        wrong = located(exc)
        where = f"at {wrong.path}" if wrong.path else "at the top level"
        missing = wrong.expected == "a required field"
        got = f"expected {wrong.expected}, got {_shown(wrong.value)}"
        message = (
            f"response lacks the required field {wrong.path!r}"
            if missing
            else f"response does not match the spec {where}: {got}"
        )
        raise BadResponseError(
            message,
            operation_id=operation.id,
            path=wrong.path,
            value=None if missing else wrong.value,
            expected=wrong.expected,
        ) from None
    except (TypeError, ValueError, AttributeError) as exc:
        named = _field_from_message(str(exc), data)
        where = f" in field {named!r}" if named else ""
        raise BadResponseError(
            f"response does not match the spec{where}: {exc}", operation_id=operation.id, path=named
        ) from None
    finally:
        DECODING.reset(context)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _field_from_message(message: str, data: Any) -> str | None:
    """The first name the message quotes that is a field of the body: a quoted type name
    ("'NoneType' object is not iterable") is not a field."""
    quoted = re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)'", message)
    fields = _field_names(data) if quoted else set()
    return next((name for name in quoted if name in fields), None)


def _field_names(data: Any) -> set[str]:
    """Every key of every object in the body, at any depth."""
    names: set[str] = set()
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            names.update(key for key in value if isinstance(key, str))
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return names
