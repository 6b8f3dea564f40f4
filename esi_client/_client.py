"""ESIClient: the one object every generated function is called with, sync or async."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx2

from esi_client._decode import Parser, decode_json, parse_body
from esi_client._operation import Operation
from esi_client._settings import (
    DEFAULT_TENANT,
    ESI_BASE_URL,
    check_language,
    make_identity,
    pinned_compatibility_date,
)
from esi_client.errors import ESIResponseError, TransportError, error_for_status
from esi_client.types import Response

T = TypeVar("T")

OPERATION_EXTENSION = "esi_operation"


class ESIClient:
    """Talks to ESI for the generated functions: `get_status.sync(client=client)`.

    One object serves sync and async calls; each side opens its own connection pool on first
    use. Close it with `close()` / `aclose()` or use it as a (async) context manager.
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
        self._transport = transport
        self._async_transport = async_transport
        self._sync_http: httpx2.Client | None = None
        self._async_http: httpx2.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"ESIClient(base_url={self.base_url!r}, user_agent={self.identity.user_agent()!r})"

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

    @property
    def http(self) -> httpx2.Client:
        if self._sync_http is None:
            self._sync_http = httpx2.Client(
                base_url=self.base_url, headers=self.headers, timeout=self.timeout, transport=self._transport
            )
        return self._sync_http

    @property
    def async_http(self) -> httpx2.AsyncClient:
        if self._async_http is None:
            self._async_http = httpx2.AsyncClient(
                base_url=self.base_url,
                headers=self.headers,
                timeout=self.timeout,
                transport=self._async_transport,
            )
        return self._async_http

    def close(self) -> None:
        if self._sync_http is not None:
            self._sync_http.close()
            self._sync_http = None

    async def aclose(self) -> None:
        if self._async_http is not None:
            await self._async_http.aclose()
            self._async_http = None
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
        http_request = self._build(self.http, operation, request)
        try:
            http_response = self.http.send(http_request, auth=self.auth or httpx2.USE_CLIENT_DEFAULT)
        except httpx2.TransportError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", operation_id=operation.id) from exc
        return self._finish(operation, http_response, parse)

    async def asend(
        self, operation: Operation, request: Mapping[str, Any], parse: Parser[T] | None
    ) -> Response[T]:
        http = self.async_http
        http_request = self._build(http, operation, request)
        try:
            http_response = await http.send(http_request, auth=self.auth or httpx2.USE_CLIENT_DEFAULT)
        except httpx2.TransportError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", operation_id=operation.id) from exc
        return self._finish(operation, http_response, parse)

    @staticmethod
    def _build(
        http: httpx2.Client | httpx2.AsyncClient, operation: Operation, request: Mapping[str, Any]
    ) -> httpx2.Request:
        return http.build_request(
            operation.method,
            request["url"],
            params=request.get("params"),
            json=request.get("json"),
            extensions={OPERATION_EXTENSION: operation},
        )

    @staticmethod
    def _finish(operation: Operation, response: httpx2.Response, parse: Parser[T] | None) -> Response[T]:
        status = response.status_code
        if not 200 <= status < 300:
            raise response_error(operation, response)
        content = response.content
        parsed: Any = None
        if parse is not None and content:
            parsed = parse_body(operation, parse, decode_json(operation, content))
        return Response(status_code=status, headers=response.headers, parsed=parsed)


def response_error(operation: Operation, response: httpx2.Response) -> ESIResponseError:
    """The typed exception for an error response, with ESI's own error text when it sent one."""
    text = response.text[:500]
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            text = body["error"]
    except ValueError:
        pass
    retry_after = response.headers.get("retry-after")
    return error_for_status(response.status_code)(
        operation_id=operation.id,
        status=response.status_code,
        error=text or response.reason_phrase,
        request_id=response.headers.get("x-request-id"),
        retry_after=float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None,
    )
