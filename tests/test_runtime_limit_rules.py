"""The limit rules the guides state, each checked at its boundary, for a process's own limits
and for the fleet's in Redis: answers arriving out of order are believed only at their lowest,
and a rate bucket keeps room for a 4xx (5 tokens, or 5 % of a large bucket)."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import httpx2
import pytest

from esi_client import ErrorLimitedError, ESIError, ESIResponseError, RateLimitedError, RedisLimits
from esi_client.api.killmails import get_killmails_killmail_id_killmail_hash
from esi_client.api.wallet import get_characters_character_id_wallet
from esi_client.clock import ManualClock
from esi_client.operations import get_operation
from esi_client.stats import ClientStats
from esi_fake import Character, ForcedReply
from tests.support.auth_support import make_setup
from tests.support.fixtures import ClientFactory, FakeESIServer
from tests.support.hostile_server import HostileServer, RawRequest, answer, client_for

KILLMAIL = {
    "attackers": [{"damage_done": 1, "final_blow": True, "security_status": 0.5}],
    "killmail_id": 1,
    "killmail_time": "2026-01-01T00:00:00Z",
    "solar_system_id": 30000142,
    "victim": {"damage_taken": 1, "ship_type_id": 587},
}
WINDOW = 900  # the killmail group's, in X-Ratelimit-Limit below
DOWN = "unreachable-"  # the app name of limits whose Redis cannot be reached


def _rate(remaining: int, limit: int = 150) -> dict[str, str]:
    return {
        "X-Ratelimit-Limit": f"{limit}/15m",
        "X-Ratelimit-Remaining": str(remaining),
        "X-Ratelimit-Used": "2",
    }


def _errors(remain: int) -> dict[str, str]:
    return {"X-ESI-Error-Limit-Remain": str(remain), "X-ESI-Error-Limit-Reset": "60"}


@pytest.fixture(params=["local", "shared", "redis-down"])
def limits(request: pytest.FixtureRequest) -> dict[str, RedisLimits]:
    """The client options of a process keeping its own limits, of one keeping the fleet's, or of
    one whose Redis cannot be reached (it falls back to its own limits, which keep every rule)."""
    if request.param == "local":
        return {}
    from esi_client import RedisLimits
    from testbed.servers import free_port

    if request.param == "redis-down":
        return {
            "limits": RedisLimits(f"redis://127.0.0.1:{free_port()}/0", app=f"{DOWN}{uuid.uuid4().hex[:8]}")
        }
    redis_url: str = request.getfixturevalue("redis_url")
    return {"limits": RedisLimits(redis_url, app=f"rules-{uuid.uuid4().hex[:8]}")}


def _out_of_order(server: HostileServer, stale: dict[str, str], newest: dict[str, str]) -> threading.Event:
    """The first two killmail requests are answered out of order: the second at once with
    `newest`; the first with `stale` (written earlier) only when the returned event is set, once
    the client has taken in the newest answer."""
    release_stale = threading.Event()
    arrivals: list[str] = []
    lock = threading.Lock()

    def handle(request: RawRequest, conn: socket.socket) -> None:
        with lock:
            arrivals.append(request.path)
            order = len(arrivals)
        if order == 1:
            assert release_stale.wait(30), "the newest answer was never taken in"
            answer(conn, 200, KILLMAIL, stale)
        else:
            answer(conn, 200, KILLMAIL, newest)

    server.on("*", handle)
    return release_stale


def _client(server: HostileServer, options: dict[str, Any]) -> Any:
    """A wait longer than the client's max_wait (30 s) raises at once, so no test waits."""
    return client_for(server, clock=ManualClock(), max_wait=30, **options)


def _kept_by_redis(client: Any, options: dict[str, Any]) -> bool:
    """The shared limits were Redis's throughout (a fallback to local ones would hide a fault),
    or the process's own when its Redis is down."""
    if "limits" not in options:
        return True
    down = f":{DOWN}" in options["limits"].keys
    fallbacks: int = client.stats.shared_limit_fallbacks
    return fallbacks > 0 if down else fallbacks == 0


def _two_at_once_then_one(
    server: HostileServer, options: dict[str, Any], release_stale: threading.Event
) -> ESIError | None:
    """Two requests at once (the stale answer delivered once the other call has returned), then
    a third: what the third raised (None: it was sent and answered)."""
    client = _client(server, options)
    with ThreadPoolExecutor(2) as pool:
        calls = [
            pool.submit(get_killmails_killmail_id_killmail_hash.sync, killmail_id, "h", client=client)
            for killmail_id in (1, 2)
        ]
        first, _ = wait(calls, timeout=30, return_when=FIRST_COMPLETED)
        assert len(first) == 1, "the newest answer never came back"
        release_stale.set()
        assert [call.result().killmail_id for call in calls] == [1, 1]
    try:
        get_killmails_killmail_id_killmail_hash.sync(3, "h", client=client)
    except ESIError as refused:
        assert server.count("/killmails/3/h") == 0 and _kept_by_redis(client, options)
        return refused
    assert server.count("/killmails/3/h") == 1 and _kept_by_redis(client, options)
    return None


def test_rate_answers_are_believed_at_their_lowest(
    server: HostileServer, limits: dict[str, RedisLimits]
) -> None:
    """6 tokens left arrives first, 140 (an older answer) after it: 6 is believed, and 6 is
    under the room kept for a 4xx, so the third request waits for spent tokens to return."""
    release_stale = _out_of_order(server, stale=_rate(140), newest=_rate(6))
    refused = _two_at_once_then_one(server, limits, release_stale)
    assert isinstance(refused, RateLimitedError), refused
    assert refused.retry_after is not None and refused.retry_after > WINDOW / 2


