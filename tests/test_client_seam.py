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
from tests.support.recording_server import Reply, recording_server

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


def test_an_auth_of_the_users_own_is_told_which_call_it_authorises(generated_client: Path) -> None:
    """An httpx2.Auth gets the call's TokenRequest (operation, character, the caller's token)
    and its 401 comes back as it came: the runtime has no token of its own to refresh."""
    from collections.abc import Generator

    import httpx2

    from esi_client import UnauthorizedError
    from esi_client.api.wallet import get_characters_character_id_wallet
    from esi_client.seam import CALL_EXTENSION, TokenRequest

    told: list[TokenRequest] = []

    class Bearer(httpx2.Auth):
        def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
            told.append(request.extensions[CALL_EXTENSION])
            request.headers["Authorization"] = "Bearer from-the-users-own-auth"
            yield request

    with recording_server() as server:
        server.replies["/characters/90000001/wallet"] = Reply(status=401, body=b'{"error": "token"}')
        client = ESIClient(app_name="t", contact="c", base_url=server.url, auth=Bearer())
        with client, pytest.raises(UnauthorizedError, match="GetCharactersCharacterIdWallet: HTTP 401"):
            get_characters_character_id_wallet.sync(90000001, client=client)
        sent = [request.headers.get("authorization") for request in server.requests]
    assert sent == ["Bearer from-the-users-own-auth"]
    assert [(t.operation.id, t.character_id, t.given) for t in told] == [
        ("GetCharactersCharacterIdWallet", 90000001, None)
    ]
    assert client.stats.snapshot()["retries"] == 0


def test_an_auth_that_is_neither_a_token_provider_nor_an_httpx_auth_is_refused() -> None:
    with pytest.raises(ConfigurationError) as refused:
        ESIClient(app_name="t", contact="c", base_url="http://127.0.0.1:9", auth="Bearer abc")  # type: ignore[arg-type]
    assert str(refused.value) == (
        "auth must be a TokenProvider (esi_auth's SSOApp(...).auth) or an httpx2.Auth, not str"
    )
