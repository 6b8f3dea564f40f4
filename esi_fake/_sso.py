"""The fake EVE SSO: authorize, token (code + PKCE or secret; refresh with rotation and replay
detection), revoke, JWKS and metadata, issuing real RS256 (or, when asked, ES256) JWTs with
CCP's claim shapes."""

from __future__ import annotations

import secrets
import threading
import uuid
from collections import Counter
from dataclasses import MISSING, dataclass, field
from typing import Any

from joserfc import jwk, jwt

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