def test_error_answers_are_believed_at_their_lowest(
    server: HostileServer, limits: dict[str, RedisLimits]
) -> None:
    """Within one window, 10 errors left (the threshold) arrives first and 90 after it: the
    client waits for the window's reset before the next request."""
    release_stale = _out_of_order(server, stale=_errors(90), newest=_errors(10))
    refused = _two_at_once_then_one(server, limits, release_stale)
    assert isinstance(refused, ErrorLimitedError), refused
    assert refused.retry_after is not None and refused.retry_after > 30


@pytest.mark.parametrize(
    ("limit", "remaining", "waits"),
    [
        (150, 8, False),  # 5 % of 150 is 7: 8 left may be spent
        (150, 7, True),
        (40, 6, False),  # 5 % of 40 is 2, but never less than 5 (one 4xx)
        (40, 5, True),
        (3600, 181, False),  # 5 % of 3600 is 180
        (3600, 180, True),
    ],
)
def test_a_bucket_keeps_room_for_a_4xx(
    server: HostileServer, limits: dict[str, RedisLimits], limit: int, remaining: int, waits: bool
) -> None:
    server.on("*", lambda _request, conn: answer(conn, 200, KILLMAIL, _rate(remaining, limit)))
    client = _client(server, limits)
    get_killmails_killmail_id_killmail_hash.sync(1, "h", client=client)
    if not waits:
        get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client)
        assert server.count("/killmails/2/h") == 1 and _kept_by_redis(client, limits)
        return
    with pytest.raises(RateLimitedError) as refused:
        get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client)
    assert refused.value.retry_after is not None and refused.value.retry_after > WINDOW / 2
    assert server.count("/killmails/2/h") == 0 and _kept_by_redis(client, limits)


@pytest.mark.parametrize(
    ("limit", "remaining", "held_for"),
    [
        ("150/1m", 7, (30, 60)),  # a window of one unit is ESI's word
        ("150/999999s", 7, (WINDOW, 999999)),  # six digits of window: believed
        ("150/1000000s", 7, (WINDOW / 2, WINDOW)),  # seven: unreadable, the spec's 15 minutes stand
        ("1/15m", 6, None),  # a bucket of one token is believed: 5 kept, the 6th may go
        ("999999999/15m", 181, (WINDOW / 2, WINDOW)),  # nine digits: believed (181 is inside its 5 %)
        ("1000000000/15m", 181, None),  # ten: unreadable, the spec's 3600 stand (180 kept)
    ],
)
def test_esis_word_on_the_bucket_is_read_within_its_bounds(
    server: HostileServer,
    limits: dict[str, RedisLimits],
    limit: str,
    remaining: int,
    held_for: tuple[float, float] | None,
) -> None:
    """X-Ratelimit-Limit, `<tokens>/<length><unit>`: from 1 token and 1 unit, up to 9 digits of
    tokens and 6 of length; beyond, the spec's bucket stands (no real bucket is that large)."""
    headers = {"X-Ratelimit-Limit": limit, "X-Ratelimit-Remaining": str(remaining), "X-Ratelimit-Used": "2"}
    server.on("*", lambda _request, conn: answer(conn, 200, KILLMAIL, headers))
    client = _client(server, limits)
    get_killmails_killmail_id_killmail_hash.sync(1, "h", client=client)
    if held_for is None:
        get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client)
        assert server.count("/killmails/2/h") == 1 and _kept_by_redis(client, limits)
        return
    with pytest.raises(RateLimitedError) as refused:
        get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client)
    low, high = held_for
    assert refused.value.retry_after is not None and low < refused.value.retry_after <= high
    assert server.count("/killmails/2/h") == 0 and _kept_by_redis(client, limits)


@pytest.mark.parametrize(
    ("requests", "waited"),
    [
        ([(0.0, 30, 1.0), (10.5, 5, 0.0)], 9.0),  # B half a second after A's window
        ([(0.0, 30, 1.0), (10.0, 5, 0.0)], 9.0),  # B exactly a window after A was reserved
        ([(0.0, 30, 1.0), (8.0, 28, 0.0), (10.5, 5, 0.0)], 6.5),  # D, younger than a window, stays
    ],
    ids=["after-the-window", "at-the-window", "younger-spends-kept"],
)
def test_tokens_an_answer_already_counts_as_returned_are_not_returned_twice(
    server: HostileServer, requests: list[tuple[float, int, float]], waited: float
) -> None:
    """ESI gives a request's tokens back a window after it arrived; the client, a window after
    its answer (later: never too early). An answer whose count is believed (the lowest) may
    already count tokens as given back that the client still holds as spent: those must not be
    given back a second time, or the client thinks it has tokens ESI says it has not.

    Each request is (sent at, remaining answered, latency); window 10 s. A (reserved at 0) is
    answered 1 s later; the last answer, 5 left, is believed and is the room kept for a 4xx, so
    the next request waits for the oldest spend still held, not for A's 2 tokens to come back a
    second time. Spends reserved a window or more before that answer are already in its count;
    younger ones (D) are not and still come back."""
    clock = ManualClock()
    answers = iter([(remaining, latency) for _, remaining, latency in requests])

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        remaining, latency = next(answers, (5, 0.0))
        clock.advance(latency)
        answer(conn, 200, KILLMAIL, {**_rate(remaining, 40), "X-Ratelimit-Limit": "40/10s"})

    server.on("*", handle)
    client = client_for(server, clock=clock, max_wait=30)
    start = clock.now()
    for killmail_id, (sent_at, _, _) in enumerate(requests, start=1):
        clock.advance(start + sent_at - clock.now())
        get_killmails_killmail_id_killmail_hash.sync(killmail_id, "h", client=client)
    assert clock.sleeps == []
    clock.advance(1.0)
    get_killmails_killmail_id_killmail_hash.sync(99, "h", client=client)
    assert clock.sleeps == [pytest.approx(waited)], clock.sleeps


