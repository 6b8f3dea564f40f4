"""The cleanup jobs as Celery tasks, run by a real worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from esi_auth import SQLTokenStore, SSOApp, SSOConfig
from tests.support.fixtures import FakeESIServer, ManualClock

WALLET = "esi-wallet.read_character_wallet.v1"
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_cleanup_tasks_in_a_real_worker(
    fake_esi: FakeESIServer,
    esi_clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
) -> None:
    fake_esi.sso.apps["celery-app"] = None
    db_url = f"sqlite:///{tmp_path / 'tokens.sqlite'}"
    app = SSOApp(
        SSOConfig(client_id="celery-app", login_url=fake_esi.url),
        SQLTokenStore(db_url, secrets="plaintext"),
        clock=esi_clock,
    )
    made = []
    for _ in range(2):
        pending = app.start_login(WALLET)
        made.append(app.finish_login(httpx2.get(pending.url, follow_redirects=False).headers["location"]))
    alive, dead = made
    for token in made:
        token.expires_at = time.time() - 5  # expired, by the worker's (real) clock
        app.store.save(token)
    fake_esi.sso.fail_refresh_for = {dead.refresh_token or "": "invalid_grant"}

    env = {
        "ESIKIT_BROKER_URL": f"{redis_url.rsplit('/', 1)[0]}/4",
        "ESIKIT_RESULTS_URL": f"{redis_url.rsplit('/', 1)[0]}/5",
        "ESIKIT_CLIENT_ID": "celery-app",
        "ESIKIT_SSO_URL": fake_esi.url,
        "ESIKIT_DB_URL": db_url,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.support.celery_worker_app",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        from tests.support.celery_worker_app import app as celery

        summary = celery.send_task("esi_auth.tasks.cleanup_token").get(timeout=90)
        assert summary == {"visited": 2, "refreshed": 1, "deleted": 1, "failed": 0}
        subset = celery.send_task(
            "esi_auth.tasks.cleanup_token_subset", kwargs={"fraction": 1.0, "spread_seconds": 0}
        ).get(timeout=60)
        assert subset["visited"] == 1
        callbacks = celery.send_task("esi_auth.tasks.cleanup_callbackredirect", kwargs={"max_age": 300}).get(
            timeout=60
        )
        assert callbacks == {"visited": 0, "refreshed": 0, "deleted": 0, "failed": 0}
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert app.store.get(dead.id or 0) is None, output
    survivor = app.store.get(alive.id or 0)
    assert survivor is not None and survivor.expires_at > time.time()
