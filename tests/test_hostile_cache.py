"""The cache never hands one caller's answer to another, and never trusts what it cannot read."""

from __future__ import annotations

import email.utils
import json
import logging
import re
import socket
import sqlite3
import time
from collections.abc import Callable, Generator
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
import pytest

from esi_client import BadResponseError, ESIClient
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.status import get_status
from esi_client.api.universe import get_universe_types_type_id
from esi_client.api.wallet import get_corporations_corporation_id_wallets
from esi_client.cache_stores import SQLiteCache
from esi_client.clock import ManualClock
from esi_client.runtime.cache.memory import ResponseCache, StoredResponse
from tests.support.hostile_server import HostileServer, RawRequest, answer, hostile_server, replies

STATUS = {"players": 1, "server_version": "1", "start_time": "2026-01-01T00:00:00Z"}
FRESH = {"Cache-Control": "max-age=300", "ETag": '"e1"'}


def client_for(url: str, **options: Any) -> ESIClient:
    return ESIClient(app_name="hostile-tests", contact="tests@example.invalid", base_url=url, **options)


def _type(name: str) -> dict[str, Any]:
    return {"description": "d", "group_id": 1, "name": name, "published": True, "type_id": 34}


def test_language_tenant_date_and_server_are_in_the_key(server: HostileServer, tmp_path: Path) -> None:
    def named(request: RawRequest, conn: socket.socket) -> None:
        where = f"{request.headers.get('accept-language')}/{request.headers.get('x-tenant')}"
        answer(conn, 200, _type(f"{where}/{request.headers.get('x-compatibility-date')}"), FRESH)

    server.on("/universe/types/34", named)
    for shared in (ResponseCache(), SQLiteCache(tmp_path / "cache.sqlite")):
        clients = {
            "de": client_for(server.url, language="de", cache=shared),
            "en": client_for(server.url, language="en", cache=shared),
            "sisi": client_for(server.url, language="en", tenant="singularity", cache=shared),
            "old": client_for(server.url, language="en", compatibility_date="2025-01-01", cache=shared),
        }
        names = {key: get_universe_types_type_id.sync(34, client=c).name for key, c in clients.items()}
        assert names["de"].startswith("de/") and names["en"].startswith("en/tranquility")
        assert "singularity" in names["sisi"] and names["old"].endswith("2025-01-01")
    with hostile_server() as other:
        other.on("/universe/types/34", replies(200, _type("other server"), FRESH))
        shared = ResponseCache()
        get_universe_types_type_id.sync(34, client=client_for(server.url, cache=shared))
        assert (
            get_universe_types_type_id.sync(34, client=client_for(other.url, cache=shared)).name
            == "other server"
        )


def test_two_different_queries_never_share_a_key(server: HostileServer) -> None:
    """The key's query is the URL's own: `after="x&before=y"` is one value, not two parameters."""
    from esi_client.api.freelance_jobs import get_freelance_jobs_listing
    from esi_client.models.freelance_jobs_listing import FreelanceJobsListing
    from esi_client.types import Response

    def echoed(request: RawRequest, conn: socket.socket) -> None:
        answer(conn, 200, {"freelance_jobs": [], "cursor": {"after": request.path}}, FRESH)

    server.on("/freelance-jobs", echoed)
    client = client_for(server.url)
    listing = partial(get_freelance_jobs_listing.sync_detailed, client=client)
    calls = [
        partial(listing, after="x&before=y"),
        partial(listing, after="x", before="y"),
        partial(listing, after="x=1"),
    ]

    def sent(call: Callable[[], Response[FreelanceJobsListing]]) -> tuple[bool, str]:
        """Whether the answer came from the cache, and the request it answered."""
        response = call()
        assert response.parsed is not None and response.parsed.cursor
        return response.from_cache, str(response.parsed.cursor.after)

    first = [sent(call) for call in calls]
    assert not any(cached for cached, _ in first) and len({path for _, path in first}) == 3
    assert [sent(call) for call in calls] == [(True, path) for _, path in first]
    assert server.count("/freelance-jobs") == 3


