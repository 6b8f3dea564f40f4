"""Login -> store -> authenticated call, for PKCE and for a secret; refresh under it all."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from esi_auth.errors import InvalidGrantError, LoginError, NoTokenError, SSOError
from esi_auth.jwt import REFETCH_AFTER_SECONDS
from esi_client.api.wallet import get_characters_character_id_wallet, get_corporations_corporation_id_wallets
from tests.support.auth_support import (
    CORP_WALLET_SCOPE,
    WALLET_SCOPE,
    AuthSetup,
    keeps_the_newest,
    make_setup,
)
from tests.support.fixtures import ClientFactory, FakeESIServer, ManualClock
from tests.support.loop_probe import loop_ticks


@pytest.fixture
def pkce(fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path) -> AuthSetup:
    return make_setup(fake_esi, esi_clock, tmp_path)


@pytest.fixture
def web(fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path) -> AuthSetup:
    return make_setup(fake_esi, esi_clock, tmp_path, secret="s3cret-web-app")


@pytest.mark.parametrize("kind", ["pkce", "web"])
def test_login_store_and_call(kind: str, request: pytest.FixtureRequest, make_client: ClientFactory) -> None:
    setup: AuthSetup = request.getfixturevalue(kind)
    pending = setup.login.start([WALLET_SCOPE, "esi-skills.read_skills.v1"])
    query = parse_qs(urlsplit(pending.url).query)
    assert query["scope"] == [f"esi-skills.read_skills.v1 {WALLET_SCOPE}"]
    assert ("code_challenge" in query) is (kind == "pkce")
    callback = httpx2.get(pending.url, follow_redirects=False).headers["location"]
    token = setup.login.finish(callback)
    assert token.id is not None and token.character_id == setup.fake.sso.character.character_id
    assert setup.store.get(token.id) == token

    client = make_client(auth=setup.auth)
    balance = get_characters_character_id_wallet.sync(token.character_id, client=client)
    assert isinstance(balance, float)


def test_scopes_as_string_or_list(pkce: AuthSetup) -> None:
    assert (
        pkce.log_in(f"{WALLET_SCOPE} esi-skills.read_skills.v1").scopes
        == pkce.log_in(["esi-skills.read_skills.v1", WALLET_SCOPE]).scopes
    )


def test_pending_login_states_are_checked(pkce: AuthSetup, esi_clock: ManualClock) -> None:
    pending = pkce.login.start(WALLET_SCOPE)
    callback = httpx2.get(pending.url, follow_redirects=False).headers["location"]
    pkce.login.finish(callback)
    with pytest.raises(LoginError, match="unknown or already used"):
        pkce.login.finish(callback)
    with pytest.raises(LoginError, match="unknown or already used"):
        pkce.login.finish("http://localhost:8080/callback?code=abc&state=never-issued")
    old = pkce.login.start(WALLET_SCOPE)
    late = httpx2.get(old.url, follow_redirects=False).headers["location"]
    esi_clock.advance(301)
    with pytest.raises(LoginError, match="longer than 300 s"):
        pkce.login.finish(late)


def test_expired_token_is_refreshed_and_rotated(
    pkce: AuthSetup, make_client: ClientFactory, esi_clock: ManualClock, refresh_rotation: str
) -> None:
    pkce.fake.sso.refresh_rotation = refresh_rotation
    token = pkce.log_in()
    esi_clock.advance(1300)  # the 1199 s access token has expired
    client = make_client(auth=pkce.auth)
    get_characters_character_id_wallet.sync(token.character_id, client=client)
    stored = pkce.store.get(token.id or 0)
    assert stored is not None
    assert keeps_the_newest(refresh_rotation, token.refresh_token, stored.refresh_token)
    assert stored.expires_at > esi_clock.now()
    assert sum(pkce.fake.sso.refreshes.values()) == 1
    esi_clock.advance(1300)  # the kept refresh token is the one SSO still honours
    assert pkce.refresher.ensure_fresh(stored).expires_at > esi_clock.now()
    assert pkce.fake.sso.revoked == 0 and pkce.fake.sso.replays == 0


def test_401_refreshes_once_and_retries(
    pkce: AuthSetup, make_client: ClientFactory, refresh_rotation: str, esi_clock: ManualClock
) -> None:
    pkce.fake.sso.refresh_rotation = refresh_rotation
    token = pkce.log_in()
    pkce.fake.sso.rotate_keys(grace=False)  # ESI no longer accepts the old access token
    esi_clock.advance(REFETCH_AFTER_SECONDS)  # the JWKS may be fetched again
    client = make_client(auth=pkce.auth)
    assert isinstance(get_characters_character_id_wallet.sync(token.character_id, client=client), float)
    assert sum(pkce.fake.sso.refreshes.values()) == 1
    assert pkce.fake.state.stats.by_status[401] == 1
    assert pkce.fake.sso.revoked == 0
    # the retry is the runtime's own: counted, and each attempt held its own limit slots
    counted = client.stats.snapshot()
    assert (counted["requests"], counted["errors"], counted["retries"]) == (2, 1, 1)


async def test_401_retry_is_the_runtimes_own_async(
    pkce: AuthSetup, make_client: ClientFactory, esi_clock: ManualClock
) -> None:
    token = pkce.log_in()
    pkce.fake.sso.rotate_keys(grace=False)
    esi_clock.advance(REFETCH_AFTER_SECONDS)
    client = make_client(auth=pkce.auth)
    wallet = await get_characters_character_id_wallet.asyncio(token.character_id, client=client)
    assert isinstance(wallet, float) and sum(pkce.fake.sso.refreshes.values()) == 1
    counted = client.stats.snapshot()
    assert (counted["requests"], counted["errors"], counted["retries"]) == (2, 1, 1)
    await client.aclose()


def test_a_second_401_is_raised_not_retried_again(pkce: AuthSetup, make_client: ClientFactory) -> None:
    """One refresh per call: a token refused twice is ESI's answer (UnauthorizedError), named."""
    from esi_client import UnauthorizedError
    from esi_fake import ForcedReply

    token = pkce.log_in()
    pkce.fake.state.faults.forced = [ForcedReply(401, count=2, operation_id="GetCharactersCharacterIdWallet")]
    client = make_client(auth=pkce.auth)
    with pytest.raises(UnauthorizedError, match="GetCharactersCharacterIdWallet: HTTP 401"):
        get_characters_character_id_wallet.sync(token.character_id, client=client)
    assert sum(pkce.fake.sso.refreshes.values()) == 1 and pkce.fake.state.stats.by_status[401] == 2
    counted = client.stats.snapshot()
    assert (counted["requests"], counted["errors"], counted["retries"]) == (2, 2, 1)


