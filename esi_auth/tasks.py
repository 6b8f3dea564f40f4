"""The cleanup jobs under the names django-esi's beat schedule uses, as Celery tasks when Celery
is installed (`pip install esikit[celery]`), else as plain functions.

    from esi_auth.tasks import beat_schedule
    app.conf.beat_schedule = beat_schedule("my-client-id")

CCP asks apps not to fire synchronised crons (`*/5`, on the hour): every app doing so hits ESI
and EVE SSO at the same second. `beat_schedule` places each job at minutes of the hour derived
from the app's client id (the same every time, different between apps), and the hourly token
job spreads its refreshes over ten minutes.

The tasks use the SSOApp given to `esi_auth.decorators.set_default_app` in the worker (for
example in the module that creates the Celery app). Each returns its summary as a dict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from esi_auth import cleanup
from esi_auth.decorators import resolve_app


def _cleanup_callbackredirect(max_age: float = 300) -> dict[str, Any]:
    return cleanup.cleanup_callbackredirect(resolve_app(None), max_age).as_dict()


def _cleanup_token() -> dict[str, Any]:
    return cleanup.cleanup_token(resolve_app(None)).as_dict()


SPREAD_SECONDS = 600.0  # the hourly token job's refreshes, spread over this time


def _cleanup_token_subset(fraction: float = 1 / 48, spread_seconds: float = SPREAD_SECONDS) -> dict[str, Any]:
    return cleanup.cleanup_token_subset(resolve_app(None), fraction, spread_seconds).as_dict()


def beat_schedule(client_id: str) -> dict[str, dict[str, Any]]:
    """Celery beat entries for the cleanup jobs, at this app's own minutes of the hour."""
    from celery.schedules import crontab

    minute = int(hashlib.sha256(client_id.encode()).hexdigest(), 16) % 60
    return {
        "esi_cleanup_callbackredirect": {
            "task": "esi_auth.tasks.cleanup_callbackredirect",
            "schedule": crontab(minute=(minute + 30) % 60, hour="*/4"),
        },
        "esi_cleanup_token": {
            "task": "esi_auth.tasks.cleanup_token_subset",
            "schedule": crontab(minute=minute, hour="*"),
            "options": {"expires": 3000},  # a run that could not start within the hour is dropped
        },
    }


def _task(function: Callable[..., dict[str, Any]], name: str) -> Any:
    try:
        from celery import shared_task
    except ImportError:
        return function
    return shared_task(name=f"esi_auth.tasks.{name}")(function)


cleanup_callbackredirect = _task(_cleanup_callbackredirect, "cleanup_callbackredirect")
cleanup_token = _task(_cleanup_token, "cleanup_token")
cleanup_token_subset = _task(_cleanup_token_subset, "cleanup_token_subset")