def test_a_fleet_does_not_return_tokens_twice_either(server: HostileServer, redis_url: str) -> None:
    """The same as above with the fleet's limits in Redis, on Redis's clock (so in real time: a
    4-s window, A answered after 1 s, B at 4.5 s, C at 5.5 s). Late steps can only make the
    test easier to pass, never fail a client that gets it right."""
    from esi_client import RedisLimits

    answers = iter([(30, 1.0), (5, 0.0)])

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        remaining, latency = next(answers, (5, 0.0))
        time.sleep(latency)  # A is slow to answer: ESI counted it a second before the client
        answer(conn, 200, KILLMAIL, {**_rate(remaining, 40), "X-Ratelimit-Limit": "40/4s"})

    server.on("*", handle)
    limits = RedisLimits(redis_url, app=f"twice-{uuid.uuid4().hex[:8]}")
    client = client_for(server, max_wait=1, limits=limits)
    started = time.time()
    get_killmails_killmail_id_killmail_hash.sync(1, "h", client=client)  # A
    time.sleep(max(started + 4.5 - time.time(), 0))
    get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client)  # B: 5 left
    time.sleep(max(started + 5.5 - time.time(), 0))
    with pytest.raises(RateLimitedError):
        get_killmails_killmail_id_killmail_hash.sync(3, "h", client=client)  # C: wait for B's
    assert server.count("/killmails/3/h") == 0 and client.stats.shared_limit_fallbacks == 0


def test_after_a_420_nothing_is_sent_until_the_reset_even_at_threshold_0(server: HostileServer) -> None:
    """error_threshold may be 0 (0-99): a 420 still stops every request until its reset."""
    answers = iter([(420, {"X-ESI-Error-Limit-Remain": "0", "X-ESI-Error-Limit-Reset": "30"})])

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        status, headers = next(answers, (200, {}))
        answer(conn, status, KILLMAIL if status == 200 else {"error": "limited"}, headers)

    server.on("*", handle)
    client = client_for(server, clock=ManualClock(), max_wait=5, error_threshold=0)
    with pytest.raises(ErrorLimitedError):
        get_killmails_killmail_id_killmail_hash.sync(1, "h", client=client)
    with pytest.raises(ErrorLimitedError) as held:
        get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client)
    assert held.value.retry_after is not None and held.value.retry_after > 5
    assert server.count("/killmails/2/h") == 0


def _first_answered(server: HostileServer, status: int, headers: dict[str, str]) -> None:
    """The first request gets `status` with `headers`; every later one, a killmail."""
    answers = iter([(status, headers)])

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        code, extra = next(answers, (200, _rate(100)))
        answer(conn, code, KILLMAIL if code == 200 else {"error": "limited"}, extra)

    server.on("*", handle)


def _fleet(redis_url: str) -> tuple[Any, Any]:
    """Two processes' limits: the same app in one Redis, each with its own local state."""
    from esi_client import RedisLimits

    app = f"fleet-{uuid.uuid4().hex[:8]}"
    return RedisLimits(redis_url, app=app), RedisLimits(redis_url, app=app)


@pytest.mark.parametrize(
    "headers",
    [{"X-ESI-Error-Limit-Remain": "0", "X-ESI-Error-Limit-Reset": "30"}, {}],
    ids=["with-error-limit-headers", "bare"],  # bare: a 420 alone says the window is spent (60 s)
)
def test_a_420_in_one_process_holds_the_whole_fleet(
    server: HostileServer, redis_url: str, headers: dict[str, str]
) -> None:
    _first_answered(server, 420, headers)
    mine, theirs = _fleet(redis_url)
    with pytest.raises(ErrorLimitedError):
        get_killmails_killmail_id_killmail_hash.sync(
            1, "h", client=client_for(server, max_wait=5, limits=mine)
        )
    other = client_for(server, max_wait=5, limits=theirs)
    with pytest.raises(ErrorLimitedError) as held:
        get_killmails_killmail_id_killmail_hash.sync(2, "h", client=other)
    assert held.value.retry_after is not None and 5 < held.value.retry_after <= (30 if headers else 60)
    assert server.count("/killmails/2/h") == 0 and other.stats.shared_limit_fallbacks == 0


def test_a_429_in_one_process_pauses_the_bucket_for_the_whole_fleet(
    server: HostileServer, redis_url: str
) -> None:
    """The process that got the 429 waits Retry-After and retries; meanwhile another process's
    call to the same group is held too (ESI's bucket is the fleet's, not the process's)."""
    _first_answered(server, 429, {"Retry-After": "5"})
    mine, theirs = _fleet(redis_url)
    limited = client_for(server, max_wait=6, limits=mine)
    with ThreadPoolExecutor(1) as pool:
        retried = pool.submit(get_killmails_killmail_id_killmail_hash.sync, 1, "h", client=limited)
        deadline = time.monotonic() + 30
        while limited.stats.waits == 0:  # counted once the pause is in Redis and waited for
            assert time.monotonic() < deadline and not retried.done(), "the 429 was never waited for"
            time.sleep(0.01)
        other = client_for(server, max_wait=1, limits=theirs)
        with pytest.raises(RateLimitedError) as held:
            get_killmails_killmail_id_killmail_hash.sync(2, "h", client=other)
        assert held.value.retry_after is not None and held.value.retry_after > 1
        assert retried.result(timeout=30).killmail_id == 1
    assert server.count("/killmails/1/h") == 2 and server.count("/killmails/2/h") == 0
    assert limited.stats.shared_limit_fallbacks == other.stats.shared_limit_fallbacks == 0


