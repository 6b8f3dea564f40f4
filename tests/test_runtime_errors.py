"""Each failure raises its typed exception, carrying operation, status, ESI's text, request id."""

from __future__ import annotations

import uuid

import pytest

from esi_client import (
    BadRequestError,
    BadResponseError,
    ESIResponseError,
    ForbiddenError,
    NotFoundError,
    RetryPolicy,
    ServerError,
    UnauthorizedError,
)
from esi_client.api.status import get_status
from esi_fake import ForcedReply
from tests.support.fixtures import ClientFactory, FakeESIServer


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, BadRequestError),
        (401, UnauthorizedError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (418, ESIResponseError),
        (500, ServerError),
    ],
)
def test_status_maps_to_exception(
    status: int, error_type: type[ESIResponseError], fake_esi: FakeESIServer, make_client: ClientFactory
) -> None:
    fake_esi.state.faults.forced = [ForcedReply(status, count=1, operation_id="GetStatus")]
    with pytest.raises(error_type) as caught:
        get_status.sync(client=make_client(retry=RetryPolicy(max_retries=0)))
    error = caught.value
    assert type(error) is error_type
    assert (error.operation_id, error.status) == ("GetStatus", status)
    assert error.error == f"forced {status} by the fake ESI"
    assert error.request_id and uuid.UUID(error.request_id).version == 4  # ESI's are UUIDs


def test_malformed_body(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    fake_esi.state.faults.malformed_rate = 1.0
    with pytest.raises(BadResponseError, match="GetStatus: response body is not valid JSON"):
        get_status.sync(client=make_client())


def test_authenticated_route_without_token(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    from esi_client.api.wallet import get_characters_character_id_wallet

    with pytest.raises(UnauthorizedError, match="GetCharactersCharacterIdWallet: HTTP 401"):
        get_characters_character_id_wallet.sync(90000001, client=make_client())
