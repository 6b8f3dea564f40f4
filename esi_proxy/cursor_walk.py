"""`?page=all` on a cursor-paged route: pages followed `after` cursor after cursor from the
oldest, their records merged into one answer of the route's own shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from esi_proxy.answer import Answer
from esi_proxy.inbound import Call

MAX_PAGES = 1000  # a server that never ends a walk must not hold a request for ever


async def every_cursor_page(one: Callable[[Call], Awaitable[Answer]], call: Call) -> Answer:
    """Pages from `after=0` until one is empty or names no next cursor; the records of all in
    the route's list field, with the last page's cursor. A failed page is the answer."""
    records: list[Any] = []
    seen: set[str] = set()
    token, field, shape, waited = "0", None, {}, 0.0
    results: set[str] = set()
    first: Answer | None = None
    for _ in range(MAX_PAGES):
        answer = await one(_at(call, token))
        if answer.status != 200:
            return answer
        first = first or answer
        results.add(answer.cache)
        waited += answer.waited
        shape = orjson.loads(answer.body)
        field = field or next((name for name, value in shape.items() if isinstance(value, list)), None)
        page = shape.get(field, []) if field else []
        records.extend(page)
        following = (shape.get("cursor") or {}).get("after")
        if not page or not isinstance(following, str) or not following or following in seen:
            break
        seen.add(following)
        token = following
    assert first is not None
    merged = {**shape, field: records} if field else shape
    cache = results.pop() if len(results) == 1 else "mixed"
    return Answer(200, first.headers, orjson.dumps(merged), cache, waited)


def _at(call: Call, token: str) -> Call:
    params = {
        name: value for name, value in call.request["params"].items() if name not in ("before", "after")
    }
    return Call({**call.request, "params": {**params, "after": token}}, False, call.legacy)
