"""`esi proxy`: one caching, rate-limiting ESI endpoint for tools in any language.

A client points at the proxy instead of ESI; every operation of the spec passes through
esikit's runtime (cache, coalescing, ESI's rate-limit groups and error limit, retries and
deadlines, shared through Redis by every proxy instance), with tokens from the token store
(`X-Esi-Character: <id>`) or passed through (`Authorization: Bearer`). See docs/guides/proxy.md.
"""
