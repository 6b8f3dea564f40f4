"""`esi proxy` driven as another language's tools would: curl in a subprocess and plain HTTP
from a client that knows nothing of esikit, with the fake ESI counting what reaches it."""

from __future__ import annotations

import email.utils
import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest

from testbed.servers import proxy_process, require_binary
from tests.support.fixtures import FakeESIServer
from tests.support.proxy_settings import WALLET, stored_token


def fake_stats(fake_esi: FakeESIServer) -> dict[str, Any]:
    stats: dict[str, Any] = httpx2.get(f"{fake_esi.url}/_fake/stats").json()
    return stats


def sent(fake_esi: FakeESIServer, operation: str) -> int:
    return int(fake_stats(fake_esi)["by_operation"].get(operation, 0))


@pytest.fixture
def proxy(fake_esi: FakeESIServer) -> Iterator[str]:
    with proxy_process({"ESI_BASE_URL": fake_esi.url}) as url:
        yield url


def curl(*arguments: str) -> tuple[int, dict[str, str], bytes]:
    """curl's status, headers (lower-cased names) and body."""
    done = subprocess.run(
        [require_binary("curl"), "-sS", "-i", *arguments], capture_output=True, timeout=60, check=True
    )
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def test_curl_gets_esi_answers_cached_with_esis_headers(proxy: str, fake_esi: FakeESIServer) -> None:
    direct = httpx2.get(f"{fake_esi.url}/universe/types/34", headers={"User-Agent": "test"})
    before = sent(fake_esi, "GetUniverseTypesTypeId")
    status, headers, body = curl(f"{proxy}/universe/types/34")
    assert status == 200 and json.loads(body) == direct.json()
    assert headers["x-esi-proxy-cache"] == "miss"
    assert headers["etag"] == direct.headers["etag"] and headers["expires"]
    connection = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length"}
    assert set(direct.headers) - connection <= set(headers)  # ESI's own headers, every one
    assert "content-encoding" not in headers  # the body is sent as it is, whatever ESI sent
    again_status, again, again_body = curl(f"{proxy}/universe/types/34/")  # ESI's trailing slash too
    assert again_status == 200 and again["x-esi-proxy-cache"] == "hit" and again_body == body
    assert sent(fake_esi, "GetUniverseTypesTypeId") == before + 1


def test_a_fresh_etag_is_answered_304_without_asking_esi(proxy: str, fake_esi: FakeESIServer) -> None:
    _, headers, _ = curl(f"{proxy}/status")
    before = sent(fake_esi, "GetStatus")
    status, again, body = curl("-H", f"If-None-Match: {headers['etag']}", f"{proxy}/status")
    assert status == 304 and body == b"" and again["etag"] == headers["etag"]
    other, _, _ = curl("-H", 'If-None-Match: "something-else"', f"{proxy}/status")
    assert other == 200
    assert sent(fake_esi, "GetStatus") == before


def test_an_unknown_route_names_the_closest_and_sends_nothing(proxy: str, fake_esi: FakeESIServer) -> None:
    before = fake_stats(fake_esi)["requests"]
    status, _, body = curl(f"{proxy}/markets/10000002/orderz")
    answer = json.loads(body)
    assert status == 404 and "GET /markets/{region_id}/orders" in answer["closest"]
    assert "orderz" in answer["error"]
    wrong_method, _, body = curl("-X", "DELETE", f"{proxy}/status")
    assert wrong_method == 405 and "GET" in json.loads(body)["error"]
    assert fake_stats(fake_esi)["requests"] == before


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("/markets/10000002/orders?order_type=bad", "order_type"),  # outside the enum
        ("/markets/10000002/orders?pages=2", "pages"),  # no such parameter
        ("/markets/10000002/orders?page=0", "page"),  # below the minimum
        ("/markets/abc/orders", "region_id"),  # not an integer
        ("/markets/10000002/history", "type_id"),  # a required one missing
    ],
)
def test_requests_the_spec_refuses_are_400s_sent_to_nothing(
    proxy: str, fake_esi: FakeESIServer, query: str, named: str
) -> None:
    before = fake_stats(fake_esi)
    status, headers, body = curl(f"{proxy}{query}")
    assert status == 400 and named in json.loads(body)["error"]
    assert headers["x-esi-proxy-cache"] == "refused"
    after = fake_stats(fake_esi)
    assert (
        after["requests"] == before["requests"]
        and after["error_limit_remain"] == before["error_limit_remain"]
    )