def test_the_401_retry_is_bounded_by_the_calls_deadline(pkce: AuthSetup, make_client: ClientFactory) -> None:
    """The refresh after a 401 takes longer than the call has left (on the client's own clock,
    a real one here): the retry is never sent, and the deadline's error names the call."""
    from esi_client import DeadlineExceededError
    from esi_client.clock import SystemClock
    from esi_fake import ForcedReply

    token = pkce.log_in()
    pkce.fake.state.faults.forced = [ForcedReply(401, count=1, operation_id="GetCharactersCharacterIdWallet")]
    pkce.fake.sso.token_delay_s = 1.5  # SSO answers the refresh slowly
    client = make_client(auth=pkce.auth, clock=SystemClock()).with_deadline(1.0)
    with pytest.raises(DeadlineExceededError, match="GetCharactersCharacterIdWallet"):
        get_characters_character_id_wallet.sync(token.character_id, client=client)
    assert pkce.fake.state.stats.count("GetCharactersCharacterIdWallet") == 1  # the retry was not sent


def test_invalid_grant_deletes_and_503_keeps(pkce: AuthSetup, esi_clock: ManualClock) -> None:
    revoked: list[dict[str, Any]] = []
    pkce.events.subscribe("token_revoked", lambda **details: revoked.append(details))
    kept, dead = pkce.log_in(), pkce.log_in()
    esi_clock.advance(1300)
    pkce.fake.sso.fail_refresh = "unavailable"
    with pytest.raises(SSOError) as caught:
        pkce.refresher.ensure_fresh(kept)
    assert caught.value.transient and pkce.store.get(kept.id or 0) is not None
    pkce.fake.sso.fail_refresh = "invalid_grant"
    with pytest.raises(InvalidGrantError):
        pkce.refresher.ensure_fresh(dead)
    assert pkce.store.get(dead.id or 0) is None
    assert revoked == [{"character_id": dead.character_id, "token_id": dead.id}]


