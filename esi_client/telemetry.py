"""OpenTelemetry for ESI calls (extra `[otel]`: `opentelemetry-api` only): a span per call and
metrics, reported to whatever SDK the application configures; without one, the API's no-op.

Span `ESI <operation id>` (kind CLIENT): `esi.operation_id`, `http.request.method`,
`url.template`, `http.response.status_code`, `esi.cache` (hit, miss, revalidated, coalesced),
`esi.requests`, `esi.retries`, `esi.waited_seconds`; an exception is recorded on the span.

Metrics (meter `esikit`): `esi.requests` (HTTP requests sent), `esi.cache.results` (by
`esi.cache`), `esi.cache.not_modified` (304s), `esi.limit.waits` and `esi.limit.wait_duration`
(seconds), `esi.error_limit.remaining` and `esi.rate_limit.remaining` (by `esi.rate_limit.group`,
for this process's limits), `esi.token.refreshes` (counted by esi_auth).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from esi_client._operation import Operation
from esi_client.runtime.records import CallRecord

if TYPE_CHECKING:
    from esi_client.runtime.limits.local import ErrorGate, RateGate

# opentelemetry-api is optional, and imported on the first call (not when esi_client is):
# without it, or without an SDK configured, a call costs one check more.
INSTALLED = importlib.util.find_spec("opentelemetry") is not None
NAME = "esikit"


_api: Any = None  # (opentelemetry.trace, the API's no-op provider types), once imported


def active() -> bool:
    """An SDK is configured to receive spans (the API alone is a no-op: nothing to record).

    Asked on every call, so it must cost next to nothing: the API's public getter reads the
    environment each time while no SDK is set (over a microsecond); the module's provider
    global says the same for the price of an attribute read. Where a future API lacks it,
    the getter is asked."""
    global _api
    if not INSTALLED:
        return False
    if _api is None:
        from opentelemetry import trace

        trace.get_tracer_provider()  # loads a provider named by OTEL_PYTHON_TRACER_PROVIDER, once
        _api = (trace, (trace.ProxyTracerProvider, trace.NoOpTracerProvider))
    trace, inactive = _api
    provider = getattr(trace, "_TRACER_PROVIDER", inactive)
    if provider is inactive:
        provider = trace.get_tracer_provider()
    return provider is not None and not isinstance(provider, inactive)


class _Instruments:
    def __init__(self) -> None:
        from opentelemetry import metrics

        meter = metrics.get_meter(NAME)
        self.requests = meter.create_counter("esi.requests", "{request}", "HTTP requests sent to ESI")
        self.cache = meter.create_counter("esi.cache.results", "{call}", "Calls by cache result")
        self.not_modified = meter.create_counter("esi.cache.not_modified", "{response}", "304 answers")
        self.waits = meter.create_counter("esi.limit.waits", "{wait}", "Waits for the error or rate limit")
        self.wait_duration = meter.create_histogram("esi.limit.wait_duration", "s", "Time spent waiting")
        self.error_remaining = meter.create_gauge(
            "esi.error_limit.remaining", "{error}", "Errors left in ESI's error window"
        )
        self.bucket_remaining = meter.create_gauge(
            "esi.rate_limit.remaining", "{token}", "Tokens left in a rate-limit group's bucket"
        )
        self.refreshes = meter.create_counter("esi.token.refreshes", "{refresh}", "EVE SSO token refreshes")


_instruments: _Instruments | None = None


def _get() -> _Instruments:
    # Made on first use, so that an SDK configured after import still receives everything.
    global _instruments
    if _instruments is None:
        _instruments = _Instruments()
    return _instruments


def cache_result(record: CallRecord) -> str:
    counts = record.counts
    if counts.get("cache_hits"):
        return "hit"
    if counts.get("coalesced"):
        return "coalesced"
    if counts.get("not_modified"):
        return "revalidated"
    return "miss"


@contextmanager
def call_span(
    operation: Operation,
    error_budget: ErrorGate,
    rate_buckets: RateGate,
    principal: str | None,
    record: CallRecord | None = None,
) -> Iterator[CallRecord]:
    """The span and metrics of one call; the flow fills the record it yields (the caller's own,
    when it passed one)."""
    if record is None:
        record = CallRecord()
    attributes: dict[str, Any] = {
        "esi.operation_id": operation.id,
        "http.request.method": operation.method,
        "url.template": operation.path,
    }
    from opentelemetry import trace

    tracer = trace.get_tracer(NAME)
    with tracer.start_as_current_span(
        f"ESI {operation.id}", kind=trace.SpanKind.CLIENT, attributes=attributes
    ) as span:
        try:
            yield record
        finally:
            _finish(span, operation, record, error_budget, rate_buckets, principal)


def _finish(
    span: Any,
    operation: Operation,
    record: CallRecord,
    error_budget: ErrorGate,
    rate_buckets: RateGate,
    principal: str | None,
) -> None:
    counts, instruments = record.counts, _get()
    result = cache_result(record)
    if record.status is not None:
        span.set_attribute("http.response.status_code", record.status)
    span.set_attribute("esi.cache", result)
    span.set_attribute("esi.requests", int(counts.get("requests", 0)))
    span.set_attribute("esi.retries", int(counts.get("retries", 0)))
    span.set_attribute("esi.waited_seconds", float(counts.get("wait_seconds", 0.0)))
    labels = {"esi.operation_id": operation.id}
    if counts.get("requests"):
        instruments.requests.add(int(counts["requests"]), labels)
    instruments.cache.add(1, {**labels, "esi.cache": result})
    if counts.get("not_modified"):
        instruments.not_modified.add(int(counts["not_modified"]), labels)
    if counts.get("waits"):
        instruments.waits.add(int(counts["waits"]), labels)
        instruments.wait_duration.record(float(counts.get("wait_seconds", 0.0)), labels)
    remain = getattr(error_budget, "remain", None)
    if isinstance(remain, int):
        instruments.error_remaining.set(remain)
    if operation.rate_limit is not None:
        tokens = getattr(rate_buckets, "remaining", lambda *_: None)(operation, principal)
        if isinstance(tokens, int):
            instruments.bucket_remaining.set(tokens, {"esi.rate_limit.group": operation.rate_limit.group})


def token_refreshed(client_id: str) -> None:
    """Counted by esi_auth for each refresh EVE SSO answered."""
    if active():
        _get().refreshes.add(1, {"esi.client_id": client_id})
