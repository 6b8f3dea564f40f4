"""What a failed call says: one sentence for a network failure, the typed exception (with ESI's
own error text) for an error response."""

from __future__ import annotations

from esi_client._operation import Operation
from esi_client.errors import ESIResponseError, error_for_status
from esi_client.runtime.headers import retry_after_seconds
from esi_client.runtime.records import Received

_TRANSPORT_TEXT = {
    "ReadTimeout": "ESI sent no data within the read timeout",
    "ConnectTimeout": "no connection to ESI within the connect timeout",
    "WriteTimeout": "the request could not be sent within the write timeout",
    "PoolTimeout": "no free connection within the pool timeout",
    "ConnectError": "could not connect to ESI",
    "RemoteProtocolError": "ESI closed the connection or broke the HTTP protocol",
    "ReadError": "the connection failed while reading the answer",
    "WriteError": "the connection failed while sending the request",
    "CloseError": "the connection failed while closing",
    "ProxyError": "the proxy did not pass the request on",
    "LocalProtocolError": "the request could not be sent as valid HTTP",
}


def describe_transport_error(exc: Exception, retries: int) -> str:
    """One sentence for a network failure, never empty (httpx's async timeouts have no text)."""
    name = type(exc).__name__
    detail = str(exc).strip()
    text = _TRANSPORT_TEXT.get(name, "the request failed")
    retried = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
    return f"{text}{retried} ({name}{': ' + detail if detail else ''})"


def response_error(operation: Operation, received: Received, now: float) -> ESIResponseError:
    """The typed exception for an error response, with ESI's own error text when it sent one."""
    headers = received.headers
    return error_for_status(received.status_code)(
        operation_id=operation.id,
        status=received.status_code,
        error=_error_text(received),
        request_id=headers.get("x-esi-request-id") or headers.get("x-request-id"),
        retry_after=retry_after_seconds(headers.get("retry-after"), now),
        headers=headers,
        body=received.content,
    )


def _error_text(received: Received) -> str:
    content = received.content
    try:
        import orjson

        body = orjson.loads(content)
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return str(body["error"])[:500]
    except ValueError:
        pass
    kind = received.headers.get("content-type", "").split(";")[0].strip().lower() or "no content type"
    text = content.decode("utf-8", "replace").strip()
    if not text:
        return received.reason_phrase or "no error text"
    if kind == "text/html" or text.startswith("<"):
        return f"{received.reason_phrase or 'error'} (a non-JSON error page: {kind}, {len(content):,} bytes)"
    first_line = text.splitlines()[0]
    return first_line[:200] + ("…" if len(first_line) > 200 or "\n" in text else "")