def test_identical_requests_at_once_reach_esi_once(proxy: str, fake_esi: FakeESIServer) -> None:
    url = f"{proxy}/markets/10000002/history?type_id=34"
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: httpx2.get(url, timeout=30), range(8)))
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1
    assert sent(fake_esi, "GetMarketsRegionIdHistory") == 1
    results = sorted(answer.headers["x-esi-proxy-cache"] for answer in answers)
    assert results.count("miss") == 1 and set(results) <= {"miss", "coalesced", "hit"}


def test_page_all_merges_every_page_into_one_array(proxy: str, fake_esi: FakeESIServer) -> None:
    headers = {"User-Agent": "test"}
    first = httpx2.get(f"{fake_esi.url}/markets/10000002/orders?order_type=all", headers=headers)
    pages = int(first.headers["x-pages"])
    assert pages > 1
    direct = [
        order
        for page in range(1, pages + 1)
        for order in httpx2.get(
            f"{fake_esi.url}/markets/10000002/orders",
            params={"order_type": "all", "page": page},
            headers=headers,
        ).json()
    ]
    merged = httpx2.get(f"{proxy}/markets/10000002/orders", params={"page": "all"}, timeout=60)
    assert merged.status_code == 200 and merged.json() == direct
    assert merged.headers["x-pages"] == str(pages)
    one = httpx2.get(f"{proxy}/markets/10000002/orders", params={"page": 2})
    assert one.json() == direct[len(first.json()) :][: len(one.json())]


def test_esis_own_errors_come_back_as_esi_sent_them(proxy: str, fake_esi: FakeESIServer) -> None:
    direct = httpx2.get(f"{fake_esi.url}/universe/types/999999999", headers={"User-Agent": "test"})
    through = httpx2.get(f"{proxy}/universe/types/999999999")
    assert direct.status_code == 404
    assert through.status_code == 404 and through.json() == direct.json()
    assert "x-esi-error-limit-remain" in through.headers


def test_a_bearer_token_passes_untouched_and_is_cached_for_itself_alone(
    proxy: str, fake_esi: FakeESIServer
) -> None:
    minted = [httpx2.post(f"{fake_esi.url}/_fake/token", json={"scopes": [WALLET]}).json() for _ in range(2)]
    character = minted[0]["character_id"]
    url = f"{proxy}/characters/{character}/wallet"
    status, headers, body = curl("-H", f"Authorization: Bearer {minted[0]['access_token']}", url)
    assert status == 200 and isinstance(json.loads(body), float | int)
    assert headers["x-esi-proxy-cache"] == "miss"
    _, same, _ = curl("-H", f"Authorization: Bearer {minted[0]['access_token']}", url)
    assert same["x-esi-proxy-cache"] == "hit"
    _, other, _ = curl("-H", f"Authorization: Bearer {minted[1]['access_token']}", url)
    assert other["x-esi-proxy-cache"] == "miss"  # another token: never the first one's answer
    anonymous, _, body = curl(url)
    assert anonymous == 401 and "X-Esi-Character" in json.loads(body)["error"]
    assert fake_stats(fake_esi)["access_tokens_used"] == {str(character): 2}


def test_a_character_named_by_header_gets_its_token_from_the_store(
    fake_esi: FakeESIServer, tmp_path: Path
) -> None:
    token, settings = stored_token(fake_esi, tmp_path, "proxy-app")
    with proxy_process(settings) as proxy:
        url = f"{proxy}/characters/{token.character_id}/wallet"
        status, _, body = curl("-H", f"X-Esi-Character: {token.character_id}", url)
        assert status == 200, body
        page = httpx2.get(f"{proxy}/_proxy/").text
        assert str(token.character_id) in page and "cache hit rate" in page
    assert fake_stats(fake_esi)["access_tokens_used"] == {str(token.character_id): 1}


def test_metrics_count_what_was_answered(proxy: str) -> None:
    for _ in range(3):
        httpx2.get(f"{proxy}/status")
    httpx2.get(f"{proxy}/nowhere")
    text = httpx2.get(f"{proxy}/metrics").text
    assert 'esi_proxy_requests_total{operation="GetStatus",status="200"} 3' in text
    assert 'esi_proxy_cache_results_total{result="hit"} 2' in text
    assert "esi_proxy_replayed_total 2" in text  # both hits replayed as sent, before the runtime
    assert 'esi_proxy_requests_total{operation="-",status="404"} 1' in text
    assert "esi_proxy_esi_requests_total 1" in text
    assert "esi_proxy_retries_total 0" in text and "esi_proxy_shared_limit_fallbacks_total 0" in text
    assert 'esi_proxy_rate_budget_remaining{group="status"}' in text
    assert httpx2.get(f"{proxy}/healthz").json() == {"status": "ok"}


