"""Hooks for what happens to tokens: `events.subscribe("token_revoked", callback)`."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("esi_auth")
Handler = Callable[..., None]


class Events:
    """token_saved, token_refreshed, token_revoked (invalid_grant), owner_changed."""

    def __init__(self) -> None:
        self._handlers: defaultdict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, name: str, handler: Handler) -> None:
        self._handlers[name].append(handler)

    def emit(self, name: str, **details: Any) -> None:
        logger.info("%s %s", name, {k: v for k, v in details.items() if k != "token"})
        for handler in self._handlers[name]:
            handler(**details)
