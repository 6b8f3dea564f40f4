"""Layer 1, the cache: a fresh answer ends the call; a stale one is revalidated."""
