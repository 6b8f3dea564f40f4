"""`client.asking(...)`: a view that asks ESI in another language, tenant or compatibility date,
sends it, and keeps its answers apart in the shared cache."""

from __future__ import annotations

import pytest

from esi_client.api.universe import get_universe_types_type_id
from esi_client.errors import ConfigurationError
from tests.support.fixtures import ClientFactory, FakeESIServer


def test_a_view_asks_in_its_own_language_and_is_cached_apart(
    make_client: ClientFactory, fake_esi: FakeESIServer
) -> None:
    client = make_client()
    english = get_universe_types_type_id.sync(34, client=client)
    german = get_universe_types_type_id.sync(34, client=client.asking(language="de"))
    again = get_universe_types_type_id.sync_detailed(34, client=client.asking(language="de"))
    assert german.name != english.name
    assert again.parsed.name == german.name and again.from_cache
    assert again.headers["content-language"] == "de"
    assert client.stats.requests == 2  # one for each language; the second German call a hit
    assert get_universe_types_type_id.sync(34, client=client).name == english.name


def test_a_view_with_another_tenant_or_date_sends_it(
    make_client: ClientFactory, fake_esi: FakeESIServer
) -> None:
    client = make_client()
    view = client.asking(tenant="singularity", compatibility_date="2025-12-16")
    assert view.headers["X-Tenant"] == "singularity" and view.headers["X-Compatibility-Date"] == "2025-12-16"
    assert client.headers["X-Tenant"] == "tranquility"  # the client itself is unchanged
    with pytest.raises(ConfigurationError, match="klingon"):
        client.asking(language="klingon")
