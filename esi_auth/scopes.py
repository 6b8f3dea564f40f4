"""Scopes as the developer guide takes them: a list or one space-separated string."""

from __future__ import annotations

from collections.abc import Iterable


def normalise_scopes(scopes: str | Iterable[str] | None) -> tuple[str, ...]:
    """Sorted, unique scopes from a list, a tuple or a space-separated string."""
    if scopes is None:
        return ()
    items = scopes.split() if isinstance(scopes, str) else [s for scope in scopes for s in scope.split()]
    return tuple(sorted(set(items)))