def test_beyond_loopback_it_requires_api_keys(fake_esi: FakeESIServer, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    refused = subprocess.run(
        ["esi", "proxy", "--host", "0.0.0.0", "--keys-file", str(keys)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"ESI_CONFIG": "/dev/null", "PATH": _path()},
        check=False,
    )
    assert refused.returncode != 0 and "requires API keys" in refused.stderr
    added = subprocess.run(
        ["esi", "proxy-keys", "add", "spreadsheet", "--keys-file", str(keys)],
        capture_output=True,
        text=True,
        check=True,
        env={"ESI_CONFIG": "/dev/null", "PATH": _path()},
    )
    key = added.stdout.strip()
    assert key.startswith("esk_") and key not in keys.read_text()
    options = ("--host", "0.0.0.0", "--keys-file", str(keys))
    with proxy_process({"ESI_BASE_URL": fake_esi.url}, *options) as proxy:
        assert httpx2.get(f"{proxy}/status").status_code == 401
        assert httpx2.get(f"{proxy}/status", headers={"X-Esi-Proxy-Key": "esk_wrong"}).status_code == 401
        assert httpx2.get(f"{proxy}/status", headers={"X-Esi-Proxy-Key": key}).status_code == 200
        assert httpx2.get(f"{proxy}/metrics").status_code == 401


def _path() -> str:
    import os
    import sys

    return f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"


def test_page_all_follows_a_cursor_route_to_its_end(proxy: str, fake_esi: FakeESIServer) -> None:
    from esi_client import ESIClient
    from esi_client.api.freelance_jobs import get_freelance_jobs_listing

    with ESIClient(app_name="test", contact="test", base_url=fake_esi.url) as client:
        expected = [str(record.id) for record in get_freelance_jobs_listing.iter_cursor(client=client)]
    assert len(expected) > 1
    merged = httpx2.get(f"{proxy}/freelance-jobs", params={"page": "all"}, timeout=60)
    assert merged.status_code == 200
    body = merged.json()
    records = next(value for value in body.values() if isinstance(value, list))
    assert [record["id"] for record in records] == expected  # every record, in the walk's order
    assert set(body) >= {"cursor"}
    one = httpx2.get(f"{proxy}/freelance-jobs", params={"after": "0"}).json()
    assert 0 < len(next(value for value in one.values() if isinstance(value, list))) < len(expected)


def test_headers_and_bodies_are_bounded_and_nothing_is_sent(proxy: str, fake_esi: FakeESIServer) -> None:
    before = fake_stats(fake_esi)["requests"]
    big_header = httpx2.get(f"{proxy}/status", headers={"X-Padding": "x" * 20_000})
    assert big_header.status_code == 431
    big_body = httpx2.post(f"{proxy}/universe/names", content=b"[" + b"1," * 600_000 + b"1]")
    assert big_body.status_code == 413 and "body" in big_body.json()["error"]
    not_json = httpx2.post(f"{proxy}/universe/names", content=b"[1, 2")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]
    assert fake_stats(fake_esi)["requests"] == before
    names = httpx2.post(f"{proxy}/universe/names", json=[34, 30000142])
    assert names.status_code == 200 and {item["id"] for item in names.json()} == {34, 30000142}


def test_a_passed_token_never_shows_in_its_repr() -> None:
    from esi_proxy.tokens import passed_token

    token = passed_token("header.eyJzdWIiOiJDSEFSQUNURVI6RVZFOjkwMDAwMDAxIn0.signature")
    assert token.character_id == 90000001
    assert "signature" not in repr(token) and "header." not in repr(token)


