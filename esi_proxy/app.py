"""The proxy's ASGI app. ESI's routes are served straight from the ASGI scope (no framework on
the hot path: a cache hit should cost little more than the bytes); /healthz, /metrics and the
pages under /_proxy/ (ESI has a /status of its own) are a small Starlette app beside them."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from email.utils import formatdate
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from esi_client import ESIClient
from esi_client._operation import Operation
from esi_client.client.settings import negotiated_language
from esi_proxy.answer import Answer
from esi_proxy.forward import Caller, client_for, forward
from esi_proxy.hot import HotReplies, key_of
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
OWN_PATHS = ("/healthz", "/metrics")
Reply = tuple[int, list[tuple[bytes, bytes]], bytes]


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
        self.hot = HotReplies()

    async def handle(self, scope: Scope, receive: Receive) -> Reply:
        headers = _headers(scope)
        if self.keys is not None and not self.keys.accepts(headers.get(KEY_HEADER)):
            return _error_reply(401, f"this proxy needs an API key in {KEY_HEADER}")
        key = key_of(scope)
        hot = self.hot.get(key) if key is not None else None
        if hot is not None:
            self.metrics.count(hot.operation, 200, "hit", 0.0)
            self.metrics.replayed += 1
            if hot.etag and _asked_for(hot.etag, headers.get("if-none-match")):
                return 304, [header for header in hot.headers if header[0] != b"content-length"], b""
            return 200, hot.headers, hot.body
        reply, kept = await self._answer(scope, receive, headers)
        if key is not None and kept is not None:
            self.hot.keep(key, kept[0], kept[1].headers, reply[1], reply[2], kept[1].fresh_for)
        return reply

    async def _answer(
        self, scope: Scope, receive: Receive, headers: dict[str, str]
    ) -> tuple[Reply, tuple[Operation, Answer] | None]:
        """The reply, and what the hot replies may keep of it (a whole 200, not merged pages)."""
        operation: Operation | None = None
        try:
            if sum(len(name) + len(value) for name, value in scope["headers"]) > MAX_HEADER_BYTES:
                raise Refused(431, f"the request's headers are over {MAX_HEADER_BYTES} bytes")
            match = self.routes.match(scope["method"], scope["path"])
            operation = match.operation
            body = await _bounded_body(headers, receive)
            query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            call = read_call(operation, match.path_params, query, body)
            caller = _caller(headers, call.legacy)
            answer = await forward(client_for(self.client, operation, caller), operation, call)
        except NoRoute as missing:
            status = 405 if missing.allowed else 404
            self.metrics.count(None, status, "refused", 0.0, str(missing))
            return _error_reply(status, str(missing), closest=missing.closest), None
        except Refused as refused:
            self.metrics.count(operation, refused.status, "refused", 0.0, refused.message)
            return _error_reply(refused.status, refused.message), None
        self.metrics.count(operation, answer.status, answer.cache, answer.waited, _error_text(answer))
        reply = _reply(answer, headers.get("if-none-match"))
        keep = answer.status == 200 and not call.all_pages and not operation.scopes
        return reply, ((operation, answer) if keep else None)

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def prometheus(self, request: Request) -> Response:
        return PlainTextResponse(self.metrics.render(self.client), media_type="text/plain; version=0.0.4")

    async def status_page(self, request: Request) -> Response:
        from anyio import to_thread
        from starlette.responses import HTMLResponse

        characters = await to_thread.run_sync(self.characters)  # a store query: off the loop
        page = status_html(self.client, self.metrics, characters)
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})


class ProxyApp:
    """ESI's routes from the scope; the proxy's own paths and the lifespan to Starlette."""

    def __init__(self, proxy: Proxy, own: Starlette) -> None:
        self.proxy = proxy
        self.own = own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in OWN_PATHS or path.startswith("/_proxy/"):
            await self.own(scope, receive, send)
            return
        status, headers, body = await self.proxy.handle(scope, receive)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""})


def build_app(proxy: Proxy, pages: ASGIApp | None = None) -> ProxyApp:
    """The proxy's app; `pages` is what /_proxy/ serves (the status page, and the login when an
    SSO app is configured: esi_proxy.login)."""
    if pages is None:
        from esi_proxy.login import pages_app

        pages = pages_app(None, secrets.token_urlsafe(32), proxy.status_page, ())
    routes = [
        Route("/healthz", proxy.healthz, methods=["GET"]),
        Route("/metrics", _guarded(proxy, proxy.prometheus), methods=["GET"]),
        Mount("/_proxy", app=KeyGuard(pages, proxy.keys)),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await proxy.client.aclose()  # the pools' connections, each process's own

    return ProxyApp(proxy, Starlette(routes=routes, lifespan=lifespan))


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


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (a repeated one joined with commas)."""
    found: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")  # ASGI's names are lower-case
        found[name] = f"{found[name]}, {value}" if name in found else value
    return found


async def _bounded_body(headers: dict[str, str], receive: Receive) -> bytes:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refused(413, f"the request body is over {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(413, f"the request body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _caller(headers: dict[str, str], legacy: dict[str, str]) -> Caller:
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
        language=negotiated_language(headers.get("accept-language") or legacy.get("language")),
        tenant=headers.get("x-tenant"),
        compatibility_date=headers.get("x-compatibility-date"),
    )


def _reply(answer: Answer, if_none_match: str | None) -> Reply:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers.items()]
    headers.append((b"x-esi-proxy-cache", answer.cache.encode()))
    if answer.waited:
        headers.append((b"x-esi-proxy-waited", f"{answer.waited:.3f}".encode()))
    etag = answer.headers.get("etag")
    if (
        answer.status == 200
        and etag
        and if_none_match
        and etag in {t.strip() for t in if_none_match.split(",")}
    ):
        return 304, headers, b""
    if "content-type" not in answer.headers:
        headers.append((b"content-type", b"application/json; charset=utf-8"))
    headers.append((b"content-length", str(len(answer.body)).encode()))
    return answer.status, headers, answer.body


def _asked_for(etag: str, if_none_match: str | None) -> bool:
    return bool(if_none_match) and etag in {tag.strip() for tag in (if_none_match or "").split(",")}


def _error_text(answer: Answer) -> str:
    if answer.status < 400:
        return ""
    try:
        return str(orjson.loads(answer.body).get("error", ""))
    except (orjson.JSONDecodeError, AttributeError):
        return answer.body[:200].decode("utf-8", "replace")


def _error_reply(status: int, message: str, **extra: object) -> Reply:
    body = orjson.dumps({"error": message, **extra})
    headers = [
        (b"date", formatdate(usegmt=True).encode()),  # ESI's answers carry ESI's own Date
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-esi-proxy-cache", b"refused"),
    ]
    return status, headers, body


def _json_error(status: int, message: str) -> Response:
    _, headers, body = _error_reply(status, message)
    return Response(body, status_code=status, headers={k.decode(): v.decode() for k, v in headers})