def test_without_redis_a_process_keeps_its_own_limits(server: HostileServer) -> None:
    """Redis unreachable: each process falls back to its own limits, which still hold."""
    from esi_client import RedisLimits
    from testbed.servers import free_port

    _first_answered(server, 420, {"X-ESI-Error-Limit-Remain": "0", "X-ESI-Error-Limit-Reset": "30"})
    unreachable = RedisLimits(f"redis://127.0.0.1:{free_port()}/0", app="nowhere")
    client = client_for(server, max_wait=5, limits=unreachable)
    with pytest.raises(ErrorLimitedError):
        get_killmails_killmail_id_killmail_hash.sync(1, "h", client=client)
    with pytest.raises(ErrorLimitedError) as held:
        get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client)
    assert held.value.retry_after is not None and 5 < held.value.retry_after <= 30
    assert server.count("/killmails/2/h") == 0 and client.stats.shared_limit_fallbacks >= 2


def test_a_bare_420_is_taken_to_hold_for_a_minute(server: HostileServer) -> None:
    """A 420 without X-ESI-Error-Limit-Reset: the window is taken to be ESI's full minute."""
    _first_answered(server, 420, {})
    client = client_for(server, clock=ManualClock(), max_wait=5)
    with pytest.raises(ErrorLimitedError) as caught:
        get_killmails_killmail_id_killmail_hash.sync(1, "h", client=client)
    assert caught.value.retry_after == 60.0
    with pytest.raises(ErrorLimitedError) as held:
        get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client)
    assert held.value.retry_after == 60.0 and server.count("/killmails/2/h") == 0


def test_a_420_whose_window_already_reset_holds_nothing(server: HostileServer) -> None:
    _first_answered(server, 420, {"X-ESI-Error-Limit-Remain": "0", "X-ESI-Error-Limit-Reset": "0"})
    clock = ManualClock()
    client = client_for(server, clock=clock, max_wait=5)
    with pytest.raises(ErrorLimitedError) as caught:
        get_killmails_killmail_id_killmail_hash.sync(1, "h", client=client)
    assert caught.value.retry_after == 0.0
    assert get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client).killmail_id == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("redis_up", [True, False], ids=["redis", "redis-down"])
def test_a_429_for_a_character_holds_only_that_characters_bucket_in_the_fleet(
    fake_esi: FakeESIServer,
    make_client: ClientFactory,
    esi_clock: ManualClock,
    tmp_path: Path,
    redis_url: str,
    redis_up: bool,
) -> None:
    """ESI's bucket for an authenticated call is the (group, application + character)'s: a 429
    for one character holds that character's calls in every process of the app, not the other
    character's. With Redis down, each process holds its own the same way."""
    from esi_client import RedisLimits
    from testbed.servers import free_port

    setup = make_setup(fake_esi, esi_clock, tmp_path)
    fake_esi.sso.character = Character(90000101, "First Pilot", "owner-101")
    first = setup.log_in()
    fake_esi.sso.character = Character(90000102, "Second Pilot", "owner-102")
    second = setup.log_in()
    app = f"characters-{uuid.uuid4().hex[:8]}"
    url = redis_url if redis_up else f"redis://127.0.0.1:{free_port()}/0"
    mine = make_client(auth=setup.auth, max_wait=5, limits=RedisLimits(url, app=app))
    wallet = get_operation("get_characters_character_id_wallet")
    fake_esi.state.faults.forced = [ForcedReply(429, count=1, retry_after=600)]
    with pytest.raises(RateLimitedError) as caught:
        get_characters_character_id_wallet.sync(first.character_id, client=mine)
    assert caught.value.retry_after is not None and caught.value.retry_after > 500
    sent = fake_esi.state.stats.count(wallet.id)
    assert isinstance(get_characters_character_id_wallet.sync(second.character_id, client=mine), float)
    with pytest.raises(RateLimitedError):
        get_characters_character_id_wallet.sync(first.character_id, client=mine)
    assert fake_esi.state.stats.count(wallet.id) == sent + 1  # the second character's call only
    assert esi_clock.sleeps == []
    if not redis_up:
        assert mine.stats.shared_limit_fallbacks > 0
        return
    theirs = make_client(auth=setup.auth, max_wait=5, limits=RedisLimits(url, app=app))
    with pytest.raises(RateLimitedError):
        get_characters_character_id_wallet.sync(first.character_id, client=theirs)
    assert isinstance(get_characters_character_id_wallet.sync(second.character_id, client=theirs), float)
    assert mine.stats.shared_limit_fallbacks == theirs.stats.shared_limit_fallbacks == 0
    # The keys are the fleet's contract (processes of two esikit versions share them in a
    # rolling upgrade): a bucket per group and principal, the error budget per scope.
    import redis

    assert wallet.rate_limit is not None
    group, client_id = wallet.rate_limit.group, setup.auth.refresher.sso.config.client_id
    principal = f"{client_id}/{second.character_id}"
    budget, buckets = RedisLimits(url, app=app).bind(10, 16, ClientStats())
    _, lease = buckets.reserve(wallet, principal, 0.0)  # slots in hand: their leases are kept too
    _, error_lease = budget.reserve(0.0)
    killmail = get_operation("get_killmails_killmail_id_killmail_hash")
    assert killmail.rate_limit is not None
    _, public_lease = buckets.reserve(killmail, None, 0.0)  # a public call: the source IP's bucket
    found = set(redis.Redis.from_url(redis_url, decode_responses=True).keys(f"esikit:limits:{app}:*"))
    base = f"esikit:limits:{app}:"
    parts = ("state", "leases", "spent", "reserved")  # spends by answer, and by reservation
    assert {f"{base}rate:{group}:{principal}:{part}" for part in parts} <= found, sorted(found)
    assert f"{base}rate:{killmail.rate_limit.group}:ip:{socket.gethostname()}:leases" in found, sorted(found)
    assert f"{base}rate:{group}:{client_id}/{first.character_id}:state" in found, sorted(found)
    assert {f"{base}errors:{socket.gethostname()}:{part}" for part in ("state", "leases")} <= found, sorted(
        found
    )
    buckets.settle(wallet, principal, 0.0, None, lease)
    buckets.settle(killmail, None, 0.0, None, public_lease)
    budget.settle(0.0, None, error_lease)