def test_owner_change_removes_old_tokens(pkce: AuthSetup) -> None:
    old = pkce.log_in()
    pkce.fake.sso.character.owner = "a-new-owner"
    new = pkce.log_in()
    remaining = pkce.store.query().filter(character_id=old.character_id).all()
    assert [t.id for t in remaining] == [new.id]


def test_owner_change_found_on_refresh(pkce: AuthSetup, esi_clock: ManualClock) -> None:
    token = pkce.log_in()
    pkce.fake.sso.character.owner = "sold-to-someone"
    esi_clock.advance(1300)
    with pytest.raises(InvalidGrantError, match="changed owner"):
        pkce.refresher.ensure_fresh(token)
    assert pkce.store.query().filter(character_id=token.character_id).count() == 0


def test_owner_change_on_refresh_keeps_the_new_owners_token(pkce: AuthSetup, esi_clock: ManualClock) -> None:
    """One rule for login and refresh: tokens of earlier owners go; the new owner's stays."""
    old = pkce.log_in()
    pkce.fake.sso.character.owner = "the-new-owner"
    new = pkce.log_in()  # the new owner logs in to this app too
    assert pkce.store.get(old.id or 0) is None  # login removed the old owner's token
    assert pkce.store.get(new.id or 0) is not None
    stale = old  # a process still holding the old owner's token refreshes it
    stale.id = None
    pkce.store.save(stale)
    esi_clock.advance(1300)
    with pytest.raises(InvalidGrantError, match="changed owner"):
        pkce.refresher.ensure_fresh(stale)
    remaining = pkce.store.query().filter(character_id=old.character_id).all()
    assert [t.id for t in remaining] == [new.id]


def test_subscribing_to_an_unknown_event_is_an_error(pkce: AuthSetup) -> None:
    with pytest.raises(ValueError, match="token_refreshed"):
        pkce.events.subscribe("token_refreshd", lambda **_details: None)  # type: ignore[arg-type]


def test_missing_token_names_character_and_scopes(pkce: AuthSetup, make_client: ClientFactory) -> None:
    client = make_client(auth=pkce.auth)
    with pytest.raises(
        NoTokenError,
        match=f"GetCharactersCharacterIdWallet: no stored token for character 123; log in with the scope "
        f"it needs: `esi login --scopes {WALLET_SCOPE}`",
    ):
        get_characters_character_id_wallet.sync(123, client=client)
    assert client.error_budget.in_flight == 0  # the failed call released its slot


def test_corporation_route_uses_the_named_character(pkce: AuthSetup, make_client: ClientFactory) -> None:
    token = pkce.log_in([CORP_WALLET_SCOPE])
    client = make_client(auth=pkce.auth)
    with pytest.raises(NoTokenError, match=r"client\.for_character\(character_id\)"):
        get_corporations_corporation_id_wallets.sync(98000001, client=client)
    wallets = get_corporations_corporation_id_wallets.sync(
        98000001, client=client.for_character(token.character_id)
    )
    assert isinstance(wallets, list)


async def test_async_call_and_app_facade(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path, make_client: ClientFactory
) -> None:
    from esi_auth import SQLTokenStore, SSOApp, SSOConfig

    fake_esi.sso.apps["facade-app"] = None
    app = SSOApp(
        SSOConfig(client_id="facade-app", login_url=fake_esi.url),
        SQLTokenStore(f"sqlite:///{tmp_path / 'facade.sqlite'}", secrets="plaintext"),
        clock=esi_clock,
    )
    pending = app.start_login(WALLET_SCOPE)
    token = app.finish_login(httpx2.get(pending.url, follow_redirects=False).headers["location"])
    assert [t.id for t in app.tokens()] == [token.id]
    esi_clock.advance(1300)
    client = make_client(auth=app.auth)
    assert isinstance(
        await get_characters_character_id_wallet.asyncio(token.character_id, client=client), float
    )
    await client.aclose()
    app.revoke(token)
    assert app.tokens().count() == 0
    with pytest.raises(InvalidGrantError):
        app.sso.refresh(token.refresh_token or "")


