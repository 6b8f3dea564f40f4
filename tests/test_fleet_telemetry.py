"""OpenTelemetry: a span per call and the metrics a fleet's operator watches, seen through the
SDK's in-memory exporters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from esi_client import NotFoundError
from esi_client.api.status import get_status
from esi_client.api.universe import get_universe_types_type_id
from esi_fake import ForcedReply
from tests.support.auth_support import WALLET_SCOPE, make_setup
from tests.support.fixtures import ClientFactory, FakeESIServer, ManualClock

_EXPORTER = InMemorySpanExporter()
_READER = InMemoryMetricReader()


Telemetry = tuple[InMemorySpanExporter, InMemoryMetricReader]  # the spans and the metrics recorded


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):  # global: set once per process
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[_READER]))
    _EXPORTER.clear()
    yield _EXPORTER, _READER


def _values(reader: InMemoryMetricReader) -> dict[tuple[str, frozenset[Any]], float]:
    """Each metric's value by its attributes: a counter's total, a gauge's latest. The SDK is
    global to the process, so a test compares values before and after its own calls."""
    found: dict[tuple[str, frozenset[Any]], float] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    if isinstance(point, NumberDataPoint):  # counters and gauges
                        found[(metric.name, frozenset((point.attributes or {}).items()))] = point.value
    return found


def _added(before: dict[tuple[str, frozenset[Any]], float], after: dict[tuple[str, frozenset[Any]], float],
           name: str, **attributes: Any) -> float:  # fmt: skip
    """How much a counter grew between two readings, over the points carrying `attributes`."""
    wanted = set(attributes.items())
    return sum(
        value - before.get(key, 0) for key, value in after.items() if key[0] == name and wanted <= set(key[1])
    )


def _latest(values: dict[tuple[str, frozenset[Any]], float], name: str, **attributes: Any) -> float:
    [value] = [v for key, v in values.items() if key[0] == name and set(attributes.items()) == set(key[1])]
    return value


STATUS = {"esi.operation_id": "GetStatus"}
CACHED = ["miss", "hit", "revalidated"]


def test_a_span_per_call_with_cache_results(
    fake_esi: FakeESIServer, make_client: ClientFactory, telemetry: Telemetry
) -> None:
    exporter, reader = telemetry
    client = make_client()
    before, requests_before = _values(reader), fake_esi.state.stats.requests
    get_status.sync(client=client)
    get_status.sync(client=client)  # fresh: from the cache
    get_status.sync(client=client.revalidating())  # a 304
    fake_esi.state.faults.forced = [ForcedReply(404, 1, "GetUniverseTypesTypeId")]
    with pytest.raises(NotFoundError):
        get_universe_types_type_id.sync(34, client=client)
    last = get_status.sync_detailed(client=client.revalidating())  # another 304, its headers read
    spans = exporter.get_finished_spans()
    status_spans = [dict(span.attributes or {}) for span in spans if span.name == "ESI GetStatus"]
    assert [attributes["esi.cache"] for attributes in status_spans] == [*CACHED, "revalidated"]
    assert status_spans[0]["http.response.status_code"] == 200
    assert status_spans[0]["esi.requests"] == 1
    assert {span.kind for span in spans if span.name == "ESI GetStatus"} == {trace.SpanKind.CLIENT}
    [failed] = [span for span in spans if span.name == "ESI GetUniverseTypesTypeId"]
    assert failed.status.status_code == trace.StatusCode.ERROR and failed.events  # the exception
    after = _values(reader)
    sent = fake_esi.state.stats.requests - requests_before
    assert sent == 4 and _added(before, after, "esi.requests") == sent
    cache = {
        result: _added(
            before, after, "esi.cache.results", **{"esi.operation_id": "GetStatus", "esi.cache": result}
        )
        for result in ("miss", "hit", "revalidated")
    }
    assert cache == {"miss": 1, "hit": 1, "revalidated": 2}
    assert _added(before, after, "esi.cache.not_modified") == 2
    # The gauges hold what the last answer said (the lowest, as answers arrived in order).
    assert _latest(after, "esi.error_limit.remaining") == int(last.headers["x-esi-error-limit-remain"])
    assert get_status.OPERATION.rate_limit is not None
    group = get_status.OPERATION.rate_limit.group
    remaining = _latest(after, "esi.rate_limit.remaining", **{"esi.rate_limit.group": group})
    assert remaining == int(last.headers["x-ratelimit-remaining"])


def test_token_refreshes_are_counted(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Any, telemetry: Telemetry
) -> None:
    _, reader = telemetry
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    token = setup.log_in(WALLET_SCOPE)
    esi_clock.advance(1300)
    before = _values(reader)
    setup.refresher.ensure_fresh(token)
    setup.refresher.ensure_fresh(token)  # fresh now: no second refresh
    refreshed = _added(before, _values(reader), "esi.token.refreshes", **{"esi.client_id": token.client_id})
    assert refreshed == 1


def test_a_characters_bucket_is_the_gauge_of_its_calls(
    fake_esi: FakeESIServer,
    esi_clock: ManualClock,
    tmp_path: Any,
    make_client: ClientFactory,
    telemetry: Telemetry,
) -> None:
    """An authenticated call's bucket is the character's: the gauge holds what its answer said."""
    from esi_client.api.wallet import get_characters_character_id_wallet

    _, reader = telemetry
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    token = setup.log_in(WALLET_SCOPE)
    client = make_client(auth=setup.auth)
    answer = get_characters_character_id_wallet.sync_detailed(token.character_id, client=client)
    assert answer.status_code == 200
    operation = get_characters_character_id_wallet.OPERATION
    assert operation.rate_limit is not None
    group = operation.rate_limit.group
    remaining = _latest(_values(reader), "esi.rate_limit.remaining", **{"esi.rate_limit.group": group})
    assert remaining == int(answer.headers["x-ratelimit-remaining"])
