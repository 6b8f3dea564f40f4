"""No duplicate work: identical GETs in flight at once share one request to ESI (CCP names
duplicate requests for one cached resource as the abuse it sees most), in threads and tasks."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import pytest

from esi_client.api.status import get_status
from tests.support.fixtures import FakeESIServer, ManualClock
from tests.support.hostile_server import HostileServer, RawRequest, answer, client_for

STATUS = {"players": 7, "server_version": "1", "start_time": "2026-01-01T00:00:00Z"}
FRESH = {"Expires": "Thu, 01 Jan 2099 00:00:00 GMT", "Cache-Control": "public"}


class _Followers(logging.Handler):
    """Counts the callers the client logs as waiting for a request in flight (an event of the
    code under test: the tests wait on it, never on a guessed time)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.waiting = 0
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        if "waiting for " in record.getMessage() and "identical request" in record.getMessage():
            with self.changed:
                self.waiting += 1
                self.changed.notify_all()

    def wait_for(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.waiting >= count, 30), f"{self.waiting} waiting"


@pytest.fixture
def followers() -> Iterator[_Followers]:
    watcher = _Followers()
    log = logging.getLogger("esi_client")
    level = log.level
    log.addHandler(watcher)
    log.setLevel(logging.DEBUG)
    try:
        yield watcher
    finally:
        log.removeHandler(watcher)
        log.setLevel(level)


def _held(server: HostileServer) -> tuple[threading.Event, threading.Event]:
    """The first status request is held until `release` is set (`arrived` says it came); any
    later one is answered at once."""
    arrived, release = threading.Event(), threading.Event()

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        if not arrived.is_set():
            arrived.set()
            release.wait(30)
        answer(conn, 200, STATUS, FRESH)

    server.on("/status", handle)
    server.on("/status/", handle)
    return arrived, release


def _leader_and_follower(
    lead: Callable[[], Any],
    follow: Callable[[], Any],
    arrived: threading.Event,
    release: threading.Event,
    followers: _Followers,
) -> tuple[Any, Any]:
    """`lead` is held at the server (`arrived`) while `follow` joins its flight; then the held
    answer is released. What each call returned, or raised."""
    with ThreadPoolExecutor(2) as pool:
        leader = pool.submit(lead)
        assert arrived.wait(30)
        follower = pool.submit(follow)
        followers.wait_for(1)
        release.set()
        led, followed = (future.exception(30) or future.result(30) for future in (leader, follower))
        return led, followed


def test_identical_gets_in_threads_share_one_request(server: HostileServer, followers: _Followers) -> None:
    arrived, release = _held(server)
    client = client_for(server)
    results: list[Any] = []
    calls = [
        threading.Thread(target=lambda: results.append(get_status.sync(client=client))) for _ in range(12)
    ]
    calls[0].start()
    assert arrived.wait(30)
    for call in calls[1:]:
        call.start()
    followers.wait_for(11)  # all eleven joined the leader's flight
    release.set()
    for call in calls:
        call.join()
    assert len(results) == 12 and {r.players for r in results} == {7}
    assert server.count("/status") + server.count("/status/") == 1
    assert client.stats.coalesced == 11
    assert len({id(result) for result in results}) == 12  # each caller its own copy


def test_a_follower_is_told_its_answer_came_without_a_request_and_decodes_its_own(
    server: HostileServer, followers: _Followers
) -> None:
    arrived, release = threading.Event(), threading.Event()

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        arrived.set()
        release.wait(30)
        answer(conn, 200, {**STATUS, "vip": False, "new_in_esi": 1}, FRESH)  # a key the spec lacks

    server.on("*", handle)
    client = client_for(server)

    def call() -> Any:
        return get_status.sync_detailed(client=client)

    led, followed = _leader_and_follower(call, call, arrived, release, followers)
    assert (led.from_cache, followed.from_cache) == (False, True)
    assert led.parsed is not followed.parsed and followed.parsed is not None and followed.parsed.players == 7
    assert client.stats.unknown_keys == 2  # each caller decodes its own copy, and it is counted


async def test_identical_gets_in_tasks_share_one_request(
    server: HostileServer, followers: _Followers
) -> None:
    arrived, release = _held(server)
    client = client_for(server)
    leader = asyncio.create_task(get_status.asyncio(client=client))
    assert await asyncio.to_thread(arrived.wait, 30)
    others = [asyncio.create_task(get_status.asyncio(client=client)) for _ in range(9)]
    await asyncio.to_thread(followers.wait_for, 9)
    release.set()
    results = await asyncio.gather(leader, *others)
    assert {r.players for r in results} == {7} and len({id(r) for r in results}) == 10
    assert server.count("/status") + server.count("/status/") == 1
    assert client.stats.coalesced == 9
    await client.aclose()