def test_with_redis_down_each_slot_goes_back_to_the_bucket_it_came_from() -> None:
    """A character's calls while Redis is down take and give back that character's slots in the
    process's own bucket: a slot given back elsewhere would, call by call, fill the bucket with
    requests that are not in flight until none could be sent."""
    from esi_client import RedisLimits
    from testbed.servers import free_port

    wallet = get_operation("get_characters_character_id_wallet")
    down = RedisLimits(f"redis://127.0.0.1:{free_port()}/0", app=f"{DOWN}{uuid.uuid4().hex[:8]}")
    stats = ClientStats()
    _, buckets = down.bind(10, 16, stats)
    plenty = httpx2.Headers(_rate(140))  # as the client hands them on: case-insensitive
    for call in range(100):
        wait, lease = buckets.reserve(wallet, "app/90000101", float(call))
        assert wait == 0, f"call {call} was held"
        buckets.settle(wallet, "app/90000101", float(call), plenty, lease)
    assert stats.shared_limit_fallbacks == 100  # each reserve fell back; a local slot is settled locally
    _, lease = buckets.reserve(wallet, "app/90000101", 100.0)
    buckets.settle(wallet, "app/90000101", 100.0, httpx2.Headers(_rate(7)), lease)  # the room kept for a 4xx
    wait, _ = buckets.reserve(wallet, "app/90000101", 101.0)
    assert wait > 0, "the answer was counted in another bucket than the character's"
    assert buckets.reserve(wallet, "app/90000102", 101.0)[0] == 0  # another character's is its own


@pytest.mark.parametrize(("remain", "waits"), [(4, False), (3, True)])
def test_the_error_threshold_is_the_clients(
    server: HostileServer, limits: dict[str, RedisLimits], remain: int, waits: bool
) -> None:
    """`error_threshold=3`: 4 errors left may be risked by one request, 3 may not."""
    server.on("*", lambda _request, conn: answer(conn, 200, KILLMAIL, _errors(remain)))
    client = client_for(server, clock=ManualClock(), max_wait=30, error_threshold=3, **limits)
    get_killmails_killmail_id_killmail_hash.sync(1, "h", client=client)
    if not waits:
        assert get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client).killmail_id == 1
        assert _kept_by_redis(client, limits)
        return
    with pytest.raises(ErrorLimitedError) as refused:
        get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client)
    assert refused.value.retry_after is not None and refused.value.retry_after > 30
    assert server.count("/killmails/2/h") == 0 and _kept_by_redis(client, limits)


def test_an_error_count_without_its_reset_is_not_believed(
    server: HostileServer, limits: dict[str, RedisLimits]
) -> None:
    """X-ESI-Error-Limit-Remain without -Reset says nothing of when the window ends: ignored
    (not a stuck budget, and not a script error that un-shares the fleet's limits)."""
    server.on("*", lambda _request, conn: answer(conn, 200, KILLMAIL, {"X-ESI-Error-Limit-Remain": "0"}))
    client = _client(server, limits)
    for killmail_id in (1, 2, 3):
        get_killmails_killmail_id_killmail_hash.sync(killmail_id, "h", client=client)
    assert server.count("/killmails/3/h") == 1 and _kept_by_redis(client, limits)


@pytest.mark.parametrize(
    ("status", "headers"),
    [(429, {"Retry-After": "0"}), (420, {"X-ESI-Error-Limit-Remain": "0", "X-ESI-Error-Limit-Reset": "0"})],
    ids=["429-retry-after-0", "420-reset-0"],
)
def test_a_limit_that_is_already_over_holds_nothing(
    server: HostileServer, limits: dict[str, RedisLimits], status: int, headers: dict[str, str]
) -> None:
    """ESI's wait of 0 s is no wait, in the fleet too (on Redis's clock, so in real time here)."""
    _first_answered(server, status, headers)
    client = client_for(server, max_wait=30, **limits)
    try:
        get_killmails_killmail_id_killmail_hash.sync(1, "h", client=client)
    except ErrorLimitedError as limited:  # a 420 is raised (it counts against the app), a 429 retried
        assert status == 420 and limited.retry_after == 0.0
    assert get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client).killmail_id == 1
    assert client.stats.waits == 0 and _kept_by_redis(client, limits)


def test_a_lone_request_finds_out_whether_tokens_came_back(
    server: HostileServer, limits: dict[str, RedisLimits]
) -> None:
    """5 tokens left, none spent by this client (another of the app's clients spent them): one
    request goes alone to find out, and its answer is believed even though it is higher (the
    tokens came back); the calls after it go on."""
    found_out = {**_rate(5), "X-Ratelimit-Used": "0"}
    answers = iter([found_out, _rate(100)])
    server.on("*", lambda _request, conn: answer(conn, 200, KILLMAIL, next(answers, _rate(98))))
    client = _client(server, limits)
    for killmail_id in (1, 2, 3, 4):
        assert get_killmails_killmail_id_killmail_hash.sync(killmail_id, "h", client=client).killmail_id == 1
    assert client.stats.waits == 0 and _kept_by_redis(client, limits)


