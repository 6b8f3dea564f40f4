"""/_fake/…: read counters and set faults over HTTP, for a fake ESI in another process."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from esi_fake._sso import ROTATION_MODES, Character, SSOState
from esi_fake._state import FakeState, ForcedReply

SETTINGS = ("market_pages", "market_page_size", "page_count", "page_size")


def apply_faults(state: FakeState, settings: dict[str, Any]) -> None:
    faults = state.faults
    for key, value in settings.items():
        if key == "change_data":  # a new generation of the data now
            if value:
                state.change_data()
        elif key == "forced":
            faults.forced = [ForcedReply(**item) for item in value]
        elif key in ("delay_operations", "malformed_operations"):
            setattr(faults, key, frozenset(value) if value is not None else None)
        elif key == "server_error_statuses":
            faults.server_error_statuses = tuple(value)
        elif key in SETTINGS:
            setattr(state, key, int(value))
        elif key == "rate_limit_overrides":
            state.rate_limits.overrides.update({str(k): int(v) for k, v in value.items()})
        elif key == "rate_window_overrides":
            state.rate_limits.window_overrides.update({str(k): float(v) for k, v in value.items()})
        elif key == "rate_window_scale":
            state.rate_limits.window_scale = float(value)
        elif hasattr(faults, key):
            setattr(faults, key, value)
        else:
            raise KeyError(key)


SSO_KNOBS = (
    "fail_refresh",
    "fail_refresh_for",
    "token_delay_s",
    "jwks_fail",
    "jwks_delay_s",
    "access_token_seconds",
    "auto_approve",
    "lose_refresh_answers",
    "refresh_answer_delay_s",
    "refresh_replay_seconds",
    "code_seconds",
    "signing_algorithm",
)


def apply_sso(sso: SSOState, settings: dict[str, Any]) -> None:
    """Register apps and set the fake SSO's test knobs (what tests set on SSOState in-process)."""
    for key, value in settings.items():
        if key == "apps":
            for client_id, app in value.items():
                sso.apps[str(client_id)] = app.get("secret")
                if app.get("callback"):
                    sso.callbacks[str(client_id)] = str(app["callback"])
        elif key == "rotate_keys":
            if value:
                sso.rotate_keys()
        elif key == "character":  # who logs in next; a new owner hash is an owner change
            sso.character = Character(int(value["character_id"]), str(value["name"]), str(value["owner"]))
        elif key == "refresh_rotation":
            if value not in ROTATION_MODES:
                modes = ", ".join(ROTATION_MODES)
                raise ValueError(f"refresh_rotation must be one of {modes}, not {value!r}")
            sso.refresh_rotation = value
        elif key in SSO_KNOBS:
            setattr(sso, key, value)
        else:
            raise KeyError(key)


def mint_token(sso: SSOState, settings: dict[str, Any]) -> dict[str, Any]:
    """A token answer for the character who logs in next, as if it had logged in through the
    SSO (a grant that refreshes and rotates like any other): {"client_id": ..., "scopes":
    [...] or "all"}. An unknown client id is registered as a PKCE app."""
    client_id = str(settings.get("client_id", "esi-fake-tests"))
    wanted = settings.get("scopes", [])
    known = sso.known_scopes
    if wanted == "all":
        scopes = tuple(sorted(known or ()))
    elif isinstance(wanted, list) and all(isinstance(scope, str) for scope in wanted):
        scopes = tuple(wanted)
    else:
        raise ValueError('scopes: a list of scope names, or "all"')
    unknown = [scope for scope in scopes if known is not None and scope not in known]
    if unknown:
        raise ValueError(f"unknown scope(s): {' '.join(unknown)}")
    with sso._lock:
        sso.apps.setdefault(client_id, None)
        answer = sso.grant(client_id, sso.character, scopes, secrets.token_hex(8))
    return {**answer, "character_id": sso.character.character_id}


def control_routes(state: FakeState, sso: SSOState | None = None) -> list[Route]:
    async def stats(request: Request) -> Response:
        remain, reset = state.error_limit.snapshot()
        sso_counts = {}
        if sso is not None:
            sso_counts = {
                "sso_refreshes": sum(sso.refreshes.values()),
                "sso_revoked": sso.revoked,
                "sso_replays": sso.replays,
                "sso_jwks_requests": sso.jwks_requests,
                # characters whose newest refreshed access token no call has used (yet): at the
                # end of a run, a refresh done just before the callers stopped
                "sso_refreshes_unused_last": sum(
                    jti not in state.stats.refreshed_tokens.get(character, ())
                    for character, jti in list(sso.last_refreshed.items())
                ),
            }
        data: dict[str, Any] = {
            "requests": state.stats.requests,
            "not_modified": state.stats.not_modified,
            "by_status": {str(k): v for k, v in state.stats.by_status.items()},
            "by_operation": dict(state.stats.by_operation),
            "duplicates": state.stats.duplicates,
            "duplicates_by_operation": dict(state.stats.duplicates_by_operation),
            "duplicates_by_reason": dict(state.stats.duplicates_by_reason),
            "duplicate_samples": state.stats.duplicate_samples,
            "access_tokens_used": {k: len(v) for k, v in state.stats.access_tokens.items()},
            "refreshed_tokens_used": {k: len(v) for k, v in state.stats.refreshed_tokens.items()},
            "rate_tokens_spent": state.rate_limits.spent_by_group(),
            "rate_groups": state.rate_limits.runs(),
            **sso_counts,
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

    async def sso_settings(request: Request) -> Response:
        if sso is None:
            return JSONResponse({"error": "this fake has no SSO"}, 404)
        try:
            apply_sso(sso, await request.json())
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return JSONResponse({"error": f"unknown or bad setting: {exc}"}, 400)
        return JSONResponse({"ok": True})

    async def token(request: Request) -> Response:
        if sso is None:
            return JSONResponse({"error": "this fake has no SSO"}, 404)
        try:
            answer = mint_token(sso, await request.json())
        except (TypeError, ValueError, AttributeError) as exc:
            return JSONResponse({"error": f"bad token request: {exc}"}, 400)
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    return [
        Route("/_fake/sso", sso_settings, methods=["POST"]),
        Route("/_fake/token", token, methods=["POST"]),
        Route("/_fake/stats", stats, methods=["GET"]),
        Route("/_fake/reset", reset, methods=["POST"]),
        Route("/_fake/faults", faults, methods=["POST"]),
    ]
