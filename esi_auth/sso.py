"""Talking to EVE SSO: the authorize URL, code exchange, refresh and revoke (OAuth 2.0)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import httpx2
from attrs import field, frozen

from esi_auth.config import SSOConfig
from esi_auth.errors import InvalidGrantError, LoginError, SSOError
from esi_auth.jwt import JWKSCache, TokenClaims, validate_access_token
from esi_auth.pkce import challenge_for
from esi_auth.scopes import normalise_scopes
from esi_auth.secret import masked
from esi_auth.token import Token
from esi_client.clock import Clock, SystemClock


@frozen
class TokenAnswer:
    """EVE SSO's answer to a code or refresh grant, not yet validated. Its repr shows neither
    token; both are masked, so no log or traceback shows them either."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False, default=None)


@frozen
class Grant:
    """What SSO answered, the access token validated. Its repr shows neither token."""

    claims: TokenClaims
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)

    def to_token(self, now: float | None = None) -> Token:
        now = time.time() if now is None else now
        return Token(
            character_id=self.claims.character_id,
            character_name=self.claims.character_name,
            owner_hash=self.claims.owner_hash,
            scopes=self.claims.scopes,
            client_id=self.claims.client_id,
            access_token=self.access_token,
            refresh_token=self.refresh_token,
            expires_at=self.claims.expires_at,
            created_at=now,
            updated_at=now,
        )


class SSOClient:
    def __init__(
        self, config: SSOConfig, *, http: httpx2.Client | None = None, clock: Clock | None = None
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.http = http or httpx2.Client(timeout=20)
        self.jwks = JWKSCache(config.jwks_url, self.http, self.clock)

    def authorize_url(
        self, scopes: str | list[str] | tuple[str, ...], state: str, verifier: str | None
    ) -> str:
        params = {
            "response_type": "code",
            "redirect_uri": self.config.callback_url,
            "client_id": self.config.client_id,
            "scope": " ".join(normalise_scopes(scopes)),
            "state": state,
        }
        if not params["scope"]:  # a login for identity alone asks for none
            del params["scope"]
        if verifier is not None:
            params.update(code_challenge=challenge_for(verifier), code_challenge_method="S256")
        return f"{self.config.authorize_url}?{urlencode(params)}"

    def _post(self, url: str, form: dict[str, str]) -> httpx2.Response:
        if self.config.client_secret is None:
            form = {**form, "client_id": self.config.client_id}
        try:
            if self.config.client_secret is None:
                return self.http.post(url, data=form)
            basic = httpx2.BasicAuth(self.config.client_id, self.config.client_secret)
            return self.http.post(url, data=form, auth=basic)
        except httpx2.TimeoutException:
            raise SSOError(0, "timeout", f"no answer within {self.http.timeout.read} s") from None
        except httpx2.ConnectError:
            raise SSOError(0, "unreachable", f"could not connect to {url}") from None
        except httpx2.HTTPError as exc:
            raise SSOError(
                0, "no_answer", f"the connection failed before the answer ({type(exc).__name__})"
            ) from None

    def _answer(self, response: httpx2.Response) -> TokenAnswer:
        """SSO's token answer (access and refresh token), not yet validated."""
        if response.status_code != 200:
            raise _sso_error(response)
        try:
            data = _masked_answer(response.json())
        except ValueError:
            raise SSOError(response.status_code, "invalid_response", "EVE SSO's answer is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            raise SSOError(response.status_code, "invalid_response", "EVE SSO's answer has no access token")
        refresh = data.get("refresh_token")
        return TokenAnswer(
            masked(data["access_token"]), masked(refresh) if isinstance(refresh, str) else None
        )

    def validate(self, answer: TokenAnswer) -> Grant:
        """The Grant for an answer of SSO's, its access token validated against CCP's JWKS."""
        claims = validate_access_token(answer.access_token, self.config, self.jwks, now=self.clock.now())
        return Grant(claims, answer.access_token, answer.refresh_token)

    def _grant(self, response: httpx2.Response) -> Grant:
        return self.validate(self._answer(response))

    def refresh_answer(self, refresh_token: str) -> TokenAnswer:
        """SSO's answer to a refresh, unvalidated: persist its refresh token before validating."""
        return self._answer(
            self._post(self.config.token_url, {"grant_type": "refresh_token", "refresh_token": refresh_token})
        )

    def exchange_code(self, code: str, verifier: str | None) -> Grant:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.config.callback_url}
        if verifier is not None:
            form["code_verifier"] = verifier
        return self._grant(self._post(self.config.token_url, form))

    def refresh(self, refresh_token: str) -> Grant:
        """New tokens; the refresh token in the answer may differ (rotation): store it."""
        return self._grant(
            self._post(self.config.token_url, {"grant_type": "refresh_token", "refresh_token": refresh_token})
        )

    def check_authorize(self, url: str) -> None:
        """Ask for the authorize page once before a browser does: a refused client id, callback
        or scope fails the login at once with SSO's reason, instead of only in the browser."""
        from urllib.parse import parse_qs, urlsplit

        try:
            response = self.http.get(url, follow_redirects=False)
        except httpx2.HTTPError:
            return  # unreachable now: the browser will say so, and the login's deadline holds
        if response.status_code >= 400:
            refused = _sso_error(response)
            reason = refused.error + (f": {refused.description}" if refused.description else "")
            raise LoginError(
                f"EVE SSO refused the login (HTTP {response.status_code} {reason}); check the client id, "
                "the callback URL registered for it and the scopes"
            )
        if response.is_redirect:
            query = parse_qs(urlsplit(response.headers.get("location", "")).query)
            if "error" in query:
                description = (query.get("error_description") or [""])[0]
                raise LoginError(f"EVE SSO refused the login ({query['error'][0]}: {description})")

    def revoke(self, refresh_token: str) -> None:
        response = self._post(
            self.config.revoke_url, {"token": refresh_token, "token_type_hint": "refresh_token"}
        )
        if response.status_code >= 400:
            raise _sso_error(response)


def _sso_error(response: httpx2.Response) -> SSOError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = str(body.get("error", "error")) if isinstance(body, dict) else "error"
    description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
    kind = InvalidGrantError if error == "invalid_grant" else SSOError
    return kind(response.status_code, error, description)


def _masked_answer(data: object) -> object:
    """SSO's answer with its tokens masked from the first moment (a frame's locals are reported)."""
    if not isinstance(data, dict):
        return data
    return {
        key: masked(value) if key in ("access_token", "refresh_token") and isinstance(value, str) else value
        for key, value in data.items()
    }