class _Bearer(httpx2.Auth):
    """An auth of the user's own: the runtime cannot know whose token it sends."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def test_another_auth_never_shares_authenticated_answers(server: HostileServer) -> None:
    def wallets(request: RawRequest, conn: socket.socket) -> None:
        balance = 1.0 if request.headers["authorization"].endswith("A") else 2.0
        answer(conn, 200, [{"balance": balance, "division": 1}], FRESH)

    server.on("/corporations/98000001/wallets", wallets)
    shared = ResponseCache()
    alice = client_for(server.url, cache=shared, auth=_Bearer("A"))
    bob = client_for(server.url, cache=shared, auth=_Bearer("B"))
    assert get_corporations_corporation_id_wallets.sync(98000001, client=alice)[0].balance == 1.0
    assert get_corporations_corporation_id_wallets.sync(98000001, client=bob)[0].balance == 2.0
    assert server.count("/corporations/98000001/wallets") == 2


def test_a_caller_cannot_change_what_the_next_caller_gets(server: HostileServer) -> None:
    from tests.test_hostile_paging import order

    server.on("/markets/10000002/orders", replies(200, [order(n) for n in range(3)], FRESH))
    client = client_for(server.url)
    orders = get_markets_region_id_orders.sync(10000002, client=client)
    orders[0].price = 0.0
    orders.clear()
    again = get_markets_region_id_orders.sync(10000002, client=client)
    assert len(again) == 3 and again[0].price == 5.5
    assert server.count("/markets/10000002/orders") == 1


def test_an_unreadable_stored_entry_is_a_counted_miss(server: HostileServer, tmp_path: Path) -> None:
    server.on("/status", replies(200, STATUS, FRESH))
    path = tmp_path / "cache.sqlite"
    get_status.sync(client=client_for(server.url, cache=SQLiteCache(path)))
    with sqlite3.connect(path) as db:  # as an older version, or a broken disk, might leave it
        db.execute("UPDATE esi_cache SET body = ?", (b'{"players": "many"}',))
    fresh = client_for(server.url, cache=SQLiteCache(path))
    assert get_status.sync(client=fresh).players == 1
    assert server.count("/status") == 2
    assert fresh.cache is not None and fresh.cache.store_errors == 1


def test_a_stored_entry_that_does_not_decode_is_named_in_the_warning(
    server: HostileServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.on("/status", replies(200, STATUS, FRESH))
    path = tmp_path / "cache.sqlite"
    get_status.sync(client=client_for(server.url, cache=SQLiteCache(path)))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE esi_cache SET body = ?", (b'{"players": "many"}',))
    assert get_status.sync(client=client_for(server.url, cache=SQLiteCache(path))).players == 1
    (warned,) = [r.getMessage() for r in caplog.records if "is unusable" in r.getMessage()]
    assert "(GetStatus: response does not match the spec at players: expected integer, got 'many')" in warned


def test_a_raw_call_answered_from_another_clients_store_has_nothing_parsed(
    server: HostileServer, tmp_path: Path
) -> None:
    server.on("/status", replies(200, STATUS, FRESH))
    path = tmp_path / "cache.sqlite"
    get_status.sync(client=client_for(server.url, cache=SQLiteCache(path)))
    raw: Any = client_for(server.url, cache=SQLiteCache(path)).send(
        get_status.OPERATION, {"url": "/status"}, None
    )
    assert raw.from_cache and raw.parsed is None and server.count("/status") == 1


@pytest.mark.parametrize("control", ["Max-Age=300", "public, MAX-AGE=300"])
def test_cache_control_is_read_case_insensitively(server: HostileServer, control: str) -> None:
    server.on("/status", replies(200, STATUS, {"Cache-Control": control}))
    client = client_for(server.url)
    get_status.sync(client=client)
    assert get_status.sync_detailed(client=client).from_cache
    assert server.count("/status") == 1


def test_no_store_is_never_kept(server: HostileServer, tmp_path: Path) -> None:
    server.on("/status", replies(200, STATUS, {"Cache-Control": "no-store, max-age=300", "ETag": '"x"'}))
    store = SQLiteCache(tmp_path / "cache.sqlite")
    client = client_for(server.url, cache=store)
    get_status.sync(client=client)
    get_status.sync(client=client)
    assert server.count("/status") == 2
    assert server.requests[1].headers.get("if-none-match") is None
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        assert db.execute("SELECT count(*) FROM esi_cache").fetchone()[0] == 0


@pytest.mark.parametrize("server_behind", [None, 3600], ids=["no-date-our-clock", "date-an-hour-behind"])
def test_expires_is_counted_from_the_servers_date_or_else_our_clock(
    server: HostileServer, server_behind: int | None
) -> None:
    """Expires minus Date: a server an hour behind ours still gives two minutes of ours. With no
    Date, Expires minus our own clock."""
    clock = ManualClock()
    server_now = clock.now() - (server_behind or 0)
    headers = {"Expires": email.utils.formatdate(server_now + 120, usegmt=True)}
    if server_behind is not None:
        headers["Date"] = email.utils.formatdate(server_now, usegmt=True)
    server.on("/status", replies(200, STATUS, headers))
    client = client_for(server.url, clock=clock)
    get_status.sync(client=client)
    clock.advance(110)
    assert get_status.sync_detailed(client=client).from_cache
    clock.advance(20)
    assert not get_status.sync_detailed(client=client).from_cache
    assert server.count("/status") == 2


@pytest.mark.parametrize("route", ["/status", "/markets/10000002/orders"])
def test_an_empty_body_is_a_bad_response(server: HostileServer, route: str) -> None:
    server.on(route, replies(200, b"", FRESH))
    client = client_for(server.url)
    call = (
        (lambda: get_status.sync(client=client))
        if route == "/status"
        else (lambda: get_markets_region_id_orders.sync(10000002, client=client))
    )
    with pytest.raises(BadResponseError) as caught:
        call()
    assert str(caught.value).endswith("the response body is empty where the spec promises a value")
    assert caught.value.path == ""
    with pytest.raises(BadResponseError):
        call()  # not cached either
    assert server.count(route) == 2


def test_a_stale_304_entry_keeps_serving_its_own_copy(server: HostileServer) -> None:
    calls = iter([200, 304])

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        status = next(calls)
        answer(conn, status, STATUS if status == 200 else b"", {"ETag": '"e1"', "Cache-Control": "max-age=1"})

    server.on("/status", handle)
    clock = ManualClock()
    client = client_for(server.url, clock=clock)
    first = get_status.sync(client=client)
    first.players = 99
    clock.advance(1.1)
    assert get_status.sync(client=client).players == 1


def test_a_sqlite_cache_drops_entries_too_old_to_revalidate_when_opened(tmp_path: Path) -> None:
    """Without it the file grows for ever: entries past the revalidation window go on open."""
    path = tmp_path / "cache.sqlite"
    store = SQLiteCache(path)
    store.save("old", StoredResponse(200, {}, b"[]", '"o"', 0.0))
    store.save("recent", StoredResponse(200, {}, b"[]", '"r"', 0.0))  # stale, but revalidatable
    store.close()
    with sqlite3.connect(path) as db:  # as if written eight days ago
        db.execute("UPDATE esi_cache SET stored_at = ? WHERE key = 'old'", (time.time() - 8 * 86400,))
    reopened = SQLiteCache(path)
    assert reopened.load("old") is None and reopened.load("recent") is not None
    reopened.close()


class _HandEditedStore:
    """A store of the user's own whose one entry is whatever another program left in it."""

    def __init__(self, entry: object) -> None:
        self.entry = entry

    def load(self, key: str) -> Any:
        return self.entry

    def save(self, key: str, response: StoredResponse) -> None:
        return None


