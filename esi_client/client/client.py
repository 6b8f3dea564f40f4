"""ESIClient: the one object every generated function is called with, sync or async."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx2

from esi_client import telemetry
from esi_client._operation import Operation
from esi_client.client.arguments import check_arguments
from esi_client.client.call_query import call_character, call_query
from esi_client.client.outgoing import build_request
from esi_client.client.pools import LoopPool, Pools
from esi_client.client.settings import (
    DEFAULT_TENANT,
    check_language,
    check_limits,
    make_identity,
    pinned_compatibility_date,
)
from esi_client.clock import Clock, SystemClock
from esi_client.configuration import load_settings
from esi_client.decoding.decode import Parser
from esi_client.errors import ConfigurationError
from esi_client.runtime.cache.lookup import memory_hit
from esi_client.runtime.cache.memory import CacheStore, ResponseCache
from esi_client.runtime.limits.local import ErrorBudget, ErrorGate, RateBuckets, RateGate
from esi_client.runtime.pipeline import call_flow
from esi_client.runtime.records import CacheQuery, CallRecord, FlowContext, RetryPolicy
from esi_client.runtime.wire.body import ACCEPT_ENCODING
from esi_client.runtime.wire.drivers import run_async, run_sync
from esi_client.seam import CALL_EXTENSION, AccessToken, TokenProvider, TokenRequest
from esi_client.stats import ClientStats
from esi_client.types import Response

if TYPE_CHECKING:
    from esi_client.shared_limits import RedisLimits

T = TypeVar("T")

DEFAULT_MAX_WAIT = 60.0  # ESI's error window; longer waits raise with the retry time instead
# Well above ESI's largest real body (a few MB); bounds what a broken or hostile server can cost.
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


class ESIClient:
    """Talks to ESI for the generated functions: `get_status.sync(client=client)`.

    One object serves sync and async calls, from any number of threads or tasks. It caches
    (`cache=`: None for the default in-memory LRU, a CacheStore such as SQLiteCache or RedisCache
    for a persistent second level, False for none), keeps inside the error and rate limits,
    retries transient failures and bounds concurrency. `stats` counts what it did. The limits
    are this process's by default; `limits=RedisLimits(url)` shares them with every process of
    the app (esi_client.shared_limits).

    Bounds: a limit wait longer than `max_wait` raises (RateLimitedError/ErrorLimitedError with
    the retry time) instead of waiting; `deadline` bounds every attempt and wait of one call
    (DeadlineExceededError; `with_deadline` for one call; by default 120 s, or max_wait + 60 s
    when that is longer; None for none); bodies larger than `max_body_bytes`
    after decompression raise ResponseTooLargeError.

    `base_url`, `app_name` and `contact` not passed come from esikit's configuration
    (`ESI_BASE_URL`, `ESI_APP_NAME`, `ESI_CONTACT` or the config file: esi_client.configuration).
    """

    def __init__(
        self,
        *,
        app_name: str | None = None,
        contact: str | None = None,
        app_version: str | None = None,
        base_url: str | None = None,
        tenant: str = DEFAULT_TENANT,
        language: str | None = None,
        compatibility_date: str | None = None,
        timeout: float = 30.0,
        auth: TokenProvider | httpx2.Auth | None = None,
        cache: ResponseCache | CacheStore | bool | None = None,
        max_concurrency: int = 16,
        error_threshold: int = 10,
        max_wait: float = DEFAULT_MAX_WAIT,
        deadline: float | Literal["auto"] | None = "auto",
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        transport: httpx2.BaseTransport | None = None,
        async_transport: httpx2.AsyncBaseTransport | None = None,
        limits: RedisLimits | None = None,
    ) -> None:
        if deadline == "auto":
            deadline = max(120.0, float(max_wait) + 60.0) if isinstance(max_wait, int | float) else 120.0
        check_limits(
            timeout=timeout,
            max_concurrency=max_concurrency,
            error_threshold=error_threshold,
            max_wait=max_wait,
            deadline=deadline,
            max_body_bytes=max_body_bytes,
        )
        if base_url is None or not app_name or not contact:  # one read of the configuration
            settings = load_settings()
            base_url = base_url or settings.base_url
            app_name, contact = app_name or settings.app_name, contact or settings.contact
        self.identity = make_identity(app_name, contact, app_version)
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http:// or https:// URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.tenant = tenant
        self.language = check_language(language)
        self.compatibility_date = compatibility_date or pinned_compatibility_date()
        self.timeout = timeout
        self.auth = auth
        # A TokenProvider (esi_auth.ESIAuth) is the runtime's to ask; any other auth is httpx's.
        self._tokens = auth if isinstance(auth, TokenProvider) else None
        self._http_auth = auth if isinstance(auth, httpx2.Auth) and self._tokens is None else None
        if auth is not None and self._tokens is None and self._http_auth is None:
            raise ConfigurationError(
                f"auth must be a TokenProvider (esi_auth's SSOApp(...).auth) or an httpx2.Auth, "
                f"not {type(auth).__name__}"
            )
        self.cache = _make_cache(cache)
        self.max_concurrency = max_concurrency
        self.max_wait = float(max_wait)
        self.deadline = None if deadline is None else float(deadline)
        self.max_body_bytes = max_body_bytes
        self.retry_policy = retry or RetryPolicy()
        self.clock: Clock = clock or SystemClock()
        self.stats = ClientStats()
        self.error_budget: ErrorGate
        self.rate_buckets: RateGate
        if limits is None:  # this process's own: right for one process
            self.error_budget, self.rate_buckets = (
                ErrorBudget(error_threshold, max_concurrency),
                RateBuckets(),
            )
        else:  # a fleet's, in Redis
            self.error_budget, self.rate_buckets = limits.bind(error_threshold, max_concurrency, self.stats)
        self.character_id: int | None = None
        self.token: AccessToken | None = None  # a token passed in (esi_auth.Token): sent as it is
        self.revalidate = False
        self._call_headers: dict[str, str] | None = None
        self._transport = transport
        self._async_transport = async_transport
        self._pools = Pools()
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

    def with_token(self, token: AccessToken) -> ESIClient:
        """A view whose authenticated calls send this token (from a decorator, say)."""
        view = self.for_character(token.character_id)
        view.token = token
        return view

    def with_deadline(self, seconds: float | None) -> ESIClient:
        """A view whose calls each finish (every attempt and wait) within `seconds`."""
        if seconds is not None and not seconds > 0:
            raise ConfigurationError(f"deadline must be more than 0 seconds, or None (got {seconds!r})")
        view = copy.copy(self)
        view.deadline = None if seconds is None else float(seconds)
        return view

    def asking(
        self,
        *,
        language: str | None = None,
        tenant: str | None = None,
        compatibility_date: str | None = None,
    ) -> ESIClient:
        """A view whose calls ask ESI in another language, tenant or compatibility date (its
        answers are cached apart); it shares the pools, cache, limits and stats."""
        view = copy.copy(self)
        view.language = check_language(language) if language is not None else self.language
        view.tenant = tenant or self.tenant
        view.compatibility_date = compatibility_date or self.compatibility_date
        changed = {
            "Accept-Language": view.language if view.language != self.language else None,
            "X-Tenant": view.tenant if view.tenant != self.tenant else None,
            "X-Compatibility-Date": (
                view.compatibility_date if view.compatibility_date != self.compatibility_date else None
            ),
        }
        own = {name: value for name, value in changed.items() if value is not None}
        view._call_headers = {**(self._call_headers or {}), **own} or None
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
            "Accept-Encoding": ACCEPT_ENCODING,
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
                    from esi_client.runtime.wire.deadline_transport import deadline_transport

                    options = self._options()
                    transport = self._transport or deadline_transport(
                        verify=options.get("verify", True), limits=options["limits"]
                    )
                    pools.sync = httpx2.Client(transport=transport, **options)
        return pools.sync

    def _loop_pool(self) -> LoopPool:
        import asyncio  # only async users pay for importing asyncio

        loop = asyncio.get_running_loop()
        pools = self._pools
        pool = pools.by_loop.get(loop)
        if pool is None:
            with pools.lock:
                pool = pools.by_loop.get(loop)
                if pool is None:
                    http = httpx2.AsyncClient(transport=self._async_transport, **self._options())
                    pool = pools.by_loop[loop] = LoopPool(
                        http, asyncio.Semaphore(self.max_concurrency), self.max_concurrency
                    )
        return pool

    @property
    def async_http(self) -> httpx2.AsyncClient:
        """The running event loop's connection pool."""
        return self._loop_pool().http

    def close(self) -> None:
        if self._pools.sync is not None:
            self._pools.sync.close()
            self._pools.sync = None

    async def aclose(self) -> None:
        """Close the running loop's pool (pools of loops that have ended went with them)."""
        import asyncio

        pool = self._pools.by_loop.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.http.aclose()
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

    def send(
        self,
        operation: Operation,
        request: Mapping[str, Any],
        parse: Parser[T] | None,
        *,
        record: CallRecord | None = None,
    ) -> Response[T]:
        """One call through the runtime (what the generated functions call). `record`, when
        given, is filled with what the call did: its cache result, requests, retries, waits."""
        check_arguments(operation, request)
        character = call_character(self, operation, request)
        http = self.http
        build = partial(self._build, http, operation, request, character)
        query = call_query(self, operation, request, character)
        if telemetry.active():
            with telemetry.call_span(
                operation, self.error_budget, self.rate_buckets, query.principal, record
            ) as record:
                flow = call_flow(
                    self._flow_context(operation, character, record), operation, build, parse, query
                )
                return run_sync(flow, http, self._sync_slots, self.clock, self._http_auth)
        if record is None and (hit := self._memory_hit(operation, parse, query)) is not None:
            return hit
        flow = call_flow(self._flow_context(operation, character, record), operation, build, parse, query)
        return run_sync(flow, http, self._sync_slots, self.clock, self._http_auth)

    async def asend(
        self,
        operation: Operation,
        request: Mapping[str, Any],
        parse: Parser[T] | None,
        *,
        record: CallRecord | None = None,
    ) -> Response[T]:
        """`send` for async callers: the same flow, driven on the running loop's pool."""
        check_arguments(operation, request)
        character = call_character(self, operation, request)
        pool = self._loop_pool()
        build = partial(self._build, pool.http, operation, request, character)
        query = call_query(self, operation, request, character)
        if telemetry.active():
            with telemetry.call_span(
                operation, self.error_budget, self.rate_buckets, query.principal, record
            ) as record:
                flow = call_flow(
                    self._flow_context(operation, character, record), operation, build, parse, query
                )
                return await run_async(
                    flow, pool.http, pool.slots, self.clock, self._http_auth, pool.store_threads
                )
        if record is None and (hit := self._memory_hit(operation, parse, query)) is not None:
            return hit
        flow = call_flow(self._flow_context(operation, character, record), operation, build, parse, query)
        return await run_async(flow, pool.http, pool.slots, self.clock, self._http_auth, pool.store_threads)

    def _memory_hit(
        self, operation: Operation, parse: Parser[T] | None, query: CacheQuery
    ) -> Response[T] | None:
        now = self.clock.now()
        return memory_hit(self.cache, now, self.revalidate, self.stats, operation, parse, query.key)

    def _flow_context(
        self, operation: Operation, character: int | None, record: CallRecord | None = None
    ) -> FlowContext:
        wanted = TokenRequest(operation, character, self.token) if operation.scopes else None
        return FlowContext(
            clock=self.clock,
            stats=self.stats,
            retry_policy=self.retry_policy,
            error_budget=self.error_budget,
            rate_buckets=self.rate_buckets,
            cache=self.cache,
            max_wait=self.max_wait,
            deadline=self.deadline,
            max_body_bytes=self.max_body_bytes,
            revalidate=self.revalidate,
            record=record,
            tokens=self._tokens,
            token_request=wanted,
        )

    def _build(
        self,
        http: httpx2.Client | httpx2.AsyncClient,
        operation: Operation,
        request: Mapping[str, Any],
        character: int | None,
    ) -> httpx2.Request:
        extensions: dict[str, Any] = {}
        if operation.scopes and self._http_auth is not None:  # for an httpx2.Auth of the user's
            extensions[CALL_EXTENSION] = TokenRequest(operation, character, self.token)
        # a view's own language, tenant or date (`asking`) in its headers
        return build_request(http, operation.method, request, self._call_headers, extensions)


def _make_cache(cache: ResponseCache | CacheStore | bool | None) -> ResponseCache | None:
    if cache is None or cache is True:
        return ResponseCache()
    if cache is False:
        return None
    if isinstance(cache, ResponseCache):
        return cache
    return ResponseCache(store=cache)
