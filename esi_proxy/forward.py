"""One proxied call through esikit's runtime: the client view for the request's headers and
token, the call itself (its answer's bytes kept as ESI sent them), every page when asked, and
ESI's answer or error as the status, headers and body to send back."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import partial
from typing import Any

import orjson
from attrs import frozen

from esi_client import ESIClient
from esi_client._operation import Operation
from esi_client.decoding.decode import RAW_BODY
from esi_client.errors import DeadlineExceededError, ESIError, ESIResponseError, InvalidArgumentError
from esi_client.runtime.cache.memory import freshness_lifetime
from esi_client.runtime.records import CallRecord
from esi_client.telemetry import cache_result
from esi_proxy.answer import Answer
from esi_proxy.cursor_walk import every_cursor_page
from esi_proxy.inbound import Call, Refused
from esi_proxy.tokens import ProxyTokens, passed_token

# Not forwarded: they describe the connection or the encoding between ESI and the runtime.
HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "server"}
)


@frozen
class Caller:
    """Who the request is for and how it wants ESI asked (from its headers)."""

    character: int | None = None
    bearer: str | None = None
    language: str | None = None
    tenant: str | None = None
    compatibility_date: str | None = None


def client_for(client: ESIClient, operation: Operation, caller: Caller) -> ESIClient:
    """A view of the shared client for this request: its language, tenant and date, and the
    token it needs (the store's for a named character, or the one it sent)."""
    view = client
    if caller.language or caller.tenant or caller.compatibility_date:
        view = client.asking(
            language=caller.language, tenant=caller.tenant, compatibility_date=caller.compatibility_date
        )
    if not operation.scopes:
        return view
    if caller.bearer is not None:
        return view.with_token(passed_token(caller.bearer))
    if caller.character is not None:
        if not isinstance(client.auth, ProxyTokens) or client.auth.store_auth is None:
            raise Refused(400, "X-Esi-Character names a character, but this proxy has no SSO app configured")
        return view.for_character(caller.character)
    raise Refused(
        401,
        f"{operation.id} needs a token ({', '.join(operation.scopes)}): send X-Esi-Character: <id> "
        "for a character logged in to this proxy, or Authorization: Bearer <token>",
    )


async def forward(client: ESIClient, operation: Operation, call: Call) -> Answer:
    """ESI's answer to the call through the runtime, or the error it gave, as bytes to send."""
    if call.all_pages and operation.paging == "cursor":
        return await every_cursor_page(partial(forward, client, operation), call)
    if call.all_pages:
        return await _every_page(client, operation, call)
    record = CallRecord()
    try:
        response = await client.asend(operation, call.request, RAW_BODY, record=record)
    except ESIResponseError as error:
        return _error_answer(error, record)
    except InvalidArgumentError as error:
        return Answer(400, {}, _error_body(str(error)), "refused")
    except ESIError as error:
        status = status_for(error)
        hint = " (a character is added at /_proxy/login)" if status == 401 else ""
        return Answer(status, {}, _error_body(f"{error}{hint}"), "refused", _waited(record))
    body = response.parsed if isinstance(response.parsed, bytes) else b""
    result = cache_result(record)
    fresh_for = 0.0
    if result in JUST_RECEIVED and response.status_code == 200:
        fresh_for = freshness_lifetime(response.headers, client.clock.now())  # as the runtime reckons it
    headers = _forwarded(response.headers)
    return Answer(response.status_code, headers, body, result, _waited(record), fresh_for)


async def _every_page(client: ESIClient, operation: Operation, call: Call) -> Answer:
    """Page 1, then the others at once (the runtime paces them), merged into one array."""
    first = await forward(client, operation, _paged(call, 1))
    pages = first.headers.get("x-pages", "1")
    if first.status != 200 or not pages.isdigit() or int(pages) <= 1:
        return first
    rest = await asyncio.gather(
        *(forward(client, operation, _paged(call, n)) for n in range(2, int(pages) + 1))
    )
    failed = next((answer for answer in rest if answer.status != 200), None)
    if failed is not None:
        return failed  # nothing half-merged: the page that failed, as ESI answered it
    arrays = [answer.body.strip() for answer in (first, *rest)]
    merged = b"[" + b",".join(array[1:-1].strip() for array in arrays if array[1:-1].strip()) + b"]"
    results = {answer.cache for answer in (first, *rest)}
    cache = results.pop() if len(results) == 1 else "mixed"
    waited = sum(answer.waited for answer in (first, *rest))
    return Answer(200, first.headers, merged, cache, waited)


def _paged(call: Call, page: int) -> Call:
    request = {**call.request, "params": {**call.request["params"], "page": page}}
    return Call(request, False, call.legacy)


def status_for(error: ESIError) -> int:
    """The status for a failure that is not ESI's answer: a token the proxy lacks is the
    client's to fix (401); a store or ESI out of reach, or out of time, is the gateway's."""
    from esi_auth.errors import InvalidGrantError, NoTokenError, StoreUnavailableError

    if isinstance(error, NoTokenError | InvalidGrantError):
        return 401
    if isinstance(error, StoreUnavailableError):
        return 503
    if isinstance(error, DeadlineExceededError):
        return 504
    return 502


JUST_RECEIVED = frozenset({"miss", "revalidated", "coalesced"})

# A cached answer's headers are the same object hit after hit: filtered once. The entry keeps
# the headers it was made from, so an id is never another's while it is here.
_FORWARDED: dict[int, tuple[Mapping[str, str], dict[str, str]]] = {}


def _forwarded(headers: Mapping[str, str]) -> dict[str, str]:
    known = _FORWARDED.get(id(headers))
    if known is not None and known[0] is headers:
        return known[1]
    kept = {name.lower(): value for name, value in headers.items() if name.lower() not in HOP_HEADERS}
    if len(_FORWARDED) >= 4096:
        _FORWARDED.clear()
    _FORWARDED[id(headers)] = (headers, kept)
    return kept


def _error_answer(error: ESIResponseError, record: CallRecord) -> Answer:
    if not error.sent:  # refused here: a wait longer than allowed, the error budget spent
        headers = {"retry-after": str(int(error.retry_after + 0.999))} if error.retry_after else {}
        return Answer(error.status, headers, _error_body(str(error)), "refused", _waited(record))
    body = error.body or _error_body(error.error)
    return Answer(error.status, _forwarded(error.headers), body, cache_result(record), _waited(record))


def _error_body(message: str) -> bytes:
    return orjson.dumps({"error": message})


def _waited(record: CallRecord) -> float:
    value: Any = record.counts.get("wait_seconds", 0.0)
    return float(value)