def _entry(**changes: Any) -> StoredResponse:
    entry = StoredResponse(200, {"etag": '"e0"'}, json.dumps(STATUS).encode(), '"e0"', 0.0)  # stale
    for name, value in changes.items():
        object.__setattr__(entry, name, value)
    return entry


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"status": 200}, "the store returned a dict, not a StoredResponse"),
        (_entry(status=99), "status 99 is not an HTTP status"),
        (_entry(status=600), "status 600 is not an HTTP status"),
        (_entry(status=True), "status True is not an HTTP status"),
        (_entry(headers={"etag": 5}), "its headers are not text"),
        (_entry(headers=[("etag", "x")]), "its headers are not text"),
        (_entry(body="{}"), "its body is not bytes"),
        (_entry(etag=5), "its ETag 5 is not text"),
        (_entry(fresh_until=float("nan")), "its expiry nan is not a time"),
        (_entry(fresh_until="soon"), "its expiry 'soon' is not a time"),
        (_entry(status=100), ""),
        (_entry(status=599), ""),
    ],
)
def test_a_stored_entry_is_checked_before_it_is_used(
    server: HostileServer, entry: object, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    server.on("/status", replies(200, STATUS, FRESH))
    client = client_for(server.url, cache=ResponseCache(store=_HandEditedStore(entry)))
    assert get_status.sync(client=client).players == 1
    assert client.cache is not None and client.cache.store_errors == (1 if reason else 0)
    warned = [r.getMessage() for r in caplog.records if "is unusable" in r.getMessage()]
    said = [re.sub(r"^cache store entry \S+/status\S* is unusable ", "", line) for line in warned]
    assert said == ([f"({reason}): treated as a miss"] if reason else [])


@pytest.mark.parametrize("etag_on_304", ['"e2"', None], ids=["new-etag", "no-etag"])
def test_a_304_with_a_new_etag_is_revalidated_with_it_next_time(
    server: HostileServer, etag_on_304: str | None
) -> None:
    """A 304 may name the representation anew: the next revalidation sends that ETag, or the one
    kept when the 304 named none."""
    sent: list[str | None] = []
    calls = iter([200, 304, 304])

    def handle(request: RawRequest, conn: socket.socket) -> None:
        sent.append(request.headers.get("if-none-match"))
        status = next(calls)
        etag = '"e1"' if status == 200 else etag_on_304
        answer(
            conn,
            status,
            STATUS if status == 200 else b"",
            {"Cache-Control": "max-age=1", **({"ETag": etag} if etag else {})},
        )

    server.on("/status", handle)
    clock = ManualClock()
    client = client_for(server.url, clock=clock)
    for _ in range(3):
        assert get_status.sync(client=client).players == 1
        clock.advance(1.1)
    assert sent == [None, '"e1"', etag_on_304 or '"e1"']


class _FailingStore:
    """A store of the user's own that answers loads and claims, and fails at `failing`."""

    def __init__(self, failing: str) -> None:
        self.failing = failing

    def _fail(self, action: str) -> None:
        if action == self.failing:
            raise OSError(f"{action} refused")

    def load(self, key: str) -> Any:
        return None

    def save(self, key: str, response: StoredResponse) -> None:
        self._fail("save")

    def claim(self, key: str, seconds: float) -> bool:
        return True

    def release(self, key: str) -> None:
        self._fail("release")


@pytest.mark.parametrize("failing", ["save", "release"])
def test_a_store_failure_is_told_with_what_failed(
    server: HostileServer, caplog: pytest.LogCaptureFixture, failing: str
) -> None:
    server.on("/status", replies(200, STATUS, FRESH))
    client = client_for(server.url, cache=ResponseCache(store=_FailingStore(failing)))
    assert get_status.sync(client=client).players == 1
    (warned,) = [r.getMessage() for r in caplog.records if "cache store failed" in r.getMessage()]
    assert (
        warned.startswith(f"cache store failed ({failing} of ") and f"OSError: {failing} refused)" in warned
    )
    assert client.cache is not None and client.cache.store_errors == 1


def _sequence(answers: list[tuple[int, dict[str, str]]], sent: list[str | None]) -> Any:
    """A status route answering `answers` in turn (a 304 with no body), noting each request's
    If-None-Match."""
    pending = iter(answers)

    def handle(request: RawRequest, conn: socket.socket) -> None:
        sent.append(request.headers.get("if-none-match"))
        status, headers = next(pending)
        answer(conn, status, STATUS if status == 200 else b"", headers)

    return handle


def test_no_cache_is_revalidated_every_time(server: HostileServer) -> None:
    """`no-cache` (RFC 9111 §5.2.2.4): kept, but never answered without asking, whatever max-age says."""
    control = {"Cache-Control": "no-cache, max-age=300", "ETag": '"e1"'}
    sent: list[str | None] = []
    server.on("/status", _sequence([(200, control), (304, control), (304, control)], sent))
    client = client_for(server.url, clock=ManualClock())
    assert not get_status.sync_detailed(client=client).from_cache
    assert get_status.sync_detailed(client=client).from_cache  # the 304's answer, at the same instant
    assert get_status.sync(client=client).players == 1
    assert sent == [None, '"e1"', '"e1"']


def test_a_304_that_says_no_store_is_asked_again(server: HostileServer) -> None:
    sent: list[str | None] = []
    fresh, refused = (
        {"Cache-Control": "max-age=1", "ETag": '"e1"'},
        {"Cache-Control": "no-store, max-age=300"},
    )
    server.on("/status", _sequence([(200, fresh), (304, refused), (200, fresh)], sent))
    clock = ManualClock()
    client = client_for(server.url, clock=clock)
    get_status.sync(client=client)
    clock.advance(2)
    assert get_status.sync_detailed(client=client).from_cache
    assert not get_status.sync_detailed(client=client).from_cache  # the same instant: asked again
    assert len(sent) == 3


@pytest.mark.parametrize("expires", ["past", "0", "not a date"])
def test_an_expires_already_past_or_unreadable_is_stale_at_once(server: HostileServer, expires: str) -> None:
    clock = ManualClock()
    now = email.utils.formatdate(clock.now(), usegmt=True)
    value = email.utils.formatdate(clock.now() - 60, usegmt=True) if expires == "past" else expires
    server.on("/status", replies(200, STATUS, {"Date": now, "Expires": value}))
    client = client_for(server.url, clock=clock)
    for _ in range(2):  # at the same instant
        assert not get_status.sync_detailed(client=client).from_cache
    assert server.count("/status") == 2


@pytest.mark.parametrize(
    "digits", ["1000000000", "9999999999", "99999999999", "9" * 5000, "000000000000000000300"]
)
def test_a_max_age_of_any_length_is_read_and_capped_at_2_to_the_31(
    server: HostileServer, digits: str
) -> None:
    """RFC 9111 §1.2.2: delta-seconds past 2³¹ are taken as 2³¹ (leading zeros are no length)."""
    server.on("/status", replies(200, STATUS, {"Cache-Control": f"max-age={digits}"}))
    clock = ManualClock()
    client = client_for(server.url, clock=clock)
    get_status.sync(client=client)
    lifetime = min(int(digits.lstrip("0")[:12]), 2**31)
    clock.advance(lifetime - 1)
    assert get_status.sync_detailed(client=client).from_cache
    clock.advance(2)
    assert not get_status.sync_detailed(client=client).from_cache
    assert server.count("/status") == 2


@pytest.mark.parametrize("max_age", ["12abc", "\u00b2", "-5", "1.5", "3 0", "", "0x10"])
def test_a_max_age_that_is_not_plain_digits_gives_no_freshness(server: HostileServer, max_age: str) -> None:
    """RFC 9111 §1.2.2: delta-seconds are ASCII digits only; anything else is no lifetime at all."""
    server.on("/status", replies(200, STATUS, {"Cache-Control": f"max-age={max_age}", "ETag": '"e1"'}))
    client = client_for(server.url, clock=ManualClock())
    assert get_status.sync(client=client) is not None
    second = get_status.sync_detailed(client=client)  # at the same instant
    assert not second.from_cache and second.status_code == 200
    assert server.count("/status") == 2
    assert server.requests[1].headers.get("if-none-match") == '"e1"'  # kept, but only to revalidate


@pytest.mark.parametrize(
    ("headers", "kept"),
    [
        ({}, False),  # neither fresh nor revalidatable: nothing to keep
        ({"Cache-Control": "max-age=0"}, False),
        ({"Cache-Control": "max-age=0", "ETag": '"e1"'}, True),  # stale at once, but revalidatable
        ({"Cache-Control": "max-age=1"}, True),  # fresh for a second
    ],
)
def test_an_answer_is_kept_only_when_fresh_or_revalidatable(
    server: HostileServer, headers: dict[str, str], kept: bool
) -> None:
    server.on("/status", replies(200, STATUS, headers))
    client = client_for(server.url, clock=ManualClock())
    get_status.sync(client=client)
    assert client.cache is not None and len(client.cache) == int(kept)
    second = get_status.sync_detailed(client=client)  # at the same instant
    assert second.from_cache == (headers.get("Cache-Control") == "max-age=1")


class _ClaimedElsewhere(_FailingStore):
    """A shared store in which another process holds every key's claim: it stores its answer
    (`answer`) after `polls` looks, or never (None); the claims this process lets go are noted."""

    def __init__(self, answer: StoredResponse | None = None, polls: int = 3) -> None:
        super().__init__(failing="")
        self.answer, self.polls = answer, polls
        self.released: list[str] = []

    def load(self, key: str) -> Any:
        self.polls -= 1
        return self.answer if self.polls < 0 else None

    def claim(self, key: str, seconds: float) -> bool:
        return False

    def release(self, key: str) -> None:
        self.released.append(key)


@pytest.mark.parametrize(("deadline", "waited"), [(2.0, 1.0), (None, 10.0)])
def test_waiting_for_another_process_leaves_half_the_deadline_for_the_call(
    server: HostileServer, deadline: float | None, waited: float, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process fetches the same key and never answers: this call waits for it half of
    what is left of its deadline (else ten seconds), then asks ESI itself, without touching the
    other's claim. The wait is told once at DEBUG, however many looks it takes."""
    server.on("/status", replies(200, STATUS, FRESH))
    clock = ManualClock()
    store = _ClaimedElsewhere()
    client = client_for(server.url, clock=clock, deadline=deadline, cache=ResponseCache(store=store))
    caplog.set_level(logging.DEBUG, "esi_client")
    assert get_status.sync(client=client).players == 1
    assert server.count("/status") == 1 and store.released == []
    assert waited <= sum(clock.sleeps) < waited + 0.05 + 1e-9
    told = [r.getMessage() for r in caplog.records if "waiting for another process" in r.getMessage()]
    assert told == ["GetStatus waiting for another process's identical request"]


def test_the_answer_another_process_stored_is_the_callers_parsed(server: HostileServer) -> None:
    server.on("/status", replies(200, STATUS, FRESH))
    clock = ManualClock()
    body = json.dumps({**STATUS, "players": 7}).encode()
    store = _ClaimedElsewhere(StoredResponse(200, {"etag": '"e1"'}, body, '"e1"', clock.now() + 60))
    client = client_for(server.url, clock=clock, cache=ResponseCache(store=store))
    answered = get_status.sync_detailed(client=client)
    assert answered.from_cache and answered.parsed is not None and answered.parsed.players == 7
    assert server.count("/status") == 0 and len(clock.sleeps) == 2  # looked up, then after each claim


def test_the_memory_cache_forgets_the_least_recently_used_first() -> None:
    from esi_client.runtime.cache.memory import CacheEntry

    cache = ResponseCache(max_entries=2)
    entry = CacheEntry(200, {}, b"[]", None, 1e12)
    cache.remember("a", entry)
    cache.remember("b", entry)
    assert cache.get("a") is entry  # a is used again: b is now the least recent
    cache.remember("c", entry)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (entry, None, entry)


def test_an_answer_another_process_stored_that_does_not_decode_is_a_miss(server: HostileServer) -> None:
    """Another esikit version, say, stored what this one cannot read: the wait goes on as if
    nothing were there, then the call asks ESI itself."""
    server.on("/status", replies(200, STATUS, FRESH))
    clock = ManualClock()
    store = _ClaimedElsewhere(StoredResponse(200, {}, b'{"players": "many"}', '"e1"', clock.now() + 60))
    client = client_for(server.url, clock=clock, cache=ResponseCache(store=store))
    assert get_status.sync(client=client).players == 1
    assert server.count("/status") == 1 and client.cache is not None and client.cache.store_errors > 0


def test_a_failed_call_that_took_no_claim_lets_no_claim_go(server: HostileServer) -> None:
    """A revalidating call does not wait for others (it must ask ESI itself), so it takes no
    claim; when it fails, the claim another process holds stays where it is."""
    from esi_client import ESIResponseError

    server.on("/status", replies(404, {"error": "not found"}))
    store = _ClaimedElsewhere()
    client = client_for(server.url, clock=ManualClock(), cache=ResponseCache(store=store))
    with pytest.raises(ESIResponseError):
        get_status.sync(client=client.revalidating())
    assert server.count("/status") == 1 and store.released == []


class _StoreOfAnotherProcess:
    """A store another process writes to (a file both use: no claims): it holds `newer`."""

    def __init__(self) -> None:
        self.newer: StoredResponse | None = None

    def load(self, key: str) -> Any:
        return self.newer

    def save(self, key: str, response: StoredResponse) -> None:
        pass


def test_at_the_instant_the_memorys_copy_expires_the_shared_store_is_read_first(
    server: HostileServer,
) -> None:
    """Exactly when the copy in memory stops being fresh, another process may have stored a
    fresher one: it is read (and used) before anything is asked of ESI."""
    server.on("/status", replies(200, STATUS, {"Cache-Control": "max-age=10"}))
    clock = ManualClock()
    store = _StoreOfAnotherProcess()
    client = client_for(server.url, clock=clock, cache=ResponseCache(store=store))
    get_status.sync(client=client)
    body = json.dumps({**STATUS, "players": 9}).encode()
    store.newer = StoredResponse(200, {}, body, None, clock.now() + 20)
    clock.advance(10)
    assert get_status.sync(client=client).players == 9
    assert server.count("/status") == 1


def test_with_a_store_that_has_nothing_a_stale_copy_in_memory_still_revalidates(
    server: HostileServer,
) -> None:
    sent: list[str | None] = []
    fresh = {"Cache-Control": "max-age=1", "ETag": '"e1"'}
    server.on("/status", _sequence([(200, fresh), (304, fresh)], sent))
    clock = ManualClock()
    client = client_for(server.url, clock=clock, cache=ResponseCache(store=_StoreOfAnotherProcess()))
    get_status.sync(client=client)
    clock.advance(2)
    assert get_status.sync_detailed(client=client).from_cache
    assert sent == [None, '"e1"']


def test_an_answer_from_the_cache_counts_what_its_decoding_found(server: HostileServer) -> None:
    """Each caller decodes its own copy, a cache hit too, and what the spec lacks is counted."""
    server.on("/status", replies(200, {**STATUS, "new_in_esi": 1}, FRESH))
    client = client_for(server.url)
    get_status.sync(client=client)
    assert get_status.sync_detailed(client=client).from_cache
    assert client.stats.unknown_keys == 2


def test_a_304_is_counted_from_the_servers_date_too(server: HostileServer) -> None:
    """The server's clock an hour behind ours: the 304's Expires minus its Date is two minutes."""
    clock = ManualClock()
    skew = 3600

    def dated(extra: float) -> dict[str, str]:
        date = clock.now() - skew
        return {
            "Date": email.utils.formatdate(date, usegmt=True),
            "Expires": email.utils.formatdate(date + extra, usegmt=True),
            "ETag": '"e1"',
        }

    sent: list[str | None] = []

    def handle(request: RawRequest, conn: socket.socket) -> None:
        sent.append(request.headers.get("if-none-match"))
        answer(conn, 200 if len(sent) == 1 else 304, STATUS if len(sent) == 1 else b"", dated(120))

    server.on("/status", handle)
    client = client_for(server.url, clock=clock)
    get_status.sync(client=client)
    clock.advance(130)  # stale: revalidated, and fresh again for two minutes of ours
    assert get_status.sync_detailed(client=client).from_cache
    clock.advance(110)
    assert get_status.sync_detailed(client=client).from_cache and len(sent) == 2
    clock.advance(20)
    get_status.sync(client=client)
    assert sent == [None, '"e1"', '"e1"']
