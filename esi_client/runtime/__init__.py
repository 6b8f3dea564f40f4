"""The runtime under every call, as layers, each a folder with one job and its own cleanup.

A call passes down through them in this order (composed in `pipeline.py`):

1. `cache/` — a fresh answer ends the call; a stale one is revalidated with its ETag.
2. `coalescing/` — an identical request in flight, here or in another process sharing the
   cache, is waited for instead of sent again.
3. `limits/` — ESI's error budget and rate-limit buckets (this process's, or a fleet's in
   Redis): a slot is taken before each attempt and given back, exactly once, after it.
4. `attempt/` — one request and the pure decision on its outcome: done, retry after a wait, or
   raise the named error.
5. `wire/` — sending the request and reading its body, blocking or on an event loop, within the
   call's deadline.

`records.py` holds what the layers exchange with the drivers (Send, Sleep, Blocking, Await,
Received) and `FlowContext`, what a call is given of its client. Everything here is internal:
the stable surface is `esi_client`'s top-level modules.
"""
