"""The runtime seam: shared ESI headers come from the client, errors raise typed exceptions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from esi_client import (
    BadResponseError,
    ConfigurationError,
    ErrorLimitedError,
    ESIClient,
    ForbiddenError,
    NotFoundError,
    ServerError,
)
from tests.recording_server import Reply, recording_server

STATUS = {"players": 31000, "server_version": "2345678", "start_time": "2026-11-24T11:00:00Z"}


def test_contact_is_required(generated_client: Path) -> None:
    with pytest.raises(ConfigurationError, match="contact"):
        ESIClient(app_name="x", contact="")


def test_shared_headers_and_parsed_result(generated_client: Path) -> None:
    from esi_client.api import COMPATIBILITY_DATE
    from esi_client.api.status import get_status

    with recording_server() as server:
        server.replies["/status"] = Reply(body=json.dumps(STATUS).encode())
        with ESIClient(
            app_name="tester", contact="qa@example.com", base_url=server.url, language="de"
        ) as client:
            status = get_status.sync(client=client)
        headers = server.requests[0].headers
    assert status.players == 31000
    assert status.start_time.year == 2026
    assert headers["x-compatibility-date"] == COMPATIBILITY_DATE == "2026-08-04"
    assert headers["x-tenant"] == "tranquility"
    assert headers["accept-language"] == "de"
    assert headers["user-agent"].startswith("tester (qa@example.com) esikit/")


async def test_async_call(generated_client: Path) -> None:
    from esi_client.api.status import get_status

    with recording_server() as server:
        server.replies["/status"] = Reply(body=json.dumps(STATUS).encode())
        async with ESIClient(app_name="tester", contact="qa@example.com", base_url=server.url) as client:
            response = await get_status.asyncio_detailed(client=client)
    assert response.status_code == 200
    assert response.parsed.server_version == "2345678"


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(404, NotFoundError), (403, ForbiddenError), (420, ErrorLimitedError), (503, ServerError)],
)
def test_error_statuses_raise_typed_exceptions(
    status: int, error_type: type[Exception], generated_client: Path
) -> None:
    from esi_client.api.universe import get_universe_types_type_id

    with recording_server() as server:
        server.replies["*"] = Reply(
            status,
            json.dumps({"error": "Type not found!"}).encode(),
            {"Content-Type": "application/json", "X-Request-Id": "abc-123"},
        )
        with (
            ESIClient(app_name="t", contact="c", base_url=server.url) as client,
            pytest.raises(error_type) as caught,
        ):
            get_universe_types_type_id.sync(587, client=client)
    error = caught.value
    assert error.operation_id == "GetUniverseTypesTypeId"  # type: ignore[attr-defined]
    assert error.status == status  # type: ignore[attr-defined]
    assert error.error == "Type not found!"  # type: ignore[attr-defined]
    assert error.request_id == "abc-123"  # type: ignore[attr-defined]
    assert "GetUniverseTypesTypeId" in str(error) and "Type not found!" in str(error)


def test_malformed_and_mismatched_bodies(generated_client: Path) -> None:
    from esi_client.api.status import get_status

    with recording_server() as server, ESIClient(app_name="t", contact="c", base_url=server.url) as client:
        server.replies["/status"] = Reply(body=b'{"players": 1,')
        with pytest.raises(BadResponseError, match="GetStatus: response body is not valid JSON"):
            get_status.sync(client=client)
        server.replies["/status"] = Reply(
            body=json.dumps({"players": 1, "start_time": "2026-11-24T11:00:00Z"}).encode()
        )
        with pytest.raises(BadResponseError, match="'server_version'") as caught:
            get_status.sync(client=client)
        assert caught.value.field == "server_version"
