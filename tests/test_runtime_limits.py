"""Limits: waits on 429 and before it, pauses under the error budget, never a 420 of our making.

Time is the manual clock the fake ESI also keeps: waits are recorded, never slept.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from esi_client import ErrorLimitedError, NotFoundError, RateLimitedError
from esi_client.api.killmails import get_killmails_killmail_id_killmail_hash
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.status import get_status
from esi_client.api.wallet import get_characters_character_id_wallet
from esi_fake import Character, ForcedReply
from tests.support.auth_support import make_setup
from tests.support.fixtures import ClientFactory, FakeESIServer, ManualClock


def test_429_waits_retry_after(
    fake_esi: FakeESIServer, make_client: ClientFactory, esi_clock: ManualClock
) -> None:
    fake_esi.state.faults.forced = [ForcedReply(429, count=1, retry_after=7)]
    client = make_client()
    assert get_status.sync(client=client).players > 0
    assert 7.0 in esi_clock.sleeps
    assert client.stats.retries == 1 and client.stats.waits == 1


def test_429_gives_up_after_the_retry_bound(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    fake_esi.state.faults.forced = [ForcedReply(429, count=10, retry_after=2)]
    client = make_client()
    with pytest.raises(RateLimitedError) as caught:
        get_status.sync(client=client)
    assert caught.value.retry_after == 2.0
    # one try and three retries (this client's: the session's fake may see others' stragglers)
    assert client.stats.requests == 4 and client.stats.retries == 3
    assert fake_esi.state.stats.by_status[429] >= 4


def test_slows_down_before_the_rate_limit(
    fake_esi: FakeESIServer, make_client: ClientFactory, esi_clock: ManualClock
) -> None:
    fake_esi.state.rate_limits.overrides["killmail"] = 30  # 15 successful calls' worth
    client = make_client(max_wait=3600)
    for killmail_id in range(40):
        get_killmails_killmail_id_killmail_hash.sync(killmail_id, "hash", client=client)
    assert fake_esi.state.stats.by_status[429] == 0
    assert fake_esi.state.stats.count("GetKillmailsKillmailIdKillmailHash") == 40
    long_waits = [s for s in esi_clock.sleeps if s > 60]
    assert long_waits, "the client should have waited for its oldest tokens to return"
    assert all(s <= 3600 for s in long_waits)  # never longer than the group's window


def test_the_window_is_the_one_esi_sends(
    fake_esi: FakeESIServer, make_client: ClientFactory, esi_clock: ManualClock
) -> None:
    """The spec says 15 minutes; X-Ratelimit-Limit says 30 s (limits change between dates): the
    client waits for the window ESI keeps."""
    fake_esi.state.rate_limits.overrides["killmail"] = 30
    fake_esi.state.rate_limits.window_overrides["killmail"] = 30.0
    client = make_client(max_wait=3600)
    for killmail_id in range(40):
        get_killmails_killmail_id_killmail_hash.sync(killmail_id, "hash", client=client)
    assert fake_esi.state.stats.by_status[429] == 0
    assert fake_esi.state.stats.count("GetKillmailsKillmailIdKillmailHash") == 40
    assert max(esi_clock.sleeps) <= 30.0, esi_clock.sleeps
    assert sum(esi_clock.sleeps) >= 30.0  # 80 tokens of a 30-token bucket: two refills at least


def test_pauses_under_the_error_budget(
    fake_esi: FakeESIServer, make_client: ClientFactory, esi_clock: ManualClock
) -> None:
    fake_esi.state.error_limit.budget = 20
    client = make_client(error_threshold=5)
    for _ in range(40):
        with pytest.raises(NotFoundError):
            get_markets_region_id_orders.sync(10000002, client=client, page=999)
    assert fake_esi.state.stats.by_status[420] == 0
    assert fake_esi.state.stats.by_status[404] == 40
    assert client.stats.waits >= 2  # 40 errors need at least two fresh windows
    assert any(s >= 1 for s in esi_clock.sleeps)


def test_420_raises_and_then_pauses(
    fake_esi: FakeESIServer, make_client: ClientFactory, esi_clock: ManualClock
) -> None:
    fake_esi.state.faults.forced = [ForcedReply(420, count=1)]
    client = make_client()
    with pytest.raises(ErrorLimitedError):
        get_status.sync(client=client)
    assert esi_clock.sleeps == []
    get_status.sync(client=client)  # waits for the window before trying again
    assert esi_clock.sleeps and esi_clock.sleeps[0] >= 1


async def test_error_budget_async(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    import asyncio

    fake_esi.state.error_limit.budget = 15
    client = make_client(
        error_threshold=3, max_concurrency=8, deadline=None
    )  # the manual clock adds every sleeper's wait

    async def miss() -> None:
        with pytest.raises(NotFoundError):
            await get_markets_region_id_orders.asyncio(10000002, client=client, page=999)

    await asyncio.gather(*(miss() for _ in range(30)))
    assert fake_esi.state.stats.by_status[420] == 0
    await client.aclose()


def test_a_429_for_a_character_pauses_that_characters_bucket(
    fake_esi: FakeESIServer, make_client: ClientFactory, esi_clock: ManualClock, tmp_path: Path
) -> None:
    """ESI keeps a bucket per group and character: the retry after a character's 429 waits for
    the Retry-After that character's bucket was given, and the group's other buckets do not."""
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    fake_esi.sso.character = Character(90000101, "First Pilot", "owner-101")
    first = setup.log_in()
    fake_esi.sso.character = Character(90000102, "Second Pilot", "owner-102")
    second = setup.log_in()
    client = make_client(auth=setup.auth)
    fake_esi.state.faults.forced = [ForcedReply(429, count=1, retry_after=7)]
    assert isinstance(get_characters_character_id_wallet.sync(first.character_id, client=client), float)
    assert esi_clock.sleeps == [7.0]  # the retry waited for the first character's bucket
    assert client.stats.retries == 1
    assert isinstance(get_characters_character_id_wallet.sync(second.character_id, client=client), float)
    assert esi_clock.sleeps == [7.0]
