"""The fake EVE SSO's endpoints: authorize, token (code + PKCE or secret; refresh with
rotation and replay detection), revoke, JWKS and metadata, each answering as CCP's SSO does."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import secrets
from functools import partial
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from esi_fake._sso import ISSUER, SSOState, _Grant


def sso_routes(state: SSOState) -> list[Route]:
    return [
        Route("/v2/oauth/authorize", partial(authorize, state), methods=["GET"]),
        Route("/v2/oauth/authorize/", partial(authorize, state), methods=["GET"]),  # as CCP documents it
        Route("/v2/oauth/token", partial(token, state), methods=["POST"]),
        Route("/v2/oauth/revoke", partial(revoke, state), methods=["POST"]),
        Route("/oauth/jwks", partial(jwks, state), methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", partial(metadata, state), methods=["GET"]),
    ]


async def authorize(state: SSOState, request: Request) -> Response:
    query = request.query_params
    refused = _refused_authorization(state, query)
    if refused is not None:
        return refused
    client_id, redirect_uri = query["client_id"], query.get("redirect_uri", "")
    code = secrets.token_urlsafe(16)
    scopes = tuple(query.get("scope", "").split())
    challenge = query.get("code_challenge")
    state._codes[code] = (client_id, redirect_uri, scopes, challenge, state.character)
    state._code_times[code] = state.clock.now()
    answer = {"code": code, **({"state": query["state"]} if query.get("state") else {})}
    if state.auto_approve:
        return RedirectResponse(f"{redirect_uri}?{urlencode(answer)}", 302)
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in answer.items())
    return HTMLResponse(
        "<!doctype html><title>EVE SSO (fake)</title>"
        f"<p>Log in as <b>{html.escape(state.character.name)}</b> "
        f"with the scopes {html.escape(' '.join(scopes))}?</p>"
        f'<form method="get" action="{html.escape(redirect_uri)}">{hidden}'
        '<button id="approve" type="submit">Authorize</button></form>'
    )


def _refused_authorization(state: SSOState, query: QueryParams) -> Response | None:
    """Why an authorization request is refused, as CCP's SSO answers it; None when it is not."""
    client_id = query.get("client_id", "")
    if client_id not in state.apps or query.get("response_type") != "code":
        return _oauth_error("invalid_request", "Unknown client_id or response_type")
    registered = state.callbacks.get(client_id)
    if registered is not None and query.get("redirect_uri", "") != registered:
        # Never redirect to an address the app did not register (the code would leak).
        return _oauth_error("invalid_request", "redirect_uri does not match the application's callback")
    challenge = query.get("code_challenge")
    if state.apps[client_id] is None and not challenge:
        return _oauth_error("invalid_request", "A PKCE client must send code_challenge")
    if challenge and query.get("code_challenge_method") != "S256":
        return _oauth_error("invalid_request", "code_challenge_method must be S256 (plain is refused)")
    scopes = query.get("scope", "").split()
    unknown = [s for s in scopes if state.known_scopes is not None and s not in state.known_scopes]
    if unknown:
        return _oauth_error("invalid_scope", f"Unknown scope(s): {' '.join(unknown)}")
    return None


async def token(state: SSOState, request: Request) -> Response:
    if state.token_delay_s:
        await asyncio.sleep(state.token_delay_s)
    form = {k: str(v) for k, v in (await request.form()).items()}
    client = _client_credentials(request, form, state)
    if isinstance(client, Response):
        return client
    grant_type = form.get("grant_type")
    if grant_type == "refresh_token":
        with state._lock:
            answer = _refresh(state, client, form)
        if answer.status_code == 200 and not isinstance(answer, _DroppedAnswer):
            await asyncio.sleep(state.refresh_answer_delay_s)  # rotated; the answer is on its way
        return answer
    if grant_type == "authorization_code":
        with state._lock:
            return _exchange_code(state, client, form)
    return _oauth_error("unsupported_grant_type", f"grant_type {grant_type!r}")


def _exchange_code(state: SSOState, client: str, form: dict[str, str]) -> Response:
    """An authorization-code grant (called with the state's lock held): once, in time, for the
    redirect and PKCE verifier it was issued to."""
    presented_code = form.get("code", "")
    found = state._codes.pop(presented_code, None)
    issued = state._code_times.pop(presented_code, 0.0)
    if found is None or found[0] != client:
        return _oauth_error("invalid_grant", "Unknown or used authorization code")
    if state.clock.now() - issued > state.code_seconds:
        return _oauth_error("invalid_grant", "The authorization code has expired")
    _, authorized_redirect, scopes, challenge, character = found
    if "redirect_uri" in form and form["redirect_uri"] != authorized_redirect:
        return _oauth_error("invalid_grant", "redirect_uri differs from the one authorized")
    if challenge is not None:
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
            return _oauth_error("invalid_grant", "code_verifier does not match code_challenge")
    return _token_answer(state.grant(client, character, scopes, secrets.token_hex(8)))