def test_node_fetch_through_the_proxy(proxy: str, fake_esi: FakeESIServer) -> None:
    node = require_binary("node")
    script = """
    const base = process.argv[1];
    const first = await fetch(`${base}/universe/types/34`);
    const again = await fetch(`${base}/universe/types/34`);
    const body = await again.json();
    console.log(JSON.stringify({
      first: first.headers.get("x-esi-proxy-cache"), again: again.headers.get("x-esi-proxy-cache"),
      name: body.name,
    }));
    """
    done = subprocess.run(
        [node, "--input-type=module", "-e", script, proxy],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(done.stdout)
    direct = httpx2.get(f"{fake_esi.url}/universe/types/34", headers={"User-Agent": "test"}).json()
    assert seen == {"first": "miss", "again": "hit", "name": direct["name"]}


def test_the_login_page_adds_a_character_the_header_then_names(
    fake_esi: FakeESIServer, tmp_path: Path
) -> None:
    from testbed.servers import free_port

    port, client_id = free_port(), "proxy-web-app"
    callback = f"http://127.0.0.1:{port}/_proxy/sso/callback"
    httpx2.post(
        f"{fake_esi.url}/_fake/sso", json={"apps": {client_id: {"secret": None, "callback": callback}}}
    )
    settings = {
        "ESI_BASE_URL": fake_esi.url,
        "ESI_LOGIN_URL": fake_esi.url,
        "ESI_CLIENT_ID": client_id,
        "ESI_CALLBACK_URL": callback,
        "ESI_STORE": f"sqlite:///{tmp_path / 'tokens.sqlite'}",
        "ESI_SECRETS": "plaintext",
    }
    with proxy_process(settings, port=port) as proxy:
        # nothing stored yet: the header finds no token, and the answer says where to add one
        refused = httpx2.get(f"{proxy}/characters/90000001/wallet", headers={"X-Esi-Character": "90000001"})
        assert refused.status_code == 401 and "90000001" in refused.text and "/_proxy/login" in refused.text
        with httpx2.Client(follow_redirects=True) as browser:
            page = browser.get(f"{proxy}/_proxy/login", params={"scopes": WALLET})
        assert page.status_code == 200 and "Logged in: Fake Pilot (90000001)" in page.text
        answer = httpx2.get(f"{proxy}/characters/90000001/wallet", headers={"X-Esi-Character": "90000001"})
        assert answer.status_code == 200 and isinstance(answer.json(), float | int)
        forged = httpx2.get(f"{proxy}/_proxy/sso/callback", params={"code": "x", "state": "forged"})
        assert forged.status_code == 400  # a callback this browser did not start stores nothing


def test_answers_kept_as_sent_vary_by_language(proxy: str, fake_esi: FakeESIServer) -> None:
    url = f"{proxy}/universe/types/34"
    german = [httpx2.get(url, headers={"Accept-Language": "de"}) for _ in range(2)]
    english = [httpx2.get(url, headers={"Accept-Language": "en"}) for _ in range(2)]
    assert german[0].json()["name"] != english[0].json()["name"]
    assert [a.headers["x-esi-proxy-cache"] for a in (*german, *english)] == ["miss", "hit", "miss", "hit"]
    assert german[1].json() == german[0].json() and english[1].json() == english[0].json()
    assert german[1].headers["content-language"] == german[0].headers["content-language"]


def test_a_kept_copy_never_outlives_the_freshness_esi_gave_it(spec_path: Path) -> None:
    """Against a fake on the real clock: every copy is served within the lifetime its own
    headers give it, and a changed answer is seen once the copy has expired."""
    from testbed.servers import fake_server_process

    with fake_server_process(spec_path) as fake, proxy_process({"ESI_BASE_URL": fake}) as proxy:
        assert httpx2.post(f"{fake}/_fake/faults", json={"max_cache_age": 1}).status_code == 200
        first = httpx2.get(f"{proxy}/status")
        assert first.headers["x-esi-proxy-cache"] == "miss"
        httpx2.post(f"{fake}/_fake/faults", json={"change_data": True})
        deadline = time.time() + 30
        while time.time() < deadline:
            asked_at = time.time()
            answer = httpx2.get(f"{proxy}/status")
            seen = {name: answer.headers.get(name) for name in ("date", "expires", "x-esi-proxy-cache")}
            expires = email.utils.parsedate_to_datetime(answer.headers["expires"]).timestamp()
            # received within a second of its Date (which drops the fraction), kept for Expires
            # minus Date: so served before Expires + 1 s, with a second more for a slow machine
            assert asked_at < expires + 2, f"a copy outlived its freshness: {seen}"
            if answer.content != first.content:
                break
        else:
            pytest.fail("the status never changed after its answer expired")


def test_a_token_or_a_character_is_never_answered_from_the_public_copy(
    proxy: str, fake_esi: FakeESIServer
) -> None:
    """A personal request may name a public route: it still goes through the runtime, whose
    cache keys the principal; the same route without one is answered from the kept copy."""
    minted = httpx2.post(f"{fake_esi.url}/_fake/token", json={"scopes": [WALLET]}).json()
    url = f"{proxy}/universe/types/587"
    public = [httpx2.get(url).headers["x-esi-proxy-cache"] for _ in range(2)]
    assert public == ["miss", "hit"]
    before = sent(fake_esi, "GetUniverseTypesTypeId")
    with_token = httpx2.get(url, headers={"Authorization": f"Bearer {minted['access_token']}"})
    assert with_token.status_code == 200 and with_token.headers["x-esi-proxy-cache"] == "hit"  # the runtime's
    assert sent(fake_esi, "GetUniverseTypesTypeId") == before
    text = httpx2.get(f"{proxy}/metrics").text
    assert 'esi_proxy_cache_results_total{result="hit"} 2' in text
