"""Hooks for what happens to tokens: `events.subscribe("token_revoked", callback)`."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Literal, get_args

logger = logging.getLogger("esi_auth")
Handler = Callable[..., None]
EventName = Literal["token_saved", "token_refreshed", "token_revoked", "owner_changed"]
EVENT_NAMES: tuple[str, ...] = get_args(EventName)


class Events:
    """token_saved, token_refreshed, token_revoked (invalid_grant), owner_changed."""

    def __init__(self) -> None:
        self._handlers: defaultdict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, name: EventName, handler: Handler) -> None:
        if name not in EVENT_NAMES:  # a misspelt name would otherwise never fire
            raise ValueError(f"no event {name!r}; the events are {', '.join(EVENT_NAMES)}")
        self._handlers[name].append(handler)

    def emit(self, name: EventName, **details: Any) -> None:
        logger.info("%s %s", name, {k: v for k, v in details.items() if k != "token"})
        for handler in self._handlers[name]:
            handler(**details)
