"""What ESI serves about itself outside its spec: its OpenAPI document (naming the fake as its
server; the compatibility dates are a spec operation, served with the others); and ESI-shaped
answers for routes and input the fake does not know."""

from __future__ import annotations

import copy
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from esi_fake._state import FakeState


def meta_routes(spec: dict[str, Any]) -> list[Route]:
    date = str(spec.get("info", {}).get("version", ""))

    async def openapi(request: Request) -> Response:
        wanted = request.query_params.get("compatibility_date") or request.headers.get("x-compatibility-date")
        if wanted and wanted > date:
            return esi_error(400, f"compatibility date {wanted} is after the newest one ({date})")
        served = copy.copy(spec)
        served["servers"] = [{"url": str(request.base_url).rstrip("/")}]
        return Response(orjson.dumps(served), 200, {"X-Compatibility-Date": date}, "application/json")

    return [
        Route("/meta/openapi.json", openapi, methods=["GET"]),
    ]


def esi_error(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps({"error": text, "status": status}), status, headers, "application/json")


def counted_error(
    state: FakeState, status: int, text: str, headers: dict[str, str] | None = None
) -> Response:
    """An error of the fake's own (unknown route, bad input), counted in the error limit and
    carrying ESI's headers, as ESI's are."""
    state.record("(unrouted)", status)
    remain, reset = state.error_limit.snapshot()
    limits = {"X-ESI-Error-Limit-Remain": str(remain), "X-ESI-Error-Limit-Reset": str(reset)}
    return esi_error(status, text, {**(headers or {}), **limits})


def _methods_of_path(request: Request) -> set[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return methods


def error_handlers(state: FakeState) -> dict[Any, Any]:
    async def not_found(request: Request, exc: Exception) -> Response:
        return counted_error(state, 404, "Not found")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        allow = ", ".join(sorted(_methods_of_path(request)))  # every operation of the path
        return counted_error(state, 405, "Method not allowed", {"Allow": allow} if allow else None)

    async def failed(request: Request, exc: Exception) -> Response:
        return counted_error(state, 500, f"the fake ESI failed: {type(exc).__name__}")

    return {404: not_found, 405: not_allowed, 500: failed, Exception: failed}
