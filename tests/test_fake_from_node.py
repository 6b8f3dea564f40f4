"""Another language's client, with nothing but its defaults, works against the fake: Node's
built-in fetch (which sends `Accept-Language: *`). node comes from Debian's packages (.ci/run)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from testbed.servers import require_binary
from tests.support.fixtures import FakeESIServer

SCRIPT = Path(__file__).resolve().parent / "node" / "smoke.mjs"


def test_node_fetch_with_its_defaults(fake_esi: FakeESIServer) -> None:
    node = require_binary("node")
    done = subprocess.run(
        [node, str(SCRIPT), fake_esi.url], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["status"]["code"] == 200 and seen["status"]["players"] >= 0
    assert seen["orders"]["code"] == 200 and int(seen["orders"]["pages"]) >= 1 and seen["orders"]["count"] > 0
    assert seen["type"]["code"] == 200 and seen["type"]["name"]
    languages = seen["languages"]
    assert all(answer["code"] == 200 for answer in languages.values()), languages
    assert languages["*"]["language"] == "en"
    assert languages["en-US,en;q=0.9"]["language"] == "en"
    assert languages["de-DE"]["language"] == "de"
    assert languages["EN"]["language"] == "en"
    assert languages["xx"]["language"] == "en"  # nothing supported: English, as ESI does
    assert languages["fr;q=0.1, de;q=0.8"]["language"] == "de"  # the higher weight wins
    assert seen["names"]["code"] == 200 and sorted(seen["names"]["ids"]) == [34, 30000142]
