"""The limit rules the guides state, each checked at its boundary, for a process's own limits
and for the fleet's in Redis: answers arriving out of order are believed only at their lowest,
and a rate bucket keeps room for a 4xx (5 tokens, or 5 % of a large bucket)."""

from __future__ import annotations

import socket
import threading
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

import pytest

from esi_client import ErrorLimitedError, ESIError, RateLimitedError
from esi_client.api.killmails import get_killmails_killmail_id_killmail_hash
from esi_client.clock import ManualClock
from tests.hostile_server import HostileServer, RawRequest, answer, client_for

KILLMAIL = {
    "attackers": [{"damage_done": 1, "final_blow": True, "security_status": 0.5}],
    "killmail_id": 1,
    "killmail_time": "2026-01-01T00:00:00Z",
    "solar_system_id": 30000142,
    "victim": {"damage_taken": 1, "ship_type_id": 587},
}
WINDOW = 900  # the killmail group's, in X-Ratelimit-Limit below


def _rate(remaining: int, limit: int = 150) -> dict[str, str]:
    return {
        "X-Ratelimit-Limit": f"{limit}/15m",
        "X-Ratelimit-Remaining": str(remaining),
        "X-Ratelimit-Used": "2",
    }


def _errors(remain: int) -> dict[str, str]:
    return {"X-ESI-Error-Limit-Remain": str(remain), "X-ESI-Error-Limit-Reset": "60"}


@pytest.fixture(params=["local", "shared"])
def limits(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The client options of a process keeping its own limits, or of one keeping the fleet's."""
    if request.param == "local":
        return {}
    from esi_client import RedisLimits

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
    """The shared limits were Redis's throughout (a fallback to local ones would hide a fault)."""
    return "limits" not in options or client.stats.shared_limit_fallbacks == 0


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


def test_rate_answers_are_believed_at_their_lowest(server: HostileServer, limits: dict[str, Any]) -> None:
    """6 tokens left arrives first, 140 (an older answer) after it: 6 is believed, and 6 is
    under the room kept for a 4xx, so the third request waits for spent tokens to return."""
    release_stale = _out_of_order(server, stale=_rate(140), newest=_rate(6))
    refused = _two_at_once_then_one(server, limits, release_stale)
    assert isinstance(refused, RateLimitedError), refused
    assert refused.retry_after is not None and refused.retry_after > WINDOW / 2


def test_error_answers_are_believed_at_their_lowest(server: HostileServer, limits: dict[str, Any]) -> None:
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
    server: HostileServer, limits: dict[str, Any], limit: int, remaining: int, waits: bool
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
