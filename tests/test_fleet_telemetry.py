"""OpenTelemetry: a span per call and the metrics a fleet's operator watches, seen through the
SDK's in-memory exporters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from esi_client import NotFoundError
from esi_client.api.status import get_status
from esi_client.api.universe import get_universe_types_type_id
from tests.auth_support import WALLET_SCOPE, make_setup

_EXPORTER = InMemorySpanExporter()
_READER = InMemoryMetricReader()


@pytest.fixture
def telemetry() -> Iterator[tuple[InMemorySpanExporter, InMemoryMetricReader]]:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):  # global: set once per process
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[_READER]))
    _EXPORTER.clear()
    yield _EXPORTER, _READER


def _points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def test_a_span_per_call_with_cache_results(fake_esi: Any, make_client: Any, telemetry: Any) -> None:
    exporter, reader = telemetry
    client = make_client()
    get_status.sync(client=client)
    get_status.sync(client=client)  # fresh: from the cache
    get_status.sync(client=client.revalidating())  # a 304
    with pytest.raises(NotFoundError):
        fake_esi.state.faults.forced = []
        from esi_fake import ForcedReply

        fake_esi.state.faults.forced = [ForcedReply(404, 1, "GetUniverseTypesTypeId")]
        get_universe_types_type_id.sync(34, client=client)
    spans = exporter.get_finished_spans()
    status_spans = [span for span in spans if span.name == "ESI GetStatus"]
    assert [span.attributes["esi.cache"] for span in status_spans] == ["miss", "hit", "revalidated"]
    assert status_spans[0].attributes["http.response.status_code"] == 200
    assert status_spans[0].attributes["esi.requests"] == 1
    assert status_spans[0].kind == trace.SpanKind.CLIENT
    [failed] = [span for span in spans if span.name == "ESI GetUniverseTypesTypeId"]
    assert failed.status.status_code == trace.StatusCode.ERROR and failed.events  # the exception
    points = _points(reader)
    assert sum(p.value for p in points["esi.requests"]) >= 3
    results = {p.attributes["esi.cache"]: p.value for p in points["esi.cache.results"]
               if p.attributes["esi.operation_id"] == "GetStatus"}  # fmt: skip
    assert results["hit"] >= 1 and results["revalidated"] >= 1 and results["miss"] >= 1
    assert sum(p.value for p in points["esi.cache.not_modified"]) >= 1
    assert any(p.value <= 100 for p in points["esi.error_limit.remaining"])
    groups = {p.attributes["esi.rate_limit.group"] for p in points["esi.rate_limit.remaining"]}
    assert get_status.OPERATION.rate_limit is not None and get_status.OPERATION.rate_limit.group in groups


def test_token_refreshes_are_counted(fake_esi: Any, esi_clock: Any, tmp_path: Any, telemetry: Any) -> None:
    _, reader = telemetry
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    token = setup.log_in(WALLET_SCOPE)
    esi_clock.advance(1300)
    setup.refresher.ensure_fresh(token)
    refreshes = [
        p for p in _points(reader)["esi.token.refreshes"] if p.attributes["esi.client_id"] == token.client_id
    ]
    assert refreshes and refreshes[0].value == 1
