"""Errors that say what to do: a dead grant names the call, the character and how to log in
again; a missing scope names what the stored token lacks; a value the spec refuses is refused
before anything is sent; a locally held-back call does not claim an HTTP status it never got."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from esi_auth import NoTokenError, TokenRevokedError
from esi_client import BadResponseError, ErrorLimitedError, InvalidArgumentError
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.search import get_characters_character_id_search
from esi_client.api.skills import get_characters_character_id_skills
from esi_client.api.status import get_status
from esi_client.api.wallet import get_characters_character_id_wallet
from esi_fake._state import ForcedReply
from tests.support.auth_support import AuthSetup, make_setup
from tests.support.fixtures import ClientFactory, FakeESIServer, ManualClock

WALLET = "esi-wallet.read_character_wallet.v1"
SKILLS = "esi-skills.read_skills.v1"


@pytest.fixture
def pkce(fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path) -> AuthSetup:
    return make_setup(fake_esi, esi_clock, tmp_path)


def test_a_dead_grant_names_the_call_the_character_and_the_way_back(
    pkce: AuthSetup, make_client: ClientFactory, esi_clock: ManualClock
) -> None:
    token = pkce.log_in(WALLET)
    client = make_client(auth=pkce.auth)
    pkce.fake.sso.fail_refresh = "invalid_grant"
    esi_clock.advance(3600)  # the access token has expired: a refresh is needed
    with pytest.raises(TokenRevokedError) as dead:
        get_characters_character_id_wallet.sync(token.character_id, client=client)
    message = str(dead.value)
    assert message.startswith("GetCharactersCharacterIdWallet: ")
    assert f"{token.character_name} ({token.character_id})" in message
    assert "removed from the store" in message
    assert f"esi login --scopes {WALLET}" in message
    assert pkce.store.query().count() == 0  # it was removed, as it says
    assert dead.value.operation_id == "GetCharactersCharacterIdWallet"


def test_a_missing_scope_names_what_the_stored_token_lacks(
    pkce: AuthSetup, make_client: ClientFactory
) -> None:
    token = pkce.log_in(WALLET)
    client = make_client(auth=pkce.auth)
    with pytest.raises(NoTokenError) as missing:
        get_characters_character_id_skills.sync(token.character_id, client=client)
    assert missing.value.lacking == (SKILLS,)
    message = str(missing.value)
    assert f"character {token.character_id}'s stored token lacks the scope {SKILLS}" in message
    assert "no stored token" not in message


@pytest.mark.parametrize(
    ("call", "parameter", "expected"),
    [
        (
            lambda c: get_markets_region_id_orders.sync(10000002, client=c, order_type=cast(Any, "bye")),
            "order_type",
            "one of",
        ),
        (lambda c: get_markets_region_id_orders.sync(10000002, client=c, page=0), "page", "at least 1"),
        (
            lambda c: get_characters_character_id_search.sync(
                90000001, client=c, categories=cast(Any, ["character", "planets"]), search="abc"
            ),
            "categories",
            "one of",
        ),
    ],
)
def test_a_value_the_spec_refuses_is_never_sent(
    make_client: ClientFactory, fake_esi: FakeESIServer, call: Any, parameter: str, expected: str
) -> None:
    client = make_client()
    with pytest.raises(InvalidArgumentError) as refused:
        call(client)
    assert refused.value.parameter == parameter and expected in refused.value.expected
    assert "nothing was sent" in str(refused.value)
    assert isinstance(refused.value, ValueError)
    assert fake_esi.state.stats.requests == 0  # not even the error budget was touched


def test_values_inside_the_bounds_pass(make_client: ClientFactory, fake_esi: FakeESIServer) -> None:
    client = make_client()
    orders = get_markets_region_id_orders.sync(10000002, client=client, order_type="sell", page=2)
    assert orders and all(not order.is_buy_order for order in orders)
    assert fake_esi.state.stats.requests == 1


def test_a_call_held_back_locally_says_it_was_not_sent(
    make_client: ClientFactory, fake_esi: FakeESIServer
) -> None:
    fake_esi.state.faults.forced = [ForcedReply(420, count=1)]
    client = make_client(max_wait=5)
    with pytest.raises(ErrorLimitedError) as first:
        get_markets_region_id_orders.sync(10000002, client=client)
    assert first.value.sent and "HTTP 420" in str(first.value)
    with pytest.raises(ErrorLimitedError) as held:
        get_markets_region_id_orders.sync(10000003, client=client)
    assert not held.value.sent and held.value.retry_after is not None
    assert "not sent" in str(held.value) and "HTTP 420" not in str(held.value)
    assert fake_esi.state.stats.requests == 1


@pytest.mark.parametrize(
    ("raised", "field"),
    [
        (ValueError("'server_version' cannot be parsed"), "server_version"),
        (TypeError("server_version: expected 'start_time' to be a date"), "start_time"),
        (
            AttributeError("'NoneType' object has no attribute 'players'"),
            "players",
        ),  # the field, not the type
        (TypeError("'NoneType' object is not iterable"), None),
        (ValueError("no quoted name at all"), None),
    ],
)
def test_a_parser_failure_names_the_field_only_when_the_body_has_it(
    make_client: ClientFactory, raised: Exception, field: str | None
) -> None:
    """A model's own TypeError or ValueError (a converter, a check in the model) still becomes
    one BadResponseError naming the operation; it names a field only when the body has one by
    the name the message quotes."""
    seen: list[Any] = []

    def parse(data: Any) -> Any:
        seen.append(data)
        raise raised

    client = make_client()
    with pytest.raises(BadResponseError) as caught:
        client.send(get_status.OPERATION, {"url": "/status"}, parse)
    assert seen and "players" in seen[0] and "start_time" in seen[0]
    assert caught.value.path == field
    where = f" in field {field!r}" if field else ""
    assert str(caught.value) == f"GetStatus: response does not match the spec{where}: {raised}"
