"""`esi fake-server`: a separate process serving ESI, steered over /_fake/ by HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from joserfc import jws

from esi_client import ESIClient, ServerError
from esi_client.api.status import get_status
from testbed.servers import free_port, wait_for_port

ESI = str(Path(sys.executable).with_name("esi"))


@pytest.fixture
def served(spec_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    port = free_port()
    options: list[str] = getattr(request, "param", [])
    process = subprocess.Popen(
        [ESI, "fake-server", "--port", str(port), "--spec", str(spec_path), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        wait_for_port(port, 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_served_process_answers_and_takes_faults(served: str, generated_client: Path) -> None:
    client = ESIClient(app_name="t", contact="t", base_url=served)
    assert get_status.sync(client=client).players > 0
    assert httpx2.post(f"{served}/_fake/faults", json={"forced": [{"status": 503, "count": 9}]}).json() == {
        "ok": True
    }
    with pytest.raises(ServerError):
        get_status.sync(client=ESIClient(app_name="t", contact="t", base_url=served, cache=False))
    stats = httpx2.get(f"{served}/_fake/stats").json()
    assert stats["by_status"]["503"] == 4 and stats["by_operation"]["GetStatus"] == 5
    bad = httpx2.post(f"{served}/_fake/faults", json={"no_such_fault": 1})
    assert bad.status_code == 400 and "no_such_fault" in bad.json()["error"]


def test_busy_port_is_a_clear_error(served: str, spec_path: Path) -> None:
    port = served.rsplit(":", 1)[1]
    result = subprocess.run(
        [ESI, "fake-server", "--port", port, "--spec", str(spec_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


@pytest.mark.parametrize(
    "served", [["--refresh-rotation", "strict", "--sign-with", "ES256"]], indirect=True, ids=["strict-ES256"]
)
def test_the_sso_s_rotation_and_signing_key_are_options(served: str) -> None:
    minted = httpx2.post(
        f"{served}/_fake/token",
        json={"client_id": "cli-app", "scopes": ["esi-wallet.read_character_wallet.v1"]},
    ).json()
    header = jws.extract_compact(minted["access_token"].encode()).protected
    assert header["alg"] == "ES256"
    form = {"grant_type": "refresh_token", "client_id": "cli-app", "refresh_token": minted["refresh_token"]}
    assert httpx2.post(f"{served}/v2/oauth/token", data=form).status_code == 200
    reused = httpx2.post(f"{served}/v2/oauth/token", data=form)  # strict: any reuse revokes
    assert reused.status_code == 400 and httpx2.get(f"{served}/_fake/stats").json()["sso_revoked"] == 1