async def revoke(state: SSOState, request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    client = _client_credentials(request, form, state)
    if isinstance(client, Response):
        return client
    grant = state._grants.get(form.get("token", ""))
    if grant is not None:
        for other in state._grants.values():
            if other.family == grant.family:
                other.active = False
    return Response(b"", 200)


async def jwks(state: SSOState, request: Request) -> Response:
    with state._lock:
        state.jwks_requests += 1
    if state.jwks_delay_s:
        await asyncio.sleep(state.jwks_delay_s)
    if state.jwks_fail:
        return JSONResponse({"error": "temporarily_unavailable"}, 503)
    keys = [
        *state.keys.as_dict(private=False)["keys"],
        *(k.as_dict(private=False) for k in state.other_keys),
    ]
    published = {"keys": keys, "SkipUnresolvedJsonWebKeys": True}
    return JSONResponse(published, headers={"Cache-Control": "public, max-age=300"})


async def metadata(state: SSOState, request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "issuer": ISSUER,
            "authorization_endpoint": f"{base}/v2/oauth/authorize",
            "token_endpoint": f"{base}/v2/oauth/token",
            "revocation_endpoint": f"{base}/v2/oauth/revoke",
            "jwks_uri": f"{base}/oauth/jwks",
            "code_challenge_methods_supported": ["S256"],
        }
    )


def _replayable(state: SSOState, grant: _Grant) -> bool:
    if state.refresh_rotation != "take-back":
        return False
    successor = state._grants.get(grant.successor or "")
    if successor is None or not successor.active:
        return False  # the successor was used (or retired): this is a replay
    window = state.refresh_replay_seconds
    return window is None or state.clock.now() - grant.rotated_at <= window


def _refresh(state: SSOState, client: str, form: dict[str, str]) -> Response:
    """A refresh-token grant (called with the state's lock held)."""
    presented = form.get("refresh_token", "")
    failure = state.fail_refresh_for.get(presented, state.fail_refresh)
    if failure == "unavailable":
        return JSONResponse({"error": "temporarily_unavailable"}, 503)
    grant = state._grants.get(presented)
    if failure == "invalid_grant" or grant is None or grant.client_id != client:
        return _oauth_error("invalid_grant", "Invalid refresh token")
    if not grant.active and not _replayable(state, grant):
        family = [other for other in state._grants.values() if other.family == grant.family]
        state.revoked += any(other.active for other in family)  # a reuse revokes the family
        for other in family:
            other.active = False
        return _oauth_error("invalid_grant", "Refresh token reused; the grant is revoked")
    if not grant.active:
        state.replays += 1
        state._grants[grant.successor or ""].active = False
    state.refreshes[f"{client}:{grant.character_id}"] += 1
    character = grant.character
    if grant.character_id == state.character.character_id:
        character = state.character  # an owner change set on the fake shows here
    if state.refresh_rotation == "none":
        answer = state.grant(client, character, grant.scopes, grant.family, by_refresh=True)
        state._grants.pop(answer["refresh_token"])
        answer["refresh_token"] = presented
    else:
        grant.active = False
        answer = state.grant(client, character, grant.scopes, grant.family, by_refresh=True)
        grant.successor, grant.rotated_at = answer["refresh_token"], state.clock.now()
    if state.lose_refresh_answers > 0:
        state.lose_refresh_answers -= 1
        return _DroppedAnswer()  # answered (and rotated), and the client never hears of it
    return _token_answer(answer)


class _DroppedAnswer(Response):
    """An answer cut off mid-body: the connection closes with the client still waiting."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"1000")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"access_token": "', "more_body": True})
        raise ConnectionAbortedError("the fake SSO dropped this answer (lose_refresh_answers)")


def _token_answer(answer: dict[str, Any]) -> JSONResponse:
    """Tokens are never cached by anyone on the way (RFC 6749 §5.1)."""
    return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status)


def _client_credentials(request: Request, form: dict[str, str], state: SSOState) -> str | Response:
    """The client id, authenticated by HTTP Basic (web apps) or named in the form (PKCE apps)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return _oauth_error("invalid_request", "The Authorization header is not Basic base64(id:secret)")
        client_id, colon, secret = decoded.partition(":")
        if not colon or not client_id:
            return _oauth_error("invalid_request", "The Authorization header is not Basic base64(id:secret)")
        if client_id not in state.apps or state.apps[client_id] != secret:
            return _oauth_error("invalid_client", "Unknown client or wrong secret", 401)
        return client_id
    client_id = form.get("client_id", "")
    if client_id not in state.apps:
        return _oauth_error("invalid_client", "Unknown client", 401)
    if state.apps[client_id] is not None:
        return _oauth_error("invalid_client", "This client must authenticate with its secret", 401)
    return client_id
