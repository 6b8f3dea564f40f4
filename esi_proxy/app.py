"""The proxy's ASGI app: ESI's routes through the runtime, plus /healthz, /metrics and a status
page at /_proxy/ (ESI has a /status of its own)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from esi_client import ESIClient
from esi_client._operation import Operation
from esi_proxy.answer import Answer
from esi_proxy.forward import Caller, client_for, forward
from esi_proxy.inbound import MAX_BODY_BYTES, Refused, read_call
from esi_proxy.keys import KeyRing
from esi_proxy.metrics import ProxyMetrics
from esi_proxy.routes import NoRoute, RouteTable
from esi_proxy.status_page import status_html

if TYPE_CHECKING:
    from esi_auth import SSOApp

logger = logging.getLogger("esi_proxy")
KEY_HEADER = "x-esi-proxy-key"
MAX_HEADER_BYTES = 16 * 1024


class Proxy:
    """One proxy process: the shared client (cache, coalescing, limits, tokens), the routes
    and the counters."""

    def __init__(self, client: ESIClient, routes: RouteTable, keys: KeyRing | None = None) -> None:
        self.client = client
        self.routes = routes
        self.keys = keys
        self.metrics = ProxyMetrics()
        self.characters: Callable[[], list[str]] = list  # the store's characters, when it has some
        self.sso_app: SSOApp | None = None  # esi_auth over the token store, when configured

    async def handle(self, request: Request) -> Response:
        if self.keys is not None and not self.keys.accepts(request.headers.get(KEY_HEADER)):
            return _json_error(401, f"this proxy needs an API key in {KEY_HEADER}")
        operation: Operation | None = None
        try:
            if sum(len(name) + len(value) for name, value in request.headers.raw) > MAX_HEADER_BYTES:
                raise Refused(431, f"the request's headers are over {MAX_HEADER_BYTES} bytes")
            match = self.routes.match(request.method, request.url.path)
            operation = match.operation
            body = await _bounded_body(request)
            call = read_call(operation, match.path_params, request.query_params.multi_items(), body)
            caller = _caller(request, call.legacy)
            answer = await forward(client_for(self.client, operation, caller), operation, call)
        except NoRoute as missing:
            status = 405 if missing.allowed else 404
            self.metrics.count(None, status, "refused", 0.0, str(missing))
            return _json_error(status, str(missing), closest=missing.closest)
        except Refused as refused:
            self.metrics.count(operation, refused.status, "refused", 0.0, refused.message)
            return _json_error(refused.status, refused.message)
        self.metrics.count(operation, answer.status, answer.cache, answer.waited, _error_text(answer))
        return _response(answer, request.headers.get("if-none-match"))

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def prometheus(self, request: Request) -> Response:
        return PlainTextResponse(self.metrics.render(self.client), media_type="text/plain; version=0.0.4")

    async def status_page(self, request: Request) -> Response:
        from anyio import to_thread

        characters = await to_thread.run_sync(self.characters)  # a store query: off the loop
        page = status_html(self.client, self.metrics, characters)
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})


def build_app(proxy: Proxy, pages: ASGIApp | None = None) -> Starlette:
    """The proxy's routes; `pages` is what /_proxy/ serves (the status page, and the login when
    an SSO app is configured: esi_proxy.login)."""
    if pages is None:
        from esi_proxy.login import pages_app

        pages = pages_app(None, secrets.token_urlsafe(32), proxy.status_page, ())
    methods = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]
    routes = [
        Route("/healthz", proxy.healthz, methods=["GET"]),
        Route("/metrics", _guarded(proxy, proxy.prometheus), methods=["GET"]),
        Mount("/_proxy", app=KeyGuard(pages, proxy.keys)),
        Route("/{path:path}", proxy.handle, methods=methods),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await proxy.client.aclose()  # the pools' connections, each process's own

    return Starlette(routes=routes, lifespan=lifespan)


View = Callable[[Request], Awaitable[Response]]


def _guarded(proxy: Proxy, view: View) -> View:
    async def guarded(request: Request) -> Response:
        if proxy.keys is not None and not proxy.keys.accepts(request.headers.get(KEY_HEADER)):
            return _json_error(401, f"this proxy needs an API key in {KEY_HEADER}")
        return await view(request)

    return guarded


class KeyGuard:
    """The API key in front of the proxy's own pages: in the header, or (a browser cannot set
    one) as `?key=` on the page's address."""

    def __init__(self, app: ASGIApp, keys: KeyRing | None) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.keys is not None:
            request = Request(scope)
            key = request.headers.get(KEY_HEADER) or request.query_params.get("key")
            if not self.keys.accepts(key):
                await _json_error(401, f"this proxy needs an API key in {KEY_HEADER}")(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refused(413, f"the request body is over {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(413, f"the request body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _caller(request: Request, legacy: dict[str, str]) -> Caller:
    headers = request.headers
    character = headers.get("x-esi-character")
    if character is not None and not character.isdigit():
        raise Refused(400, f"X-Esi-Character must be a character id, not {character!r}")
    authorization = headers.get("authorization", "")
    scheme, _, bearer = authorization.partition(" ")
    if authorization and scheme.lower() != "bearer":
        raise Refused(400, "Authorization must be a Bearer token")
    return Caller(
        character=int(character) if character is not None else None,
        bearer=bearer.strip() or legacy.get("token") or None,
        language=headers.get("accept-language") or legacy.get("language"),
        tenant=headers.get("x-tenant"),
        compatibility_date=headers.get("x-compatibility-date"),
    )


def _response(answer: Answer, if_none_match: str | None) -> Response:
    headers = dict(answer.headers)
    headers["x-esi-proxy-cache"] = answer.cache
    if answer.waited:
        headers["x-esi-proxy-waited"] = f"{answer.waited:.3f}"
    etag = headers.get("etag")
    asked = {tag.strip() for tag in if_none_match.split(",")} if if_none_match else set()
    if answer.status == 200 and etag and etag in asked:
        return Response(status_code=304, headers=headers)
    headers.setdefault("content-type", "application/json; charset=utf-8")
    return Response(answer.body, status_code=answer.status, headers=headers)


def _error_text(answer: Answer) -> str:
    if answer.status < 400:
        return ""
    try:
        return str(orjson.loads(answer.body).get("error", ""))
    except (orjson.JSONDecodeError, AttributeError):
        return answer.body[:200].decode("utf-8", "replace")


def _json_error(status: int, message: str, **extra: object) -> Response:
    return Response(
        orjson.dumps({"error": message, **extra}),
        status_code=status,
        media_type="application/json",
        headers={"x-esi-proxy-cache": "refused"},
    )
