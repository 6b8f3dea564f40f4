"""Every page of a paged operation, in order, from one snapshot of the data.

    from esi_client.paging import all_pages
    orders = all_pages(get_markets_region_id_orders, 10000002, client=client)

X-Pages operations: page 1 says how many pages there are, the rest are fetched concurrently
(bounded), and the items come back in page order. Pages of one snapshot share Last-Modified; if
the data changes while paging, the whole walk restarts (revalidating against ESI, not the
cache) rather than mixing two snapshots. The first failing page ends the walk: nothing more is
scheduled, pages in flight are cancelled (async) or finish (threads), and its error is raised.
Cursor operations (`before`/`after`) are walked with `iter_cursor` / `aiter_cursor` until an
empty page, as CCP documents; a cursor handed out twice raises PagingError.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

import attrs

from esi_client._client import ESIClient
from esi_client._decode import gc_paused
from esi_client._headers import header_int
from esi_client.errors import BadResponseError, ESIError
from esi_client.types import Response

Progress = Callable[[int, int], None]  # (pages done, pages in all)
MAX_PAGES_DIGITS = 6  # ESI's largest page counts are in the hundreds
MAX_CURSOR_CHARS = 512  # ESI's cursor tokens are short; a longer one is not a token


class PagingError(ESIError):
    """The data kept changing while paging; no consistent snapshot could be read."""


def _snapshot(response: Response[Any]) -> str | None:
    return response.last_modified


def _page_count(response: Response[Any], operation_id: str) -> int:
    """X-Pages: absent means one page; anything but a positive whole number is a bad answer."""
    raw = response.headers.get("x-pages")
    if raw is None:
        return 1
    count = header_int(raw, MAX_PAGES_DIGITS)
    if count is None or count < 1:
        raise BadResponseError(
            f"X-Pages is {raw[:40]!r}, not a page count", operation_id=operation_id, path="X-Pages", value=raw
        )
    return count


def _check(module: ModuleType) -> str:
    operation = module.OPERATION
    if operation.paging != "page":
        raise TypeError(f"{operation.id} is not paged by `page` (paging: {operation.paging})")
    return str(operation.id)


def _flatten(pages: Sequence[Response[Any]]) -> list[Any]:
    items: list[Any] = []
    for page in pages:
        items.extend(page.parsed or ())
    return items


def all_pages(
    module: ModuleType,
    *args: Any,
    client: ESIClient,
    max_concurrency: int | None = None,
    on_page: Progress | None = None,
    max_restarts: int = 3,
    **kwargs: Any,
) -> list[Any]:
    """All items of an X-Pages operation, in page order (threads fetch pages 2..N).

    The cyclic garbage collector is paused during the walk: it would otherwise re-scan every
    model decoded so far, again and again (the models hold no cycles; nothing is lost).
    """
    operation_id = _check(module)
    current = client
    with gc_paused():
        for _attempt in range(max_restarts + 1):
            first: Response[Any] = module.sync_detailed(*args, client=current, page=1, **kwargs)
            pages = [first]
            progress = _Progress(on_page, _page_count(first, operation_id))

            def fetch(page: int, client: ESIClient = current) -> Response[Any]:
                response: Response[Any] = module.sync_detailed(*args, client=client, page=page, **kwargs)
                return response

            while len(pages) < progress.total:  # a later page may report more pages: fetch them too
                numbers = range(len(pages) + 1, progress.total + 1)
                workers = min(max_concurrency or current.max_concurrency, len(numbers))
                pages += _fetch_in_threads(fetch, progress, numbers, workers)
                progress.grow(_most_pages(pages, operation_id))
            items = _consistent(pages)
            if items is not None:
                return items
            current = client.revalidating()
    raise PagingError(f"the data changed during each of {max_restarts + 1} walks", operation_id=operation_id)


async def all_pages_async(
    module: ModuleType,
    *args: Any,
    client: ESIClient,
    max_concurrency: int | None = None,
    on_page: Progress | None = None,
    max_restarts: int = 3,
    **kwargs: Any,
) -> list[Any]:
    """All items of an X-Pages operation, in page order (tasks fetch pages 2..N).

    The cyclic garbage collector is paused during the walk, as in all_pages.
    """
    operation_id = _check(module)
    current = client
    with gc_paused():
        for _attempt in range(max_restarts + 1):
            first: Response[Any] = await module.asyncio_detailed(*args, client=current, page=1, **kwargs)
            pages = [first]
            progress = _Progress(on_page, _page_count(first, operation_id))

            async def fetch(page: int, client: ESIClient = current) -> Response[Any]:
                response: Response[Any] = await module.asyncio_detailed(
                    *args, client=client, page=page, **kwargs
                )
                return response

            while len(pages) < progress.total:
                numbers = range(len(pages) + 1, progress.total + 1)
                workers = min(max_concurrency or current.max_concurrency, len(numbers))
                pages += await _fetch_in_tasks(fetch, progress, numbers, workers)
                progress.grow(_most_pages(pages, operation_id))
            items = _consistent(pages)
            if items is not None:
                return items
            current = client.revalidating()
    raise PagingError(f"the data changed during each of {max_restarts + 1} walks", operation_id=operation_id)


def _most_pages(pages: list[Response[Any]], operation_id: str) -> int:
    """The most pages any page reports: each page carries X-Pages, and a later one may say the
    data grew (same Last-Modified); its pages would otherwise go missing silently."""
    return max(_page_count(page, operation_id) for page in pages)


def _consistent(pages: list[Response[Any]]) -> list[Any] | None:
    """The items in page order if every page is of one snapshot (one Last-Modified), else None."""
    if len({_snapshot(page) for page in pages}) > 1:
        return None
    return _flatten(pages)


def _fetch_in_threads(
    fetch: Callable[[int], Response[Any]], progress: _Progress, wanted: range, workers: int
) -> list[Response[Any]]:
    """The `wanted` pages by `workers` threads taking the next page number; the first error
    stops every thread from taking another and is raised once the running ones have finished."""
    pages: dict[int, Response[Any]] = {}
    numbers = iter(wanted)
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work() -> None:
        while True:
            with lock:
                if failures:
                    return
                page = next(numbers, None)
            if page is None:
                return
            try:
                response = fetch(page)
            except BaseException as exc:
                with lock:
                    failures.append(exc)
                return
            with lock:
                pages[page] = response
                progress.step()

    threads = [threading.Thread(target=work, name=f"esi-page-{n}", daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return [pages[page] for page in wanted]


async def _fetch_in_tasks(
    fetch: Callable[[int], Awaitable[Response[Any]]], progress: _Progress, wanted: range, workers: int
) -> list[Response[Any]]:
    """The `wanted` pages by `workers` tasks; the first error cancels the others (their slots
    are given back by their flows) and is raised."""
    pages: dict[int, Response[Any]] = {}
    numbers = iter(wanted)

    async def work() -> None:
        for page in numbers:
            pages[page] = await fetch(page)
            progress.step()

    tasks = [asyncio.ensure_future(work()) for _ in range(workers)]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return [pages[page] for page in wanted]


class _Progress:
    """Counts pages done (page 1 on creation) and tells the caller's callback."""

    def __init__(self, callback: Progress | None, total: int) -> None:
        self.callback, self.total, self.done = callback, total, 1
        if callback:
            callback(1, total)

    def step(self) -> None:
        self.done += 1
        if self.callback:
            self.callback(self.done, self.total)

    def grow(self, total: int) -> None:
        if total > self.total:
            self.total = total
            if self.callback:
                self.callback(self.done, total)


