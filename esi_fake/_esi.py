"""The ESI routes: every operation of the spec, with ESI's caching, paging and limit headers."""

from __future__ import annotations

import asyncio
import base64
import datetime
import email.utils
import hashlib
import random
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from esi_fake import _plausible as plausible
from esi_fake._data import DATA_DAYS, EPOCH, DataMaker
from esi_fake._following import PAGING_PARAMS, follow_request, preferred_language
from esi_fake._headers import compressed, daily_expiry, not_modified_since, request_id
from esi_fake._limits import window_text
from esi_fake._market import market_orders_page
from esi_fake._spec import FakeOperation, fake_operations
from esi_fake._sso import SSOState, verify_bearer
from esi_fake._state import FakeState
from esi_fake._validate import check_request

MARKET_ORDERS = "GetMarketsRegionIdOrders"
COMPATIBILITY_DATES = "GetMetaCompatibilityDates"
UNIVERSE_NAMES, UNIVERSE_IDS = "PostUniverseNames", "PostUniverseIds"
CURSOR_PREFIX = "esi-fake-cursor:v2:"
# Resolves the caller of an authenticated route: (principal, None) or (None, error response).
Authorizer = Callable[[Request, FakeOperation], Awaitable[tuple[str | None, Response | None]]]


def _caller(request: Request) -> str:
    """Who sends a request, for telling duplicates apart: the token's app and character (read
    without checking: the authorizer checks), else "public"."""
    header = request.headers.get("authorization", "")
    if not header:
        return "public"
    try:
        payload = header.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return f"{claims.get('azp')}:{claims.get('sub')}"
    except (IndexError, ValueError, orjson.JSONDecodeError):
        return header[-24:]


def sso_authorizer(sso: SSOState, used_token: Callable[[str, str, bool], None] | None = None) -> Authorizer:
    """Bearer tokens must be JWTs the fake SSO signed, unexpired, holding the route's scopes;
    `used_token(character, jti, issued by a refresh)` hears of each one accepted."""

    async def authorize(request: Request, operation: FakeOperation) -> tuple[str | None, Response | None]:
        header = request.headers.get("authorization", "")
        if not header and not operation.scopes:
            return None, None
        claims = verify_bearer(sso, header)
        if isinstance(claims, str):
            return None, _error(401, claims)
        scp = claims.get("scp", [])
        granted = {scp} if isinstance(scp, str) else set(scp)
        missing = [scope for scope in operation.scopes if scope not in granted]
        if missing:
            return None, _error(403, f"Token is not valid for scope(s): {', '.join(missing)}")
        character = str(claims["sub"]).rsplit(":", 1)[-1]
        if used_token is not None:
            jti = str(claims.get("jti", ""))
            used_token(character, jti, jti in sso.refreshed_jtis)
        path_character = request.path_params.get("character_id")
        if path_character is not None and str(path_character) != character:
            return None, _error(403, "Token is for another character")
        return f"{claims.get('azp')}:{character}", None

    return authorize


def _error(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps({"error": text, "status": status}), status, headers, "application/json")


def _http_date(moment: float) -> str:
    return email.utils.formatdate(moment, usegmt=True)