async def test_a_cancelled_leader_does_not_strand_the_others(
    server: HostileServer, followers: _Followers
) -> None:
    """The leader is cancelled while its request is in flight and a follower waits on it: the
    follower asks ESI itself at once (not after the leader's timeout), and the flight is gone."""
    arrived, release = _held(server)
    client = client_for(server)
    leader = asyncio.create_task(get_status.asyncio(client=client))
    assert await asyncio.to_thread(arrived.wait, 30)
    follower = asyncio.create_task(get_status.asyncio(client=client))
    await asyncio.to_thread(followers.wait_for, 1)
    leader.cancel()
    result = await asyncio.wait_for(follower, 10)  # the held answer is never released
    assert result.players == 7
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert server.count("/status") + server.count("/status/") == 2  # the follower's own request
    assert client.stats.coalesced == 0
    assert (await get_status.asyncio(client=client)).players == 7  # from the cache: no stranded flight
    assert server.count("/status") + server.count("/status/") == 2
    release.set()
    await client.aclose()


def test_processes_sharing_a_redis_cache_wait_for_the_one_in_flight(
    server: HostileServer, redis_url: str, followers: _Followers
) -> None:
    """Three clients with their own memory (as three processes) and one Redis cache: the others
    wait for the first's answer to fill the shared cache instead of asking ESI again."""
    from esi_client.cache_stores import RedisCache
    from esi_client.runtime.cache.memory import ResponseCache

    arrived, release = _held(server)
    shared = f"{redis_url.rsplit('/', 1)[0]}/6"
    clients = [
        client_for(server, cache=ResponseCache(store=RedisCache(shared, prefix=f"esikit:test:{server.url}:")))
        for _ in range(3)
    ]
    results: list[Any] = []
    calls = [threading.Thread(target=lambda c=c: results.append(get_status.sync(client=c))) for c in clients]
    calls[0].start()
    assert arrived.wait(30)
    for call in calls[1:]:
        call.start()
    followers.wait_for(2)  # both found the first's claim and wait for its answer
    release.set()
    for call in calls:
        call.join()
    assert len(results) == 3 and {r.players for r in results} == {7}
    assert server.count("/status") + server.count("/status/") == 1
    assert [client.stats.coalesced for client in clients] == [0, 1, 1]
    for client in clients:
        client.close()


def test_a_stale_entry_in_memory_does_not_hide_a_fresh_one_another_process_stored(
    fake_esi: FakeESIServer, redis_url: str, esi_clock: ManualClock
) -> None:
    """Process B's memory holds a stale answer; process A has since stored a fresh one in the
    shared cache: B answers from it instead of asking ESI again."""
    from esi_client import ESIClient
    from esi_client.cache_stores import RedisCache
    from esi_client.runtime.cache.memory import ResponseCache

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


def test_a_failed_leader_lets_go_of_its_claim_at_once(fake_esi: FakeESIServer, redis_url: str) -> None:
    """Others waiting for a process's answer must not sit out its claim when its call fails."""
    import pytest

    from esi_client import ESIClient, RetryPolicy, ServerError
    from esi_client.cache_stores import RedisCache
    from esi_client.runtime.cache.memory import ResponseCache
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


def test_followers_never_get_the_stale_copy_the_leader_revalidated_past(
    server: HostileServer, followers: _Followers
) -> None:
    """The kept copy went stale; the leader's fresh answer says no-store, so the cache still
    holds the stale copy. That copy is not the leader's answer: a follower asks for its own."""
    from esi_client.clock import ManualClock

    served: list[int] = []
    arrived, release = threading.Event(), threading.Event()

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        served.append(len(served) + 1)
        if len(served) == 1:
            answer(conn, 200, {**STATUS, "players": 1}, {"Cache-Control": "max-age=1", "ETag": '"old"'})
            return
        if len(served) == 2:
            arrived.set()
            release.wait(30)
        answer(conn, 200, {**STATUS, "players": 2}, {"Cache-Control": "no-store"})

    server.on("*", handle)
    clock = ManualClock()
    client = client_for(server, clock=clock)
    assert get_status.sync(client=client).players == 1
    clock.advance(2)  # the kept copy is stale now

    def call() -> Any:
        return get_status.sync(client=client)

    led, followed = _leader_and_follower(call, call, arrived, release, followers)
    assert (led.players, followed.players) == (2, 2)
    assert len(served) == 3


class _AnsweredByAnotherProcess:
    """A shared store in which another process holds the claim and stores its answer while the
    first caller here waits for it: that caller's third look finds it, once `go_on` is set (so
    that other callers here, whose own looks find nothing yet, can join it meanwhile)."""

    def __init__(self, answer: Any, go_on: threading.Event) -> None:
        self.answer, self.go_on, self.loads = answer, go_on, 0
        self.finding = threading.Event()
        self.first: int | None = None
        self.first_looks = 0

    def load(self, key: str) -> Any:
        self.loads += 1
        if self.first is None:
            self.first = threading.get_ident()
        if threading.get_ident() != self.first:
            return None
        self.first_looks += 1
        if self.first_looks < 3:  # the look-up, then the look after the first claim
            return None
        self.finding.set()
        assert self.go_on.wait(30)
        return self.answer

    def save(self, key: str, response: Any) -> None:
        pass

    def claim(self, key: str, seconds: float) -> bool:
        return False

    def release(self, key: str) -> None:
        pass


