"""Soak: 2,000 requests at concurrency 64, 5 % injected 5xx, a small error budget.

Zero 420s at the server; every request either succeeds or raises a typed ESIError. A dedicated
fake ESI with a one-second error window keeps this to seconds of real time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from esi_client import ESIClient, ESIError
from esi_client.api.universe import get_universe_types_type_id
from esi_client.api.wars import get_wars_war_id
from esi_fake import FakeESIServer, FakeState

REQUESTS = 2000
CONCURRENCY = 64


@pytest.mark.slow
async def test_soak_no_420_and_only_typed_errors(
    spec_document: dict[str, Any], generated_client: object
) -> None:
    state = FakeState(error_budget=30, error_window=1.0)
    with FakeESIServer(spec_document, state=state) as fake:
        state.faults.server_error_rate = 0.05
        client = ESIClient(
            app_name="soak",
            contact="soak@example.invalid",
            base_url=fake.url,
            cache=False,
            max_concurrency=CONCURRENCY,
            error_threshold=5,
        )

        async def one(index: int) -> Any:
            try:
                if index % 2:
                    return await get_wars_war_id.asyncio(index, client=client)
                return await get_universe_types_type_id.asyncio(index, client=client)
            except ESIError as exc:
                return exc

        results = await asyncio.gather(*(one(i) for i in range(REQUESTS)))
        await client.aclose()
    assert len(results) == REQUESTS
    assert state.stats.by_status[420] == 0
    failures = [r for r in results if isinstance(r, ESIError)]
    successes = [r for r in results if not isinstance(r, BaseException)]
    assert len(failures) + len(successes) == REQUESTS
    assert all(type(f).__name__ == "ServerError" for f in failures), {type(f).__name__ for f in failures}
    assert len(successes) > REQUESTS * 0.99  # retries recover nearly all injected 5xx
    assert sum(count for status, count in state.stats.by_status.items() if status >= 500) > 50
    assert state.stats.max_in_flight <= CONCURRENCY