async def test_async_refresh_leaves_the_event_loop_free(
    pkce: AuthSetup, make_client: ClientFactory, esi_clock: ManualClock
) -> None:
    token = pkce.log_in()
    esi_clock.advance(1300)  # expired: the call refreshes first
    pkce.fake.sso.token_delay_s = 1.0  # a slow SSO
    client = make_client(auth=pkce.auth)
    try:
        async with loop_ticks() as ticks:
            balance = await get_characters_character_id_wallet.asyncio(token.character_id, client=client)
    finally:
        await client.aclose()
    assert isinstance(balance, float)
    assert sum(pkce.fake.sso.refreshes.values()) == 1
    # 1 s waiting on the SSO: ~100 ticks when the loop is free, none while a refresh blocks it
    assert ticks.count >= 20, ticks.count


def test_a_single_use_token_is_refreshed_in_memory_only(pkce: AuthSetup, esi_clock: ManualClock) -> None:
    pending = pkce.login.start(WALLET_SCOPE)
    callback = httpx2.get(pending.url, follow_redirects=False).headers["location"]
    token = pkce.login.complete(callback, store_token=False).token
    assert token.id is None and pkce.store.query().count() == 0
    first_refresh = token.refresh_token
    esi_clock.advance(1300)
    refreshed = pkce.refresher.ensure_fresh(token)
    assert refreshed.refresh_token not in (None, first_refresh)  # rotated: the newest kept
    assert refreshed.expires_at > esi_clock.now() + 1000
    again = pkce.refresher.refresh(refreshed, force=True)  # the newest one works
    assert again.refresh_token not in (None, first_refresh) and pkce.store.query().count() == 0

    refreshed.refresh_token = None
    with pytest.raises(InvalidGrantError) as caught:
        pkce.refresher.refresh(refreshed, force=True)
    assert (caught.value.status, caught.value.error) == (400, "invalid_grant")
    assert str(caught.value) == "the token cannot be refreshed: this single-use token has no refresh token"
    assert (caught.value.status, caught.value.error) == (400, "invalid_grant")


def _refreshes(setup: AuthSetup) -> int:
    return sum(setup.fake.sso.refreshes.values())


def test_a_refresh_is_announced_with_whose_token_it_was(pkce: AuthSetup, esi_clock: ManualClock) -> None:
    heard: list[dict[str, Any]] = []
    pkce.events.subscribe("token_refreshed", lambda **details: heard.append(details))
    token = pkce.log_in()
    esi_clock.advance(1300)
    pkce.refresher.ensure_fresh(token)
    assert heard == [{"character_id": token.character_id, "token_id": token.id}]


def test_a_refresh_not_needed_asks_sso_nothing(pkce: AuthSetup, esi_clock: ManualClock) -> None:
    """Unforced, a token good for more than the margin is handed back; forced (after a 401),
    a token another process has refreshed since this one was read is not refreshed again."""
    token = pkce.log_in()
    asked = _refreshes(pkce)
    assert pkce.refresher.ensure_fresh(token) is token
    assert pkce.refresher.refresh(token).access_token == token.access_token
    assert _refreshes(pkce) == asked
    stale = pkce.store.get(token.id or 0)
    assert stale is not None
    newer = pkce.refresher.refresh(token, force=True)  # another process's refresh
    assert _refreshes(pkce) == asked + 1 and newer.access_token != stale.access_token
    assert pkce.refresher.refresh(stale, force=True).access_token == newer.access_token
    assert _refreshes(pkce) == asked + 1


@pytest.mark.parametrize("why", ["deleted", "no refresh token", "new owner"])
def test_a_token_found_dead_here_says_so_not_as_sso(
    pkce: AuthSetup, esi_clock: ManualClock, why: str
) -> None:
    token = pkce.log_in()
    esi_clock.advance(1300)
    said = {
        "deleted": "the token was deleted",
        "no refresh token": "the token has no refresh token",
        "new owner": "the character changed owner; its tokens were removed",
    }[why]
    if why == "deleted":
        pkce.store.delete(token.id or 0)
    elif why == "no refresh token":
        token.refresh_token = None
        pkce.store.save(token)
    else:
        pkce.fake.sso.character.owner = "sold-to-someone"
    with pytest.raises(InvalidGrantError) as caught:
        pkce.refresher.ensure_fresh(token)
    assert str(caught.value) == f"the token cannot be refreshed: {said}"
    assert (caught.value.status, caught.value.error, caught.value.description) == (400, "invalid_grant", said)
