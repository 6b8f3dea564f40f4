"""Users test their own code the way users of generated clients do first: an
httpx2.MockTransport handing back in-memory responses, sync and async."""

from __future__ import annotations

import contextlib
import gzip
import json

import httpx2
import pytest

from esi_client import ESIClient, NotFoundError
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.status import get_status

STATUS = {"players": 23456, "server_version": "2981123", "start_time": "2026-12-07T11:00:00Z"}


def _handler(seen: list[httpx2.Request]) -> httpx2.MockTransport:
    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if request.url.path == "/status":
            return httpx2.Response(200, json=STATUS, headers={"Cache-Control": "max-age=30"})
        if request.url.path == "/markets/10000002/orders":
            body = gzip.compress(json.dumps([]).encode())
            return httpx2.Response(200, content=body, headers={"Content-Encoding": "gzip", "X-Pages": "1"})
        return httpx2.Response(404, json={"error": "Not found"})

    return httpx2.MockTransport(handle)


def test_mock_transport_sync() -> None:
    seen: list[httpx2.Request] = []
    with ESIClient(app_name="mine", contact="me@example.com", transport=_handler(seen)) as client:
        assert get_status.sync(client=client).players == 23456
        assert get_status.sync(client=client).players == 23456  # from the cache
        assert get_markets_region_id_orders.sync(10000002, client=client) == []
        with pytest.raises(NotFoundError):
            get_markets_region_id_orders.sync(10000001, client=client)  # the handler's 404
    assert [r.url.path for r in seen].count("/status") == 1
    assert seen[0].headers["User-Agent"].startswith("mine (me@example.com)")


async def test_mock_transport_async() -> None:
    seen: list[httpx2.Request] = []
    client = ESIClient(app_name="mine", contact="me@example.com", async_transport=_handler(seen))
    try:
        assert (await get_status.asyncio(client=client)).players == 23456
        assert await get_markets_region_id_orders.asyncio(10000002, client=client) == []
    finally:
        await client.aclose()
    assert len(seen) == 2


@pytest.mark.parametrize("base", ["http://esi.test", "http://esi.test/", "http://esi.test/behind/a/path"])
def test_the_url_sent_is_the_one_httpx2_would_join(base: str) -> None:
    """The request's URL is built in one go (a miss's hottest part): it must be exactly what
    httpx2 makes of the client's base URL, the operation's path and its query."""
    seen: list[httpx2.Request] = []
    client = ESIClient(app_name="mine", contact="me", base_url=base, transport=_handler(seen))
    with client, contextlib.suppress(NotFoundError):  # under a path, the handler knows nothing
        get_markets_region_id_orders.sync(10000002, client=client, type_id=34, page=2)
    expected = httpx2.Client(base_url=base).build_request(
        "GET", "/markets/10000002/orders", params={"order_type": "all", "page": 2, "type_id": 34}
    )
    assert [str(request.url) for request in seen] == [str(expected.url)]


def test_a_raw_body_is_the_bytes_as_sent_and_never_decoded_json() -> None:
    """RAW_BODY (what `esi proxy` asks for) keeps a 2xx body as it came, from the wire and from
    the cache alike; given decoded JSON, it says it never is."""
    from esi_client.decoding.decode import RAW_BODY

    sent = httpx2.Response(200, json=STATUS).content  # what the handler sends
    with ESIClient(app_name="mine", contact="me", transport=_handler([])) as client:
        first = client.send(get_status.OPERATION, get_status._request(), RAW_BODY)
        again = client.send(get_status.OPERATION, get_status._request(), RAW_BODY)
    assert (first.parsed, first.from_cache) == (sent, False)
    assert (again.parsed, again.from_cache) == (sent, True)
    with pytest.raises(TypeError, match=r"^RAW_BODY keeps the body's bytes; it is never given decoded JSON$"):
        RAW_BODY(STATUS)