class _Cursors:
    """The tokens a walk has used: CCP's walk ends on an empty page; a token seen before means
    the server is looping, and the walk would never end."""

    def __init__(self, module: ModuleType, direction: str, start: str) -> None:
        self.operation_id = str(module.OPERATION.id)
        self.direction = direction
        self.seen = {start}

    def step(self, model: Any) -> tuple[list[Any], str | None]:
        """The records of one page and the token of the next one (None at the end)."""
        records: list[Any] = []
        for attribute in attrs.fields(type(model)):
            value = getattr(model, attribute.name)
            if isinstance(value, list):  # the one list field (additional_properties is a dict)
                records = value
        following = getattr(getattr(model, "cursor", None), self.direction, None)
        if not records or not isinstance(following, str) or not following:
            return records, None
        if len(following) > MAX_CURSOR_CHARS:
            raise BadResponseError(
                f"the {self.direction} cursor is {len(following):,} characters long, not a cursor token",
                operation_id=self.operation_id,
                path=f"cursor.{self.direction}",
                value=following[:40] + "…",
            )
        if following in self.seen:
            raise PagingError(
                f"the server handed out the {self.direction} cursor {following!r} a second time: "
                "the walk would never end",
                operation_id=self.operation_id,
            )
        self.seen.add(following)
        return records, following


def _check_cursor(module: ModuleType, direction: str) -> None:
    if module.OPERATION.paging != "cursor":
        raise TypeError(f"{module.OPERATION.id} is not cursor-paged")
    if direction not in ("after", "before"):
        raise ValueError("direction must be 'after' (forwards) or 'before' (backwards)")


def iter_cursor(
    module: ModuleType,
    *args: Any,
    client: ESIClient,
    direction: str = "after",
    start: str = "0",
    **kwargs: Any,
) -> Iterator[Any]:
    """Every record of a cursor-paged operation, walking `after` (forwards) or `before`."""
    _check_cursor(module, direction)
    cursors = _Cursors(module, direction, start)
    token: str | None = start
    while token is not None:
        records, token = cursors.step(module.sync(*args, client=client, **{direction: token}, **kwargs))
        yield from records


async def aiter_cursor(
    module: ModuleType,
    *args: Any,
    client: ESIClient,
    direction: str = "after",
    start: str = "0",
    **kwargs: Any,
) -> AsyncIterator[Any]:
    """The async form of iter_cursor."""
    _check_cursor(module, direction)
    cursors = _Cursors(module, direction, start)
    token: str | None = start
    while token is not None:
        call: Awaitable[Any] = module.asyncio(*args, client=client, **{direction: token}, **kwargs)
        records, token = cursors.step(await call)
        for record in records:
            yield record