@pytest.mark.parametrize(
    ("status", "headers", "kind", "said"),
    [
        (420, {"X-ESI-Error-Limit-Remain": "0", "X-ESI-Error-Limit-Reset": "7"}, ErrorLimitedError, "7.0"),
        (429, {"Retry-After": "10"}, RateLimitedError, "10"),
        (429, {"Retry-After": "600"}, RateLimitedError, "600"),
    ],
)
def test_a_call_held_by_a_limit_says_which_and_for_how_long(
    server: HostileServer, status: int, headers: dict[str, str], kind: type[ESIResponseError], said: str
) -> None:
    """Raised without a request: ESI's status for that limit, and the wait (tenths under 10 s)."""
    _first_answered(server, status, headers)
    client = client_for(server, clock=ManualClock(), max_wait=5)
    with pytest.raises(kind):
        get_killmails_killmail_id_killmail_hash.sync(1, "h", client=client)
    with pytest.raises(kind) as held:
        get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client)
    limit = "error limit" if status == 420 else "rate limit"
    assert held.value.status == status and held.value.sent is False
    assert f"the {limit} allows the next request in {said} s, more than max_wait (5 s)" in str(held.value)
    assert server.count("/killmails/2/h") == 0


def test_an_operation_without_a_rate_limit_group_takes_no_bucket(
    server: HostileServer, limits: dict[str, RedisLimits]
) -> None:
    """An operation without `x-rate-limit` (GetAlliances): only the error budget gates it, even
    when ESI sends rate headers."""
    from esi_client.api.alliance import get_alliances

    assert get_operation("get_alliances").rate_limit is None
    server.on("*", lambda _request, conn: answer(conn, 200, [99000001], _rate(0)))
    client = _client(server, limits)
    for _ in range(3):
        assert get_alliances.sync(client=client) == [99000001]
    assert server.count("/alliances") == 3 and client.stats.waits == 0 and _kept_by_redis(client, limits)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-ESI-Error-Limit-Remain": "0000000005", "X-ESI-Error-Limit-Reset": "30"},
        {"X-Ratelimit-Limit": "150/15m", "X-Ratelimit-Remaining": "0000000005", "X-Ratelimit-Used": "2"},
    ],
    ids=["errors", "rate"],
)
def test_a_count_of_more_than_9_digits_is_unreadable(
    server: HostileServer, limits: dict[str, RedisLimits], headers: dict[str, str]
) -> None:
    """Ten characters, even zero-padded: no budget that large, so not believed (it would hold)."""
    server.on("*", lambda _request, conn: answer(conn, 200, KILLMAIL, headers))
    client = _client(server, limits)
    for killmail_id in (1, 2, 3):
        get_killmails_killmail_id_killmail_hash.sync(killmail_id, "h", client=client)
    assert server.count("/killmails/3/h") == 1 and client.stats.waits == 0 and _kept_by_redis(client, limits)


def test_limits_kept_through_the_apps_own_redis_client(server: HostileServer, redis_url: str) -> None:
    """RedisLimits takes a redis.Redis the app already has, even one that decodes answers to str."""
    import redis

    from esi_client import RedisLimits

    own = redis.Redis.from_url(redis_url, decode_responses=True)
    limits = {"limits": RedisLimits(own, app=f"own-client-{uuid.uuid4().hex[:8]}")}
    server.on("*", lambda _request, conn: answer(conn, 200, KILLMAIL, _rate(7)))  # the room kept for a 4xx
    client = _client(server, limits)
    get_killmails_killmail_id_killmail_hash.sync(1, "h", client=client)
    with pytest.raises(RateLimitedError) as refused:
        get_killmails_killmail_id_killmail_hash.sync(2, "h", client=client)
    assert refused.value.retry_after is not None and refused.value.retry_after > WINDOW / 2
    assert server.count("/killmails/2/h") == 0 and _kept_by_redis(client, limits)


@pytest.mark.parametrize(("retry_after", "waited"), [(10, [10.0]), (11, [])])
def test_a_wait_past_the_deadline_is_not_begun(
    server: HostileServer, retry_after: int, waited: list[float]
) -> None:
    """deadline=10: a 429's wait of 10 s ends at the deadline and is waited (then nothing is
    left for the retry); one of 11 s would end past it, so the call ends at once."""
    from esi_client import DeadlineExceededError
    from esi_client.api.alliance import get_alliances

    _first_answered(server, 429, {"Retry-After": str(retry_after)})
    clock = ManualClock()
    client = client_for(server, clock=clock, max_wait=60, deadline=10)
    with pytest.raises(DeadlineExceededError) as ended:
        get_alliances.sync(client=client)
    assert clock.sleeps == waited and server.count("/alliances") == 1
    said = "before the next attempt" if retry_after == 10 else "before a wait of 11.0 s (HTTP 429)"
    assert (
        str(ended.value)
        == f"GetAlliances: the call's deadline (10 s for every attempt and wait) passed {said}"
    )


def test_a_retry_with_half_a_second_of_its_deadline_left_is_sent(server: HostileServer) -> None:
    from esi_client.api.alliance import get_alliances

    limited = iter([True])

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        if next(limited, False):
            answer(conn, 429, {"error": "limited"}, {"Retry-After": "9"})
        else:
            answer(conn, 200, [99000001])

    server.on("*", handle)
    clock = ManualClock()
    client = client_for(server, clock=clock, max_wait=60, deadline=9.5)
    assert get_alliances.sync(client=client) == [99000001]
    assert clock.sleeps == [9.0] and server.count("/alliances") == 2


