"""A character sold or transferred: CCP's owner hash changes. One rule, at login and at refresh:
the app's tokens for that character from any earlier owner are removed; the new owner's stay."""

from __future__ import annotations

from esi_auth.events import Events
from esi_auth.store.sql import SQLTokenStore


def remove_earlier_owners(
    store: SQLTokenStore, events: Events, *, character_id: int, client_id: str, owner_hash: str
) -> int:
    """Delete this app's tokens for `character_id` whose owner is not `owner_hash`; how many."""
    stale = [
        token.id
        for token in store.query().filter(character_id=character_id, client_id=client_id)
        if token.owner_hash != owner_hash and token.id is not None
    ]
    if not stale:
        return 0
    removed = store.delete(stale)
    events.emit("owner_changed", character_id=character_id, removed=removed)
    return removed
