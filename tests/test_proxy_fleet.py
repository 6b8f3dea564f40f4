"""Several `esi proxy` processes sharing only Redis behave as one: one cache, identical requests
coalesced across them, one budget; `--workers N` runs N processes on one port."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx2
import pytest

from testbed.servers import proxy_process
from tests.support.fixtures import FakeESIServer
from tests.support.proxy_settings import stored_token

pytestmark = pytest.mark.slow


def sent(fake_esi: FakeESIServer, operation: str) -> int:
    return int(httpx2.get(f"{fake_esi.url}/_fake/stats").json()["by_operation"].get(operation, 0))


@pytest.fixture
def three_proxies(fake_esi: FakeESIServer, redis_url: str) -> Iterator[list[str]]:
    settings = {"ESI_BASE_URL": fake_esi.url, "ESI_APP_NAME": f"proxy-fleet-{uuid.uuid4().hex[:8]}"}
    with ExitStack() as stack:
        yield [stack.enter_context(proxy_process(settings, "--redis", redis_url)) for _ in range(3)]


def test_an_answer_one_proxy_fetched_is_every_proxys(
    three_proxies: list[str], fake_esi: FakeESIServer
) -> None:
    first, second, third = three_proxies
    fetched = httpx2.get(f"{first}/universe/types/587")
    assert fetched.status_code == 200 and fetched.headers["x-esi-proxy-cache"] == "miss"
    for other in (second, third):
        answer = httpx2.get(f"{other}/universe/types/587")
        assert answer.headers["x-esi-proxy-cache"] == "hit" and answer.content == fetched.content
    assert sent(fake_esi, "GetUniverseTypesTypeId") == 1


def test_identical_requests_across_proxies_reach_esi_once(
    three_proxies: list[str], fake_esi: FakeESIServer
) -> None:
    urls = [f"{proxy}/markets/10000002/history?type_id=587" for proxy in three_proxies] * 4
    with ThreadPoolExecutor(len(urls)) as pool:
        answers = list(pool.map(lambda url: httpx2.get(url, timeout=60), urls))
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1
    assert sent(fake_esi, "GetMarketsRegionIdHistory") == 1


def test_workers_serve_one_port_and_share_one_cache(fake_esi: FakeESIServer, redis_url: str) -> None:
    settings = {"ESI_BASE_URL": fake_esi.url, "ESI_APP_NAME": f"proxy-workers-{uuid.uuid4().hex[:8]}"}
    with proxy_process(settings, "--redis", redis_url, "--workers", "2") as proxy:
        # new connections each time: the kernel spreads them over both workers
        answers = [httpx2.get(f"{proxy}/universe/types/{34 + n % 3}") for n in range(12)]
    assert {answer.status_code for answer in answers} == {200}
    assert sent(fake_esi, "GetUniverseTypesTypeId") == 3


def test_workers_without_redis_are_refused_with_the_reason() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "esi_cli", "proxy", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"ESI_CONFIG": "/dev/null", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 2 and "--redis" in done.stderr


def test_proxies_sharing_a_store_refresh_an_expiring_token_once(
    fake_esi: FakeESIServer, redis_url: str, tmp_path: Path
) -> None:
    """A character's token about to expire, asked for by every proxy at once: one refresh."""
    client_id = "proxy-fleet-app"
    # minted tokens live 30 s: inside the refresh margin, so the first use must refresh it
    httpx2.post(f"{fake_esi.url}/_fake/sso", json={"access_token_seconds": 30}).raise_for_status()
    token, settings = stored_token(fake_esi, tmp_path, client_id)
    settings["ESI_APP_NAME"] = f"proxy-fleet-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        proxies = [stack.enter_context(proxy_process(settings, "--redis", redis_url)) for _ in range(3)]
        urls = [f"{proxy}/characters/{token.character_id}/wallet" for proxy in proxies] * 3
        headers = {"X-Esi-Character": str(token.character_id)}
        with ThreadPoolExecutor(len(urls)) as pool:
            answers = list(pool.map(lambda url: httpx2.get(url, headers=headers, timeout=60), urls))
    assert [answer.status_code for answer in answers] == [200] * len(urls), [a.text for a in answers]
    stats = httpx2.get(f"{fake_esi.url}/_fake/stats").json()
    assert stats["sso_refreshes"] == 1
    assert stats["refreshed_tokens_used"] == {str(token.character_id): 1}