def test_while_the_error_budget_is_unknown_max_concurrency_requests_go_at_once(
    server: HostileServer, limits: dict[str, RedisLimits]
) -> None:
    """No error-limit headers yet: up to max_concurrency (20 here, more than the default 16)
    requests are in flight together, in one process and across the fleet's."""
    together = threading.Barrier(20, timeout=20)

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        together.wait()  # answers only once all 20 are in flight
        answer(conn, 200, KILLMAIL, {})

    server.on("*", handle)
    client = client_for(server, max_concurrency=20, **limits)
    with ThreadPoolExecutor(20) as pool:
        calls = [
            pool.submit(get_killmails_killmail_id_killmail_hash.sync, killmail_id, "h", client=client)
            for killmail_id in range(20)
        ]
        assert [call.result(timeout=60).killmail_id for call in calls] == [1] * 20
    assert _kept_by_redis(client, limits)


def test_a_bucket_keeps_the_size_esi_said_when_a_later_answer_omits_it(
    server: HostileServer, limits: dict[str, RedisLimits]
) -> None:
    """ESI said 150/15m (the spec says 3600/15m for killmails): 100 left is far above the room
    kept for a 4xx in 150 (7), though not in 3600 (180), even after an answer without the size."""
    answers = iter([_rate(120), {"X-Ratelimit-Remaining": "100", "X-Ratelimit-Used": "2"}])
    server.on("*", lambda _request, conn: answer(conn, 200, KILLMAIL, next(answers, _rate(98))))
    client = _client(server, limits)
    for killmail_id in (1, 2, 3):
        get_killmails_killmail_id_killmail_hash.sync(killmail_id, "h", client=client)
    assert server.count("/killmails/3/h") == 1 and client.stats.waits == 0 and _kept_by_redis(client, limits)


# The gates themselves, at their boundaries (a process's own limits; the fleet's are the same
# rules in Lua, checked above through the client). `now` is a plain number: no clock runs.
KILLMAILS = "get_killmails_killmail_id_killmail_hash"


def _slots_that_go(buckets: Any, now: float, principal: str | None = None) -> int:
    """How many requests may be in flight together at `now` (each reserve keeps its slot)."""
    operation = get_operation(KILLMAILS)
    for taken in range(1000):
        wait, _ = buckets.reserve(operation, principal, now)
        if wait:
            return taken
    raise AssertionError("the bucket never held a request")


def test_while_the_error_budget_is_unknown_exactly_max_concurrency_slots_go() -> None:
    from esi_client.runtime.limits.local import ErrorBudget

    budget = ErrorBudget(threshold=10, unknown_concurrency=4)
    assert [budget.reserve(0.0)[0] for _ in range(5)] == [0, 0, 0, 0, pytest.approx(0.005)]
    budget.settle(0.0, None)
    assert budget.reserve(0.0)[0] == 0  # one came back: one more goes


def test_slots_in_flight_count_twice_against_what_is_left() -> None:
    """20 left, 7 kept for a 4xx (5 % of 150), and each request in flight may spend 2: seven go
    together (20 - 2 * 6 = 8 > 7), the eighth waits for one of them."""
    from esi_client.runtime.limits.local import RateBuckets

    buckets = RateBuckets()
    operation = get_operation(KILLMAILS)
    _, lease = buckets.reserve(operation, None, 0.0)
    buckets.settle(operation, None, 0.0, httpx2.Headers(_rate(20)), lease)
    assert _slots_that_go(buckets, 1.0) == 7


def test_at_the_instant_a_429_pause_ends_slots_are_counted_as_ever() -> None:
    from esi_client.runtime.limits.local import RateBuckets

    buckets = RateBuckets()
    operation = get_operation(KILLMAILS)
    buckets.pause(operation, None, 0.0, 5.0)
    assert buckets.reserve(operation, None, 4.5)[0] == pytest.approx(0.5)
    wait, retry = buckets.reserve(operation, None, 5.0)  # the retry, at the very instant
    assert wait == 0
    buckets.settle(operation, None, 5.0, httpx2.Headers(_rate(20)), retry)
    assert _slots_that_go(buckets, 5.0) == 7  # the retry's slot came back, and only it


def test_a_lone_probe_holds_the_others_and_leaves_the_count_as_it_found_it() -> None:
    """At the floor with nothing of ours spent, one request goes alone to find out; when it is
    answered (tokens came back) the slots are counted from zero again."""
    from esi_client.runtime.limits.local import RateBuckets

    buckets = RateBuckets()
    operation = get_operation(KILLMAILS)
    _, lease = buckets.reserve(operation, None, 0.0)
    buckets.settle(operation, None, 0.0, httpx2.Headers({**_rate(5), "X-Ratelimit-Used": "0"}), lease)
    wait, probe = buckets.reserve(operation, None, 1.0)
    assert wait == 0 and buckets.reserve(operation, None, 1.0)[0] == pytest.approx(0.005)
    buckets.settle(operation, None, 1.0, httpx2.Headers({**_rate(20), "X-Ratelimit-Used": "0"}), probe)
    assert _slots_that_go(buckets, 2.0) == 7


def _answered(buckets: Any, at: float, left: int, lease: object) -> None:
    """An answer at `at` from a small bucket (40 tokens a 10-s window): 2 spent, `left` left."""
    headers = {"X-Ratelimit-Limit": "40/10s", "X-Ratelimit-Used": "2", "X-Ratelimit-Remaining": str(left)}
    buckets.settle(get_operation(KILLMAILS), None, at, httpx2.Headers(headers), lease)


def _slow_spend_then_believed_at(believed_at: float) -> Any:
    """Y, reserved at 0, answered at 3 (28 left) after X, reserved at 2, answered at 2.1 (30
    left); then a request answered at `believed_at` with 5 left (the lowest: believed)."""
    from esi_client.runtime.limits.local import RateBuckets

    buckets = RateBuckets()
    operation = get_operation(KILLMAILS)
    _, slow = buckets.reserve(operation, None, 0.0)
    _, fast = buckets.reserve(operation, None, 2.0)
    _answered(buckets, 2.1, 30, fast)
    _answered(buckets, 3.0, 28, slow)
    _, last = buckets.reserve(operation, None, believed_at)
    _answered(buckets, believed_at, 5, last)
    return buckets


