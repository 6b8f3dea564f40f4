"""The environment a reader's machine has when they follow the docs, pointed at the fake ESI + SSO:
a home of its own, the config file the docs describe (client id `your-client-id`, registered at
the fake SSO), the default store, a stand-in browser that approves the login. It runs in the
harness's Python; only tests/support/docs_blocks.py runs in the reader's venv."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

from testbed.servers import free_port

DOCS_CLIENT_ID = "your-client-id"


def _post(url: str, data: dict[str, object]) -> None:
    request = urllib.request.Request(
        url, json.dumps(data).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


def docs_environment(
    fake_url: str,
    work: Path,
    *,
    python: str = sys.executable,
    redis_url: str | None = None,
    postgres_url: str | None = None,
) -> dict[str, str]:
    """Variables to run the docs' blocks with (merge into a clean os.environ)."""
    home = work / "home"
    for folder in ("config", "data", "cache", "state"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    callback = f"http://127.0.0.1:{free_port()}/callback"
    _post(f"{fake_url}/_fake/sso", {"apps": {DOCS_CLIENT_ID: {"secret": None, "callback": callback}}})
    config = home / "config" / "esikit" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "\n".join(
            [
                f'client_id = "{DOCS_CLIENT_ID}"',
                'contact = "you@example.com"',
                f'base_url = "{fake_url}"',
                f'login_url = "{fake_url}"',
                f'callback_url = "{callback}"',
                "",
            ]
        )
    )
    browser = f"{python} -m esi_fake.browser"
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "ESI_BROWSER": browser,
        "BROWSER": f"{browser} %s",  # Python's webbrowser module, for login_with_browser
        "DOCS_WORKDIR": str(work),
        "ESI_FAKE_URL": fake_url,
        "COLUMNS": "120",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    if postgres_url:
        env["DATABASE_URL"] = postgres_url
    return env
