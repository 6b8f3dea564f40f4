"""Every example runs, against the fake ESI it starts itself."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import httpx2

from esi_client.api.status import get_status
from esi_client.api.universe import get_universe_types_type_id
from tests.support.fixtures import ClientFactory, FakeESIServer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(name: str) -> str:
    """The example's output; it starts a fake ESI of its own (the same data as `fake_esi`)."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result.stdout


def test_async_public_calls_prints_what_esi_said(
    generated_client: object, make_client: ClientFactory
) -> None:
    client = make_client()
    players = get_status.sync(client=client).players
    names = {
        type_id: get_universe_types_type_id.sync(type_id, client=client).name for type_id in (34, 35, 36)
    }
    lines = _run("async_public_calls").splitlines()
    assert lines[0] == f"{players} players online"
    assert lines[1:4] == [f"type {type_id}: {name}" for type_id, name in names.items()]
    assert lines[4].startswith("GetMarketsRegionIdOrders: HTTP 404: ")
    stats = ast.literal_eval(lines[5])
    assert (stats["requests"], stats["errors"], stats["cache_hits"]) == (5, 1, 0)


def test_decorators_and_cleanup_prints_the_wallet(generated_client: object, fake_esi: FakeESIServer) -> None:
    token = httpx2.post(f"{fake_esi.url}/_fake/token", json={"scopes": "all"}).json()
    wallet = httpx2.get(
        f"{fake_esi.url}/characters/{token['character_id']}/wallet",
        headers={"Authorization": f"Bearer {token['access_token']}", "X-Compatibility-Date": "2020-01-01"},
    )
    balance = f"{fake_esi.sso.character.name}: {float(wallet.text):,.2f} ISK"
    lines = _run("decorators_and_cleanup").splitlines()
    assert "/v2/oauth/authorize?" in lines[0] and "code_challenge_method=S256" in lines[0]
    assert lines[1:3] == [balance, balance]  # the decorated function, then the typer command
    assert lines[3] == "1 stored token(s) with esi-wallet.read_character_wallet.v1"
    assert ast.literal_eval(lines[4].removeprefix("cleanup: ")) == {
        "visited": 1, "refreshed": 0, "deleted": 0, "failed": 0
    }  # fmt: skip


def test_the_fleet_example_declares_its_tasks(generated_client: object) -> None:
    """A Celery app, not a script (tests/test_fleet_run.py runs the fleet): it imports, and
    every task its beat schedule starts is one it registers."""
    code = (
        "import json, examples.fleet_app as f; f.celery.loader.import_default_modules(); "
        "print(json.dumps([sorted(f.celery.tasks), "
        "sorted(entry['task'] for entry in f.celery.conf.beat_schedule.values())]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=EXAMPLES.parent
    )
    assert result.returncode == 0, result.stderr
    registered, scheduled = json.loads(result.stdout)
    assert {"fleet.market", "fleet.journal", "fleet.type", "fleet.round"} <= set(registered)
    assert "fleet.round" in scheduled and set(scheduled) <= set(registered), (scheduled, registered)


def test_every_example_is_checked() -> None:
    checked = {
        "async_public_calls",
        "decorators_and_cleanup",
        "fleet_app",
        "demo",
        "web_fastapi",
        "web_flask",
    }
    assert {path.stem for path in EXAMPLES.glob("*.py")} == checked  # web_*: tests/test_web_views.py


def test_demo_reports_what_happened(generated_client: object) -> None:
    demo = Path(__file__).resolve().parent.parent / "examples" / "demo.py"
    output = subprocess.run(
        [sys.executable, str(demo)], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "Logged in as Fake Pilot (90000001)" in output
    assert "Fake Pilot (90000001)" in output.split("$ esi tokens list", 1)[1]
    assert "(token chosen by ESIAuth)" in output
    assert "from cache = True" in output
    assert "20000 orders on 20 pages" in output
    assert "420s: 0" in output