def test_a_slow_spend_answered_after_a_younger_one_is_not_returned_twice() -> None:
    """Spends are held in the order they were answered, not reserved: Y, reserved at 0 but
    answered at 3, comes after X (reserved at 2, answered at 2.1). An answer believed at 10.5
    already counts Y's tokens as given back (reserved a window ago), not X's; so at 13.5 only
    X's have come back (7 left: one slot above the 5 kept), never Y's a second time (9: two)."""
    buckets = _slow_spend_then_believed_at(10.5)
    assert _slots_that_go(buckets, 12.0) == 0  # X comes back at 12.1
    assert _slots_that_go(buckets, 13.5) == 1


def test_a_slow_spend_is_forgotten_after_a_younger_one_came_back() -> None:
    """As above, but X (answered first) has come back before the answer at 12.5 is believed:
    Y, still held, is already in that count and never comes back at 13 (5 left: none go)."""
    buckets = _slow_spend_then_believed_at(12.5)  # X's 2 came back at 12.1
    assert _slots_that_go(buckets, 13.5) == 0


def test_spends_leaving_the_window_together_all_come_back() -> None:
    """Two answers, 2 tokens each, leave the window by the same moment: both come back (32 left,
    so fourteen go together: 32 - 2 * 13 = 6 > 5), not only the last one's."""
    from esi_client.runtime.limits.local import RateBuckets

    buckets = RateBuckets()
    for at, left in ((0.0, 30), (0.5, 28)):
        _, lease = buckets.reserve(get_operation(KILLMAILS), None, at)
        _answered(buckets, at, left, lease)
    assert _slots_that_go(buckets, 11.0) == 14


def test_what_is_left_is_told_per_principal() -> None:
    """A character's bucket is its own: what is left in it says nothing of the public one."""
    from esi_client.runtime.limits.local import RateBuckets

    buckets = RateBuckets()
    operation = get_operation(KILLMAILS)
    _, lease = buckets.reserve(operation, "app/90000001", 0.0)
    buckets.settle(operation, "app/90000001", 0.0, httpx2.Headers(_rate(20)), lease)
    assert buckets.remaining(operation, "app/90000001") == 20
    assert buckets.remaining(operation, None) is None


def test_an_answer_no_lower_than_the_count_is_not_believed() -> None:
    """Answers arrive out of order, so only a lower count is believed. One equal to the count
    (an older answer arriving late) leaves the tokens spent a window ago to come back."""
    from esi_client.runtime.limits.local import RateBuckets

    buckets = RateBuckets()
    operation = get_operation(KILLMAILS)
    _, spent = buckets.reserve(operation, None, 0.0)
    buckets.settle(operation, None, 0.0, httpx2.Headers(_rate(10)), spent)  # 2 spent at 0
    _, late = buckets.reserve(operation, None, 100.0)
    buckets.settle(operation, None, 950.0, httpx2.Headers({**_rate(10), "X-Ratelimit-Used": "0"}), late)
    # the 2 spent at 0 have left the window: 12 left, so three go together (12 - 2 * 2 = 8 > 7)
    assert _slots_that_go(buckets, 951.0) == 3


def _errors_slots(budget: Any, now: float) -> int:
    for taken in range(1000):
        if budget.reserve(now)[0]:
            return taken
    raise AssertionError("the error budget never held a request")


@pytest.mark.parametrize(
    ("later", "believed"),
    [
        (1.5, 20),  # its window resets 1.5 s later: the same window (seconds are whole, answers late)
        (2.0, 90),  # 2 s later: a new window, whose count is believed even though it is higher
    ],
)
def test_an_error_count_is_believed_higher_only_in_a_new_window(later: float, believed: int) -> None:
    from esi_client.runtime.limits.local import ErrorBudget

    budget = ErrorBudget(threshold=10)
    budget.reserve(0.0)
    budget.settle(0.0, httpx2.Headers(_errors(20) | {"X-ESI-Error-Limit-Reset": "10"}))
    budget.reserve(later)
    budget.settle(later, httpx2.Headers(_errors(90) | {"X-ESI-Error-Limit-Reset": "10"}))
    assert _errors_slots(budget, later) == believed - 10  # the threshold's 10 are never spent


def test_an_error_window_said_to_reset_now_holds_nothing() -> None:
    from esi_client.runtime.limits.local import ErrorBudget

    budget = ErrorBudget(threshold=10)
    budget.reserve(0.0)
    budget.settle(0.0, httpx2.Headers(_errors(3) | {"X-ESI-Error-Limit-Reset": "0"}))
    assert budget.reserve(0.0)[0] == 0


def test_with_the_cache_off_a_characters_429_still_holds_only_its_own_bucket(
    fake_esi: FakeESIServer, make_client: ClientFactory, esi_clock: ManualClock, tmp_path: Path
) -> None:
    """The principal a bucket belongs to does not come from the cache: without one, the
    characters' buckets are still theirs, not the public one."""
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    fake_esi.sso.character = Character(90000101, "First Pilot", "owner-101")
    first = setup.log_in()
    fake_esi.sso.character = Character(90000102, "Second Pilot", "owner-102")
    second = setup.log_in()
    client = make_client(auth=setup.auth, max_wait=5, cache=False)
    fake_esi.state.faults.forced = [ForcedReply(429, count=1, retry_after=600)]
    with pytest.raises(RateLimitedError):
        get_characters_character_id_wallet.sync(first.character_id, client=client)
    assert isinstance(get_characters_character_id_wallet.sync(second.character_id, client=client), float)
    with pytest.raises(RateLimitedError):
        get_characters_character_id_wallet.sync(first.character_id, client=client)