def test_followers_here_share_the_answer_their_leader_found_in_another_processs_store(
    server: HostileServer, followers: _Followers
) -> None:
    import orjson

    from esi_client.cache_stores import ResponseCache, StoredResponse
    from esi_client.clock import ManualClock

    go_on = threading.Event()
    clock = ManualClock()
    stored = StoredResponse(200, {}, orjson.dumps(STATUS), '"e1"', clock.now() + 60)
    store = _AnsweredByAnotherProcess(stored, go_on)
    client = client_for(server, clock=clock, cache=ResponseCache(store=store))
    with ThreadPoolExecutor(3) as pool:
        leader = pool.submit(get_status.sync, client=client)
        assert store.finding.wait(30)
        joined = [pool.submit(get_status.sync, client=client) for _ in range(2)]
        followers.wait_for(3)  # the leader waits for the other process; the two, for the leader
        go_on.set()
        assert [call.result(30).players for call in (leader, *joined)] == [7, 7, 7]
    assert (
        store.loads == 5 and server.count("/status") == 0 and client.stats.coalesced == 3
    )  # 3 looks, 1 each


def test_a_follower_with_less_than_a_second_left_still_waits_for_its_leader(
    server: HostileServer, followers: _Followers
) -> None:
    """However little of its deadline is left (0.9 s, on a clock that stands still here), a
    follower waits for its leader's answer rather than giving up before it began."""
    from esi_client.clock import ManualClock

    arrived, release = threading.Event(), threading.Event()

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        arrived.set()
        release.wait(30)
        answer(conn, 200, STATUS, FRESH)

    server.on("*", handle)
    client = client_for(server, clock=ManualClock())
    led, followed = _leader_and_follower(
        lambda: get_status.sync(client=client),
        lambda: get_status.sync(client=client.with_deadline(0.9)),
        arrived,
        release,
        followers,
    )
    assert (led.players, followed.players) == (7, 7)
    assert server.count("/status") == 1


HELD_404: tuple[int, Any, dict[str, str]] = (
    404,
    {"error": "not found"},
    {},
)  # answered once `release` is set


def _scripted(server: HostileServer, replies: list[tuple[int, Any, dict[str, str]]]) -> Any:
    """Requests are answered with `replies` in turn; the one that is HELD_404 waits for
    `release`. Returns (arrived: it is held, release, the If-None-Match of each request)."""
    arrived, release = threading.Event(), threading.Event()
    sent: list[str | None] = []
    pending = iter(replies)

    def handle(request: RawRequest, conn: socket.socket) -> None:
        sent.append(request.headers.get("if-none-match"))
        reply = next(pending)
        if reply is HELD_404:
            arrived.set()
            release.wait(30)
        answer(conn, *reply)

    server.on("*", handle)
    return arrived, release, sent


def _leader_fails_follower_goes_on(
    call: Callable[[], Any], arrived: threading.Event, release: threading.Event, followers: _Followers
) -> Any:
    """The leader's request fails (HELD_404) once a follower waits for it; what the follower's
    own call then returned, or raised."""
    from esi_client import ESIResponseError

    led, followed = _leader_and_follower(call, call, arrived, release, followers)
    assert isinstance(led, ESIResponseError) and led.status == 404
    return followed


def test_a_follower_whose_leader_failed_revalidates_the_stale_copy(
    server: HostileServer, followers: _Followers
) -> None:
    from esi_client.clock import ManualClock

    fresh = {"Cache-Control": "max-age=1", "ETag": '"e1"'}
    arrived, release, sent = _scripted(server, [(200, STATUS, fresh), HELD_404, (304, b"", fresh)])
    clock = ManualClock()
    client = client_for(server, clock=clock)
    get_status.sync(client=client)
    clock.advance(2)  # the copy is stale: the leader revalidates it, and fails
    outcome = _leader_fails_follower_goes_on(
        lambda: get_status.sync(client=client), arrived, release, followers
    )
    assert outcome.players == 7 and sent == [None, '"e1"', '"e1"']


class _AppAuth(httpx2.Auth):
    """The principal an app's auth names (application/character), without SSO."""

    def cache_principal(self, character_id: int | None) -> str | None:
        return None if character_id is None else f"app/{character_id}"

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers["Authorization"] = "Bearer not-a-real-token"
        yield request


def test_a_follower_whose_leader_failed_goes_on_as_the_same_character(
    server: HostileServer, followers: _Followers
) -> None:
    """Its 429 then holds that character's bucket: the next call for the character is held."""
    from esi_client import RateLimitedError
    from esi_client.api.wallet import get_characters_character_id_wallet

    arrived, release, sent = _scripted(
        server, [HELD_404, (429, {"error": "limited"}, {"Retry-After": "600"})]
    )
    client = client_for(server, auth=_AppAuth(), max_wait=5)

    def wallet() -> Any:
        return get_characters_character_id_wallet.sync(90000001, client=client)

    outcome = _leader_fails_follower_goes_on(wallet, arrived, release, followers)
    assert isinstance(outcome, RateLimitedError)
    with pytest.raises(RateLimitedError):
        wallet()
    assert len(sent) == 2