class ESIRoutes:
    def __init__(self, spec: dict[str, Any], state: FakeState, authorize: Authorizer) -> None:
        self.state = state
        self.authorize = authorize
        self.data = DataMaker(spec, field_value=plausible.field_value, nothing=plausible.NOTHING)
        self.newest_date = str(spec.get("info", {}).get("version", "9999-12-31"))
        self.operations = fake_operations(spec)
        self._bodies: dict[str, tuple[bytes, str]] = {}

    def routes(self) -> list[Route]:
        return [Route(op.path, self._endpoint(op), methods=[op.method]) for op in self.operations]

    def _endpoint(self, operation: FakeOperation) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            self.state.enter()
            key = None
            fresh_until = None
            if operation.method == "GET":
                key = f"{_caller(request)}|{request.url.path}?{request.url.query}"
                conditional = "if-none-match" in request.headers
                self.state.begin(key, operation.id, conditional)
            try:
                response = await self._handle(operation, request)
                self._finish(operation, request, response)
                expires = response.headers.get("expires")
                if response.status_code in (200, 304) and expires:
                    # fresh until what the answer's own Expires header says, to the second
                    fresh_until = email.utils.parsedate_to_datetime(expires).timestamp()
            finally:
                self.state.leave()
                if key is not None:
                    self.state.end(key, fresh_until)
            return response

        return endpoint

    async def _handle(self, operation: FakeOperation, request: Request) -> Response:
        state, faults = self.state, self.state.faults
        if faults.arrival_delay_s:
            await asyncio.sleep(faults.arrival_delay_s)
        principal, refusal = await self.authorize(request, operation)
        request.state.principal = principal or (request.client.host if request.client else "?")
        if state.error_limit.exhausted():
            return _error(420, "This software has exceeded the error limit for ESI.")
        request.state.body = await request.body()
        problem = check_request(
            operation.parameters,
            operation.body,
            dict(request.path_params),
            request.query_params,
            request.headers,
            request.state.body,
            self.newest_date,
        )
        if problem is not None:
            return _error(400, problem)
        forced = state.take_forced(operation.id)
        if forced is not None:
            retry = {"Retry-After": str(int(forced.retry_after))} if forced.retry_after is not None else {}
            return _error(forced.status, f"forced {forced.status} by the fake ESI", retry)
        if refusal is not None:
            return refusal
        missing = plausible.outside_universe(dict(request.path_params))
        if missing is not None:
            return _error(404, f"{missing} not found")
        if operation.rate_group:
            wait = state.rate_limits.check(
                operation.rate_group,
                request.state.principal,
                operation.rate_max_tokens,
                operation.rate_window,
            )
            if wait is not None:
                return _error(429, "Too many requests", {"Retry-After": str(int(wait + 0.999))})
        if state.chance(faults.server_error_rate):
            status = state.pick(faults.server_error_statuses)
            return _error(status, "The fake ESI failed on purpose")
        if faults.delay_s and (faults.delay_operations is None or operation.id in faults.delay_operations):
            await asyncio.sleep(faults.delay_s)
        return self._success(operation, request)

    def _success(self, operation: FakeOperation, request: Request) -> Response:
        state = self.state
        headers: dict[str, str] = {}
        if operation.schema is None:
            return Response(b"", operation.success_status, headers)
        payload = self._payload(operation, request, headers)
        if isinstance(payload, Response):
            return payload
        body, etag = payload
        if operation.languages:
            headers["Content-Language"] = preferred_language(request)
        now = state.clock.now()
        headers.update(
            {
                "ETag": etag,
                "Last-Modified": _http_date(state.generation_time),
                "Date": _http_date(now),
                "Cache-Control": "public",
            }
        )
        expires = _expiry(state, operation, now)
        if expires is not None:
            headers["Expires"] = _http_date(expires)
        if operation.method == "GET" and _not_modified(request, etag, state.generation_time):
            return Response(b"", 304, headers)  # conditional requests are reads: never a POST
        faults = state.faults
        if (
            faults.malformed_operations is None or operation.id in faults.malformed_operations
        ) and state.chance(faults.malformed_rate):
            body = body[: max(len(body) // 2, 1)]
        elif "gzip" in request.headers.get("accept-encoding", "").lower():
            body = compressed(body, etag)
            headers["Content-Encoding"] = "gzip"
        return Response(body, operation.success_status, headers, "application/json")

    def _payload(
        self, operation: FakeOperation, request: Request, headers: dict[str, str]
    ) -> Response | tuple[bytes, str]:
        """The body and its ETag (X-Pages into `headers`), or the error that answers instead."""
        state = self.state
        if operation.paging == "page":
            raw_page = request.query_params.get("page") or "1"
            if not raw_page.isdigit():
                return _error(400, f"page must be a positive whole number, not {raw_page[:20]!r}")
            page = int(raw_page)
            pages = state.market_pages if operation.id == MARKET_ORDERS else state.page_count
            state.page_served()
            if not 1 <= page <= pages:
                return _error(404, "Requested page does not exist!")
            headers["X-Pages"] = str(pages)
            return self._page_body(operation, request, page)
        if operation.paging == "cursor":
            return self._cursor_body(operation, request)
        if operation.id in (UNIVERSE_NAMES, UNIVERSE_IDS):
            return self._lookup(operation, request)
        return self._body(operation, request)

    def _lookup(self, operation: FakeOperation, request: Request) -> Response | tuple[bytes, str]:
        """/universe/names and /universe/ids answer what was asked, from the fake's universe."""
        asked = orjson.loads(request.state.body)
        if operation.id == UNIVERSE_IDS:
            return self._cached(f"ids:{asked}", lambda: orjson.dumps(plausible.ids_of_names(asked)))
        answer = plausible.names_of_ids(asked)
        if isinstance(answer, str):
            return _error(404, answer)
        return self._cached(f"names:{asked}", lambda: orjson.dumps(answer))

    def _seed(self, operation: FakeOperation, request: Request, *, generation: bool = True) -> str:
        """What the data depends on: route, parameters, body, language (and the data's generation)."""
        # only what the operation reads: an ignored parameter never changes the data
        declared = {rule.name for rule in operation.parameters if rule.location == "query"}
        params = sorted(
            (k, v) for k, v in request.query_params.multi_items() if k in declared and k not in PAGING_PARAMS
        )
        path = sorted(request.path_params.items())
        body = hashlib.blake2b(getattr(request.state, "body", b""), digest_size=8).hexdigest()
        language = preferred_language(request) if operation.languages else ""
        made = self.state.generation if generation else "-"
        return f"{self.state.seed}:{made}:{operation.id}:{path}:{params}:{body}:{language}"

    def _cached(self, key: str, make: Callable[[], bytes]) -> tuple[bytes, str]:
        found = self._bodies.get(key)
        if found is None:
            body = make()
            found = (body, f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"')
            if len(self._bodies) > 4096:
                self._bodies.clear()
            self._bodies[key] = found
        return found

    def _body(self, operation: FakeOperation, request: Request) -> tuple[bytes, str]:
        seed = self._seed(operation, request)
        if operation.id == COMPATIBILITY_DATES:  # the fake serves one spec: its date
            return self._cached(seed, lambda: orjson.dumps({"compatibility_dates": [self.newest_date]}))
        path = dict(request.path_params)

        def make() -> bytes:
            data = follow_request(self.data.make(operation.schema, seed), request)
            language = preferred_language(request) if operation.languages else "en"
            return orjson.dumps(plausible.shape(operation.path, path, data, language))

        return self._cached(seed, make)

    def _page_body(self, operation: FakeOperation, request: Request, page: int) -> tuple[bytes, str]:
        seed = self._seed(operation, request)
        if operation.id == MARKET_ORDERS:
            size = self.state.market_page_size
            region = int(request.path_params["region_id"])
            filters = {k: v for k, v in request.query_params.items() if k in ("type_id", "order_type")}
            if filters:
                return self._cached(
                    f"{seed}:{page}",
                    lambda: orjson.dumps(
                        follow_request(orjson.loads(market_orders_page(seed, page, size, region)), request)
                    ),
                )
            return self._cached(f"{seed}:{page}", lambda: market_orders_page(seed, page, size, region))
        size = self.state.page_size
        return self._cached(
            f"{seed}:{page}", lambda: orjson.dumps(self.data.items(operation.schema, f"{seed}:{page}", size))
        )

    def _cursor_body(self, operation: FakeOperation, request: Request) -> Response | tuple[bytes, str]:
        """CCP's cursor contract: records ordered by `last_modified`; opaque tokens; `before`
        walks back to the oldest and then answers an empty list (the end); `after` gives what
        changed since the token ("0": from the start; for `before`, "0" is from the end)."""
        schema = self.data.resolve(operation.schema)
        name = next(k for k, v in schema["properties"].items() if self.data.resolve(v).get("type") == "array")
        records = self._cursor_records(operation, request, schema["properties"][name])
        query = request.query_params
        limit = max(1, min(int(query.get("limit") or 10), 100))
        try:
            if "after" in query:
                since = _cursor_key(query["after"])
                chosen = [key for key in records if since is None or key > since][:limit]
            else:
                until = _cursor_key(query.get("before") or "0")
                chosen = [key for key in records if until is None or key < until][-limit:]
        except ValueError:
            # The token's text is valid input by the spec; it names no record (as a page past the
            # end names none): 404.
            return _error(404, "the cursor token is not one this server handed out")
        cursor = {"before": _token(chosen[0]), "after": _token(chosen[-1])} if chosen else {}
        payload = {name: [records[key] for key in chosen], "cursor": cursor}
        seed = self._seed(operation, request)
        return self._cached(f"{seed}:{request.url.query}", lambda: orjson.dumps(payload))

    def _cursor_records(
        self, operation: FakeOperation, request: Request, schema: Any
    ) -> dict[tuple[str, int], Any]:
        """The records by (last_modified, index), oldest first. The records are the same in every
        generation of the data; each new generation moves a few of them to a newer
        `last_modified` (a change), so `after` a token returns exactly those."""
        seed = self._seed(operation, request, generation=False)
        records = self.data.items(schema, seed, self.state.cursor_records)
        for generation in range(1, self.state.generation + 1):
            rng = random.Random(f"{seed}:changes:{generation}")
            moment = EPOCH + datetime.timedelta(days=DATA_DAYS, hours=generation)
            for index in rng.sample(range(len(records)), max(1, len(records) // 5)):
                if isinstance(records[index], dict) and "last_modified" in records[index]:
                    records[index]["last_modified"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        keyed = {
            (str(record.get("last_modified", "")) if isinstance(record, dict) else "", index): record
            for index, record in enumerate(records)
        }
        return dict(sorted(keyed.items()))

    def _finish(self, operation: FakeOperation, request: Request, response: Response) -> None:
        state = self.state
        status = response.status_code
        state.record(operation.id, status)
        remain, reset = state.error_limit.snapshot()
        if status == 420:
            remain = 0  # a real 420 comes when nothing is left
        response.headers["X-ESI-Error-Limit-Remain"] = str(remain)
        response.headers["X-ESI-Error-Limit-Reset"] = str(reset)
        response.headers["X-ESI-Request-ID"] = request_id()
        # Whatever date was asked (none: ESI serves its oldest behaviour), the fake serves the
        # behaviour of its one spec, and says which.
        response.headers["X-Compatibility-Date"] = self.newest_date
        if operation.rate_group and status not in (420, 429):
            limit, window, remaining, used = state.rate_limits.charge(
                operation.rate_group,
                getattr(request.state, "principal", "?"),
                operation.rate_max_tokens,
                operation.rate_window,
                status,
            )
            response.headers["X-Ratelimit-Group"] = operation.rate_group
            response.headers["X-Ratelimit-Limit"] = f"{limit}/{window_text(window)}"
            response.headers["X-Ratelimit-Remaining"] = str(remaining)
            response.headers["X-Ratelimit-Used"] = str(used)


def _not_modified(request: Request, etag: str, last_modified: float) -> bool:
    headers = request.headers
    return etag in headers.get("if-none-match", "") or not_modified_since(
        headers.get("if-modified-since"), last_modified
    )


def _expiry(state: FakeState, operation: FakeOperation, now: float) -> float | None:
    """At the route's time of day when CCP documents one, else after its cache age; never
    later than a test's `max_cache_age`."""
    cache_age = state.cache_age(operation.cache_age)
    daily = daily_expiry(operation.expires_daily_at, now)
    cap = state.faults.max_cache_age
    if daily is not None:
        return daily if cap is None else min(daily, now + cap)
    return now + cache_age if cache_age else None


def _token(key: tuple[str, int]) -> str:
    """An opaque cursor token (base64 of a versioned record key: a client must not parse it)."""
    text = f"{CURSOR_PREFIX}{key[0]}|{key[1]}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _cursor_key(token: str) -> tuple[str, int] | None:
    """The record key a token names (None: "0", the end); ValueError for a token this server
    did not hand out."""
    if token in ("", "0"):
        return None
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError(token) from None
    prefix, _, index = text.rpartition("|")
    if not prefix.startswith(CURSOR_PREFIX) or not index.isdigit():
        raise ValueError(token)
    return prefix.removeprefix(CURSOR_PREFIX), int(index)
