"""ESIClient: the one object every generated function is called with, sync or async."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx2
from attrs import frozen

from esi_client._cache import CacheEntry, CacheStore, ResponseCache
from esi_client._decode import Parser, decode_and_parse
from esi_client._drivers import run_async, run_sync
from esi_client._flow import call_flow, logger
from esi_client._limits import ErrorBudget, RateBuckets
from esi_client._operation import Operation
from esi_client._settings import (
    DEFAULT_TENANT,
    ESI_BASE_URL,
    check_language,
    make_identity,
    pinned_compatibility_date,
)
from esi_client._stats import ClientStats
from esi_client.clock import Clock, SystemClock
from esi_client.types import Response

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")

OPERATION_EXTENSION = "esi_operation"
CHARACTER_EXTENSION = "esi_character"


@frozen
class RetryPolicy:
    """Idempotent requests are retried on 502/503/504, timeouts and connection errors."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 30.0


class _Pools:
    """Connection pools shared by a client and its per-character views, opened on first use."""

    def __init__(self) -> None:
        self.sync: httpx2.Client | None = None
        self.async_: httpx2.AsyncClient | None = None
        self.async_slots: asyncio.Semaphore | None = None  # created with the async pool
        self.lock = threading.Lock()


class ESIClient:
    """Talks to ESI for the generated functions: `get_status.sync(client=client)`.

    One object serves sync and async calls, from any number of threads or tasks. It caches
    (`cache=`: None for the default in-memory LRU, a CacheStore such as SQLiteCache or RedisCache
    for a persistent second level, False for none), keeps inside the error and rate limits,
    retries transient failures and bounds concurrency. `stats` counts what it did.
    """

    def __init__(
        self,
        *,
        app_name: str | None = None,
        contact: str | None = None,
        app_version: str | None = None,
        base_url: str = ESI_BASE_URL,
        tenant: str = DEFAULT_TENANT,
        language: str | None = None,
        compatibility_date: str | None = None,
        timeout: float = 30.0,
        auth: httpx2.Auth | None = None,
        cache: ResponseCache | CacheStore | bool | None = None,
        max_concurrency: int = 16,
        error_threshold: int = 10,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        transport: httpx2.BaseTransport | None = None,
        async_transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.identity = make_identity(app_name, contact, app_version)
        self.base_url = base_url.rstrip("/")
        self.tenant = tenant
        self.language = check_language(language)
        self.compatibility_date = compatibility_date or pinned_compatibility_date()
        self.timeout = timeout
        self.auth = auth
        self.cache = _make_cache(cache)
        self.max_concurrency = max_concurrency
        self.retry_policy = retry or RetryPolicy()
        self.clock: Clock = clock or SystemClock()
        self.stats = ClientStats()
        self.error_budget = ErrorBudget(error_threshold)
        self.rate_buckets = RateBuckets()
        self.character_id: int | None = None
        self.token: Any = None  # a token passed in (esi_auth.Token): used instead of choosing one
        self.revalidate = False
        self._transport = transport
        self._async_transport = async_transport
        self._pools = _Pools()
        self._sync_slots = threading.BoundedSemaphore(max_concurrency)

    def __repr__(self) -> str:
        bound = f", character_id={self.character_id}" if self.character_id else ""
        return f"ESIClient(base_url={self.base_url!r}, user_agent={self.identity.user_agent()!r}{bound})"

    def for_character(self, character_id: int) -> ESIClient:
        """A view of this client whose authenticated calls use `character_id`'s token.

        Needed for routes without a character in the path (corporation routes); it shares the
        pools, cache, limits and stats of this client.
        """
        view = copy.copy(self)
        view.character_id = int(character_id)
        return view

    def with_token(self, token: Any) -> ESIClient:
        """A view whose authenticated calls send this token (from a decorator, say)."""
        view = self.for_character(token.character_id)
        view.token = token
        return view

    def revalidating(self) -> ESIClient:
        """A view that asks ESI every time (a conditional request when it has an ETag),
        never answering from the cache alone."""
        view = copy.copy(self)
        view.revalidate = True
        return view

    @property
    def headers(self) -> dict[str, str]:
        """The headers every request carries."""
        headers = {
            "User-Agent": self.identity.user_agent(),
            "X-Compatibility-Date": self.compatibility_date,
            "X-Tenant": self.tenant,
            "Accept": "application/json",
        }
        if self.language:
            headers["Accept-Language"] = self.language
        return headers

    # -- connection pools -------------------------------------------------------------

    def _options(self) -> dict[str, Any]:
        size = max(self.max_concurrency, 1)
        # A plain-http base URL (the fake ESI) needs no TLS context: building one costs ~90 ms.
        tls = {"verify": False} if self.base_url.startswith("http://") else {}
        return {
            **tls,
            "base_url": self.base_url,
            "headers": self.headers,
            "timeout": self.timeout,
            "limits": httpx2.Limits(max_connections=size, max_keepalive_connections=size),
        }

    @property
    def http(self) -> httpx2.Client:
        pools = self._pools
        if pools.sync is None:
            with pools.lock:
                if pools.sync is None:
                    pools.sync = httpx2.Client(transport=self._transport, **self._options())
        return pools.sync

    @property
    def async_http(self) -> httpx2.AsyncClient:
        pools = self._pools
        if pools.async_ is None:
            import asyncio  # only async users pay for importing asyncio

            pools.async_ = httpx2.AsyncClient(transport=self._async_transport, **self._options())
            pools.async_slots = asyncio.Semaphore(self.max_concurrency)
        return pools.async_

    def close(self) -> None:
        if self._pools.sync is not None:
            self._pools.sync.close()
            self._pools.sync = None

    async def aclose(self) -> None:
        if self._pools.async_ is not None:
            await self._pools.async_.aclose()
            self._pools.async_ = None
        self.close()

    def __enter__(self) -> ESIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> ESIClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- the seam the generated functions call ---------------------------------------

    def send(self, operation: Operation, request: Mapping[str, Any], parse: Parser[T] | None) -> Response[T]:
        lookup = self._lookup(operation, request, parse)
        if isinstance(lookup, Response):
            return lookup
        http = self.http
        flow = call_flow(self, operation, self._build(http, operation, request), parse, *lookup)
        return run_sync(flow, http, self._sync_slots, self.clock, self.auth)

    async def asend(
        self, operation: Operation, request: Mapping[str, Any], parse: Parser[T] | None
    ) -> Response[T]:
        lookup = self._lookup(operation, request, parse, use_store=False)
        if isinstance(lookup, Response):
            return lookup
        if (
            lookup[0] is not None
            and lookup[2] is None
            and self.cache is not None
            and self.cache.store is not None
        ):
            # not in memory: the persistent store may have it, and reading it blocks
            import anyio.to_thread

            lookup = await anyio.to_thread.run_sync(self._lookup, operation, request, parse)
            if isinstance(lookup, Response):
                return lookup
        http = self.async_http
        slots = self._pools.async_slots
        assert slots is not None
        flow = call_flow(self, operation, self._build(http, operation, request), parse, *lookup)
        return await run_async(flow, http, slots, self.clock, self.auth)

    def _lookup(
        self,
        operation: Operation,
        request: Mapping[str, Any],
        parse: Parser[Any] | None,
        use_store: bool = True,
    ) -> Response[Any] | tuple[str | None, str | None, CacheEntry | None]:
        """A fresh cached Response, or what the call flow needs: (cache key, principal, stale entry)."""
        principal = self._principal(operation, request)
        key = self._cache_key(operation, request, principal)
        entry = self._cached(key, operation, parse, use_store) if key is not None else None
        if entry is not None and entry.fresh_until > self.clock.now() and not self.revalidate:
            return self._hit(operation, entry)
        return key, principal, entry

    def _hit(self, operation: Operation, entry: CacheEntry) -> Response[Any]:
        self.stats.add("cache_hits")
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s cache=hit", operation.id)
        return Response(entry.status, entry.headers, entry.parsed, from_cache=True)

    def _principal(self, operation: Operation, request: Mapping[str, Any]) -> str | None:
        if not operation.scopes:
            return None
        if self.character_id is not None:
            return str(self.character_id)
        character = request.get("path_params", {}).get("character_id")
        return str(character) if character is not None else None

    def _cache_key(
        self, operation: Operation, request: Mapping[str, Any], principal: str | None
    ) -> str | None:
        if self.cache is None or operation.method != "GET":
            return None
        params = request.get("params")
        query = "&".join(f"{k}={v}" for k, v in sorted(params.items())) if params else ""
        return f"{request['url']}?{query}#{principal or ''}"

    def _cached(
        self, key: str, operation: Operation, parse: Parser[Any] | None, use_store: bool
    ) -> CacheEntry | None:
        assert self.cache is not None
        entry = self.cache.get(key)
        if entry is None and use_store and self.cache.store is not None:
            stored = self.cache.load_stored(key)
            if stored is not None:
                parsed = decode_and_parse(operation, parse, stored.body, self.stats) if parse else None
                entry = CacheEntry(stored.status, stored.headers, parsed, stored.etag, stored.fresh_until)
                self.cache.remember(key, entry)
        return entry

    def _build(
        self, http: httpx2.Client | httpx2.AsyncClient, operation: Operation, request: Mapping[str, Any]
    ) -> httpx2.Request:
        extensions: dict[str, Any] = {OPERATION_EXTENSION: operation}
        if operation.scopes:
            character = self.character_id or request.get("path_params", {}).get("character_id")
            extensions[CHARACTER_EXTENSION] = character
            if self.token is not None:
                extensions["esi_token"] = self.token
        return http.build_request(
            operation.method,
            request["url"],
            params=request.get("params"),
            json=request.get("json"),
            extensions=extensions,
        )


def _make_cache(cache: ResponseCache | CacheStore | bool | None) -> ResponseCache | None:
    if cache is None or cache is True:
        return ResponseCache()
    if cache is False:
        return None
    if isinstance(cache, ResponseCache):
        return cache
    return ResponseCache(store=cache)
