"""The fake EVE SSO: authorize, token (code + PKCE or secret; refresh with rotation and replay
detection), revoke, JWKS and metadata, issuing real RS256 (or, when asked, ES256) JWTs with
CCP's claim shapes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import secrets
import threading
import uuid
from collections import Counter
from dataclasses import MISSING, dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwk, jwt
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from esi_client.clock import Clock, SystemClock

ISSUER = "https://login.eveonline.com"
KEY_ID = "JWT-Signature-Key"


@dataclass
class Character:
    character_id: int
    name: str
    owner: str


@dataclass
class _Grant:
    client_id: str
    character_id: int
    character: Character  # who logged in: a refresh answers for them (their own owner)
    scopes: tuple[str, ...]
    family: str
    active: bool = True
    successor: str | None = None  # the refresh token this one was rotated into
    rotated_at: float = 0.0


@dataclass
class SSOState:
    """What a test sets and reads on the fake SSO."""

    clock: Clock = field(default_factory=SystemClock)
    apps: dict[str, str | None] = field(default_factory=dict)  # client id -> secret (None: PKCE app)
    callbacks: dict[str, str] = field(default_factory=dict)  # client id -> its registered callback URL
    code_seconds: float = 300.0  # authorization codes expire after this, as at EVE SSO
    character: Character = field(default_factory=lambda: Character(90000001, "Fake Pilot", "owner-hash-1"))
    auto_approve: bool = True
    access_token_seconds: int = 1199
    signing_algorithm: str = "RS256"  # or "ES256": CCP publishes a key for each
    # What EVE SSO does with a refresh token once used (CCP documents only "may differ: always
    # store the newest"): "none" answers the same token; "take-back" rotates, and takes a
    # rotated-away token back while its successor is unused (an answer the client never heard);
    # "strict" rotates and revokes the grant on any reuse of a rotated-away token.
    refresh_rotation: str = "take-back"
    fail_refresh: str | None = None  # "invalid_grant" or "unavailable", for every refresh
    fail_refresh_for: dict[str, str] = field(default_factory=dict)  # refresh token -> the same
    token_delay_s: float = 0.0  # the token endpoint answers this much later (real time)
    jwks_fail: bool = False  # the JWKS endpoint answers 503
    jwks_delay_s: float = 0.0  # the JWKS endpoint answers this much later (real time)
    jwks_requests: int = 0  # JWKS fetches received (counted on arrival, before any delay)
    revoked: int = 0  # grant families revoked because a rotated refresh token was reused
    # "take-back": for how long after the rotation; None: for as long as the successor is unused.
    refresh_replay_seconds: float | None = None
    replays: int = 0  # such lost answers recovered
    lose_refresh_answers: int = 0  # this many refreshes rotate the token, then drop the connection
    refresh_answer_delay_s: float = 0.0  # a refresh rotates, then answers this much later
    refreshes: Counter[str] = field(default_factory=Counter)  # by client id + character
    refreshed_jtis: set[str] = field(default_factory=set)  # access tokens a refresh issued
    last_refreshed: dict[str, str] = field(default_factory=dict)  # character -> newest such jti
    _codes: dict[str, tuple[str, str, tuple[str, ...], str | None, Character]] = field(default_factory=dict)
    _code_times: dict[str, float] = field(default_factory=dict)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.keys = jwk.KeySet([self.new_key()])
        self._signing_key = self.keys
        # CCP also publishes an ES256 key; tokens are signed by it when signing_algorithm says so.
        self.other_keys: list[jwk.ECKey] = [
            jwk.ECKey.generate_key(
                "P-256", parameters={"kid": "JWT-Signature-Key-ES256", "use": "sig", "alg": "ES256"}
            )
        ]
        self.known_scopes: frozenset[str] | None = None  # from the spec; None: any scope

    def reset(self) -> None:
        """Back to a fresh SSO (the signing key is kept: making one takes a while)."""
        with self._lock:
            for name, spec in self.__dataclass_fields__.items():
                if name not in ("clock", "_lock") and spec.default_factory is not MISSING:
                    setattr(self, name, spec.default_factory())
                elif name not in ("clock", "_lock"):
                    setattr(self, name, spec.default)
            self.keys = self._signing_key

    @staticmethod
    def new_key(kid: str = KEY_ID) -> jwk.RSAKey:
        return jwk.RSAKey.generate_key(
            2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True
        )

    def rotate_keys(self, *, grace: bool = True) -> None:
        """A new signing key with a new kid (CCP rotating its key). The old key stays published
        and accepted for a grace period (until `retire_old_keys`), as CCP does: tokens already
        handed out keep working; `grace=False` drops it at once."""
        old = list(self.keys.keys)[:1] if grace else []
        self.keys = jwk.KeySet([self.new_key(f"{KEY_ID}-{secrets.token_hex(4)}"), *old])

    def retire_old_keys(self) -> None:
        self.keys = jwk.KeySet(list(self.keys.keys)[:1])

    def issue_access_token(
        self, client_id: str, character: Character, scopes: tuple[str, ...], *, by_refresh: bool = False
    ) -> str:
        now = int(self.clock.now())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": [client_id, "EVE Online"],
            "sub": f"CHARACTER:EVE:{character.character_id}",
            "name": character.name,
            "owner": character.owner,
            "azp": client_id,
            "exp": now + self.access_token_seconds,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "tenant": "tranquility",
            "tier": "live",
            "region": "world",
        }
        if scopes:
            claims["scp"] = scopes[0] if len(scopes) == 1 else list(scopes)
        key = self.signing_key()
        claims["kid"] = key.kid
        if by_refresh:
            self.refreshed_jtis.add(claims["jti"])
            self.last_refreshed[str(character.character_id)] = claims["jti"]
        header = {"alg": self.signing_algorithm, "kid": key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, key, algorithms=[self.signing_algorithm])

    def signing_key(self) -> jwk.RSAKey | jwk.ECKey:
        if self.signing_algorithm == "RS256":
            key = self.keys.keys[0]
            assert isinstance(key, jwk.RSAKey)
            return key
        for other in self.other_keys:
            if other.alg == self.signing_algorithm:
                return other
        raise ValueError(f"the fake SSO has no {self.signing_algorithm} key (RS256 or ES256)")

    def published_keys(self) -> jwk.KeySet:
        """Every key the JWKS publishes: the RS256 ones (rotated) and the ES256 one."""
        return jwk.KeySet([*self.keys.keys, *self.other_keys])

    def grant(
        self,
        client_id: str,
        character: Character,
        scopes: tuple[str, ...],
        family: str,
        *,
        by_refresh: bool = False,
    ) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "access_token": self.issue_access_token(client_id, character, scopes, by_refresh=by_refresh),
            "token_type": "Bearer",
            "expires_in": self.access_token_seconds,
        }
        if scopes:  # as EVE SSO: a login for identity alone gets no refresh token
            refresh_token = answer["refresh_token"] = secrets.token_urlsafe(24)
            self._grants[refresh_token] = _Grant(client_id, character.character_id, character, scopes, family)
        return answer


ROTATION_MODES = ("none", "take-back", "strict")


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


def sso_routes(state: SSOState) -> list[Route]:
    async def authorize(request: Request) -> Response:
        query = request.query_params
        client_id = query.get("client_id", "")
        if client_id not in state.apps or query.get("response_type") != "code":
            return _oauth_error("invalid_request", "Unknown client_id or response_type")
        redirect_uri = query.get("redirect_uri", "")
        registered = state.callbacks.get(client_id)
        if registered is not None and redirect_uri != registered:
            # Never redirect to an address the app did not register (the code would leak).
            return _oauth_error("invalid_request", "redirect_uri does not match the application's callback")
        code = secrets.token_urlsafe(16)
        scopes = tuple(query.get("scope", "").split())
        challenge = query.get("code_challenge")
        if state.apps[client_id] is None and not challenge:
            return _oauth_error("invalid_request", "A PKCE client must send code_challenge")
        if challenge and query.get("code_challenge_method") != "S256":
            return _oauth_error("invalid_request", "code_challenge_method must be S256 (plain is refused)")
        unknown = [s for s in scopes if state.known_scopes is not None and s not in state.known_scopes]
        if unknown:
            return _oauth_error("invalid_scope", f"Unknown scope(s): {' '.join(unknown)}")
        state._codes[code] = (client_id, redirect_uri, scopes, challenge, state.character)
        state._code_times[code] = state.clock.now()
        answer = {"code": code, **({"state": query["state"]} if query.get("state") else {})}
        if state.auto_approve:
            return RedirectResponse(f"{redirect_uri}?{urlencode(answer)}", 302)
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in answer.items()
        )
        return HTMLResponse(
            "<!doctype html><title>EVE SSO (fake)</title>"
            f"<p>Log in as <b>{html.escape(state.character.name)}</b> "
            f"with the scopes {html.escape(' '.join(scopes))}?</p>"
            f'<form method="get" action="{html.escape(redirect_uri)}">{hidden}'
            '<button id="approve" type="submit">Authorize</button></form>'
        )

    async def token(request: Request) -> Response:
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
        with state._lock:
            if grant_type == "authorization_code":
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
        return _oauth_error("unsupported_grant_type", f"grant_type {grant_type!r}")

    async def revoke(request: Request) -> Response:
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

    async def jwks(request: Request) -> Response:
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

    async def metadata(request: Request) -> Response:
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

    return [
        Route("/v2/oauth/authorize", authorize, methods=["GET"]),
        Route("/v2/oauth/authorize/", authorize, methods=["GET"]),  # as CCP documents it
        Route("/v2/oauth/token", token, methods=["POST"]),
        Route("/v2/oauth/revoke", revoke, methods=["POST"]),
        Route("/oauth/jwks", jwks, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
    ]


def verify_bearer(state: SSOState, header: str) -> dict[str, Any] | str:
    """The claims of a valid bearer access token, or the reason it is refused."""
    if not header.lower().startswith("bearer "):
        return "Authentication required"
    try:
        token = jwt.decode(header[7:], state.published_keys(), algorithms=["RS256", "ES256"])
    except Exception as exc:  # joserfc raises several types; all mean "not a token we issued"
        return f"invalid token: {type(exc).__name__}"
    claims = dict(token.claims)
    if int(claims.get("exp", 0)) <= int(state.clock.now()):
        return "token is expired"
    return claims
