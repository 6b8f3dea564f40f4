"""The cleanup jobs under the names django-esi's beat schedule uses, as Celery tasks when Celery
is installed (`pip install esikit[celery]`), else as plain functions.

    app.conf.beat_schedule = {
        "esi_cleanup_callbackredirect": {"task": "esi_auth.tasks.cleanup_callbackredirect",
                                         "schedule": crontab(hour="*/4")},
        "esi_cleanup_token": {"task": "esi_auth.tasks.cleanup_token_subset",
                              "schedule": crontab(minute=0, hour="*")},
    }

The tasks use the SSOApp given to `esi_auth.decorators.set_default_app` in the worker (for
example in the module that creates the Celery app). Each returns its summary as a dict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from esi_auth import cleanup
from esi_auth.decorators import resolve_app


def _cleanup_callbackredirect(max_age: float = 300) -> dict[str, Any]:
    return cleanup.cleanup_callbackredirect(resolve_app(None), max_age).as_dict()


def _cleanup_token() -> dict[str, Any]:
    return cleanup.cleanup_token(resolve_app(None)).as_dict()


def _cleanup_token_subset(fraction: float = 1 / 48) -> dict[str, Any]:
    return cleanup.cleanup_token_subset(resolve_app(None), fraction).as_dict()


def _task(function: Callable[..., dict[str, Any]], name: str) -> Any:
    try:
        from celery import shared_task
    except ImportError:
        return function
    return shared_task(name=f"esi_auth.tasks.{name}")(function)


cleanup_callbackredirect = _task(_cleanup_callbackredirect, "cleanup_callbackredirect")
cleanup_token = _task(_cleanup_token, "cleanup_token")
cleanup_token_subset = _task(_cleanup_token_subset, "cleanup_token_subset")
