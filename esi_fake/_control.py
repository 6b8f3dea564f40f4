"""/_fake/…: read counters and set faults over HTTP, for a fake ESI in another process."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from esi_fake._state import FakeState, ForcedReply

SETTINGS = ("market_pages", "market_page_size", "page_count", "page_size")


def apply_faults(state: FakeState, settings: dict[str, Any]) -> None:
    faults = state.faults
    for key, value in settings.items():
        if key == "forced":
            faults.forced = [ForcedReply(**item) for item in value]
        elif key in ("delay_operations", "malformed_operations"):
            setattr(faults, key, frozenset(value) if value is not None else None)
        elif key == "server_error_statuses":
            faults.server_error_statuses = tuple(value)
        elif key in SETTINGS:
            setattr(state, key, int(value))
        elif key == "rate_limit_overrides":
            state.rate_limits.overrides.update({str(k): int(v) for k, v in value.items()})
        elif hasattr(faults, key):
            setattr(faults, key, value)
        else:
            raise KeyError(key)


def control_routes(state: FakeState) -> list[Route]:
    async def stats(request: Request) -> Response:
        remain, reset = state.error_limit.snapshot()
        data = {
            "requests": state.stats.requests,
            "not_modified": state.stats.not_modified,
            "by_status": {str(k): v for k, v in state.stats.by_status.items()},
            "by_operation": dict(state.stats.by_operation),
            "error_limit_remain": remain,
            "error_limit_reset": reset,
            "generation": state.generation,
        }
        return JSONResponse(data)

    async def reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"reset": True})

    async def faults(request: Request) -> Response:
        try:
            apply_faults(state, await request.json())
        except (KeyError, TypeError, ValueError) as exc:
            return JSONResponse({"error": f"unknown or bad setting: {exc}"}, 400)
        return JSONResponse({"ok": True})

    return [
        Route("/_fake/stats", stats, methods=["GET"]),
        Route("/_fake/reset", reset, methods=["POST"]),
        Route("/_fake/faults", faults, methods=["POST"]),
    ]
