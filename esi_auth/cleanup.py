"""The guide's cleanup jobs: pending logins, and refreshing or removing stored tokens."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from attrs import asdict, define

from esi_auth.app import SSOApp
from esi_auth.errors import InvalidGrantError, SSOError

CONCURRENCY = 4  # token refreshes in flight at once: gentle on EVE SSO
BACKOFF_SECONDS = (0.5, 1.0, 2.0)  # after a transient failure, before the next refresh


@define
class CleanupSummary:
    visited: int = 0
    refreshed: int = 0
    deleted: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cleanup_callbackredirect(app: SSOApp, max_age: float = 300) -> CleanupSummary:
    """Remove pending logins older than `max_age` seconds."""
    deleted = app.store.delete_pending_logins_older_than(max_age, app.sso.clock.now())
    return CleanupSummary(visited=deleted, deleted=deleted)


def _visit(app: SSOApp, token_ids: list[int], spread_seconds: float = 0.0) -> CleanupSummary:
    """Visit the tokens, `spread_seconds` apart in all (each refresh waits its turn), so that a
    fleet's refreshes arrive at EVE SSO spread out, not as one burst."""
    summary = CleanupSummary()
    failures = 0
    gap = spread_seconds / len(token_ids) if token_ids and spread_seconds > 0 else 0.0
    turns = iter(range(len(token_ids)))
    started = app.sso.clock.now()
    turn_lock = threading.Lock()

    def one(token_id: int) -> str:
        nonlocal failures
        if gap:
            with turn_lock:
                turn = next(turns)
            app.sso.clock.sleep(max(started + turn * gap - app.sso.clock.now(), 0.0))
        token = app.store.get(token_id)
        if token is None:
            return "gone"
        if failures:
            app.sso.clock.sleep(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1])
        try:
            fresh = app.refresher.ensure_fresh(token)
        except InvalidGrantError:
            return "deleted"
        except SSOError as exc:
            if not exc.transient:
                raise
            failures += 1
            return "failed"
        failures = 0
        return "refreshed" if fresh.expires_at != token.expires_at else "valid"

    with ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="esi-cleanup") as pool:
        for outcome in pool.map(one, token_ids):
            if outcome == "gone":
                continue
            summary.visited += 1
            if outcome in ("refreshed", "deleted", "failed"):
                setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary


def cleanup_token(app: SSOApp) -> CleanupSummary:
    """Visit every token of this application (its client id; a shared store may hold other
    applications' tokens, which are never touched): refresh the expired, delete the dead
    (invalid_grant), keep and count the ones whose refresh failed transiently."""
    return _visit(app, app.store.token_ids(client_id=app.config.client_id))


def cleanup_token_subset(
    app: SSOApp, fraction: float = 1 / 48, spread_seconds: float = 0.0
) -> CleanupSummary:
    """The same for one bucket of tokens (id mod 1/fraction); the next call takes the next bucket.

    Called hourly with 1/48, every token is visited once every 48 calls, whatever is added or
    removed meanwhile, and never twice in one cycle. `spread_seconds` spreads the bucket's
    refreshes over that time instead of sending them at once.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], not {fraction}")
    buckets = max(1, round(1 / fraction))
    client_id = app.config.client_id
    position = app.store.advance_position(f"cleanup_token_subset:{client_id}:{buckets}", buckets)
    token_ids = app.store.token_ids(modulo=buckets, remainder=position, client_id=client_id)
    return _visit(app, token_ids, spread_seconds)
