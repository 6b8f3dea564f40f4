"""No duplicate work: identical GETs in flight at once share one request to ESI (CCP names
duplicate requests for one cached resource as the abuse it sees most), in threads and tasks."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from esi_client.api.status import get_status
from esi_client.api.universe import get_universe_types_type_id


def _slow(fake: Any, *operations: str) -> None:
    fake.state.faults.delay_s = 0.3
    fake.state.faults.delay_operations = frozenset(operations)


def test_identical_gets_in_threads_share_one_request(fake_esi: Any, make_client: Any) -> None:
    _slow(fake_esi, "GetStatus")
    client = make_client()
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(get_status.sync(client=client))) for _ in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 12 and len({r.players for r in results}) == 1
    assert fake_esi.state.stats.count("GetStatus") == 1
    assert len({id(result) for result in results}) == 12  # each caller its own copy


async def test_identical_gets_in_tasks_share_one_request(fake_esi: Any, make_client: Any) -> None:
    _slow(fake_esi, "GetUniverseTypesTypeId")
    client = make_client()
    same = await asyncio.gather(*(get_universe_types_type_id.asyncio(34, client=client) for _ in range(10)))
    other = await get_universe_types_type_id.asyncio(35, client=client)
    assert {t.type_id for t in same} == {34} and other.type_id == 35
    assert fake_esi.state.stats.count("GetUniverseTypesTypeId") == 2  # 34 once, 35 once
    await client.aclose()


async def test_a_cancelled_leader_does_not_strand_the_others(fake_esi: Any, make_client: Any) -> None:
    _slow(fake_esi, "GetStatus")
    client = make_client()
    leader = asyncio.create_task(get_status.asyncio(client=client))
    await asyncio.sleep(0.05)
    follower = asyncio.create_task(get_status.asyncio(client=client))
    await asyncio.sleep(0.05)
    leader.cancel()
    result = await asyncio.wait_for(follower, 10)
    assert result.players >= 0
    await client.aclose()


def test_processes_sharing_a_redis_cache_wait_for_the_one_in_flight(fake_esi: Any, redis_url: str) -> None:
    """Two clients with their own memory (as two processes) and one Redis cache: the second
    waits for the first's answer to fill the shared cache instead of asking ESI again."""
    from esi_client import ESIClient
    from esi_client._cache import ResponseCache
    from esi_client.cache_stores import RedisCache

    _slow(fake_esi, "GetStatus")
    shared = f"{redis_url.rsplit('/', 1)[0]}/6"
    clients = [
        ESIClient(
            app_name="t", contact="t@example.invalid", base_url=fake_esi.url,
            cache=ResponseCache(store=RedisCache(shared, prefix=f"esikit:test:{fake_esi.url}:")),
        )
        for _ in range(3)
    ]  # fmt: skip
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda c=c: results.append(get_status.sync(client=c))) for c in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3 and len({r.players for r in results}) == 1
    assert fake_esi.state.stats.count("GetStatus") == 1
    for client in clients:
        client.close()


def test_a_stale_entry_in_memory_does_not_hide_a_fresh_one_another_process_stored(
    fake_esi: Any, redis_url: str, esi_clock: Any
) -> None:
    """Process B's memory holds a stale answer; process A has since stored a fresh one in the
    shared cache: B answers from it instead of asking ESI again."""
    from esi_client import ESIClient
    from esi_client._cache import ResponseCache
    from esi_client.cache_stores import RedisCache

    store = f"{redis_url.rsplit('/', 1)[0]}/7"
    prefix = f"esikit:test-stale:{fake_esi.url}:"

    def process() -> Any:
        cache = ResponseCache(store=RedisCache(store, prefix=prefix))
        return ESIClient(
            app_name="t", contact="t@example.invalid", base_url=fake_esi.url, cache=cache, clock=esi_clock
        )

    a, b = process(), process()
    get_status.sync(client=b)  # B's memory now holds it
    esi_clock.advance(60)  # stale for both
    get_status.sync(client=a)  # A asks ESI again (a 304) and stores the fresh answer
    asked = fake_esi.state.stats.count("GetStatus")
    assert get_status.sync(client=b).players >= 0
    assert fake_esi.state.stats.count("GetStatus") == asked  # B did not ask
    a.close()
    b.close()


def test_a_failed_leader_lets_go_of_its_claim_at_once(fake_esi: Any, redis_url: str) -> None:
    """Others waiting for a process's answer must not sit out its claim when its call fails."""
    import pytest

    from esi_client import ESIClient, RetryPolicy, ServerError
    from esi_client._cache import ResponseCache
    from esi_client.cache_stores import RedisCache
    from esi_fake import ForcedReply

    store = RedisCache(f"{redis_url.rsplit('/', 1)[0]}/9", prefix=f"esikit:test-claim:{fake_esi.url}:")
    client = ESIClient(
        app_name="t", contact="t@example.invalid", base_url=fake_esi.url,
        cache=ResponseCache(store=store), retry=RetryPolicy(max_retries=0),
    )  # fmt: skip
    fake_esi.state.faults.forced = [ForcedReply(503, 1, "GetStatus")]
    with pytest.raises(ServerError):
        get_status.sync(client=client)
    markers = [key for key in store._redis.keys("*") if b"in-flight:" in key]
    assert markers == [], "the failed call's claim is still held"
    assert get_status.sync(client=client).players >= 0
    client.close()
