"""Every page of a paged operation, in order, from one snapshot of the data.

    from esi_client.paging import Walk, all_pages, iter_cursor
    orders = all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=client)
    walk = Walk(max_concurrency=4, on_page=report)
    orders = walk.all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=client)
    jobs = iter_cursor(get_freelance_jobs_listing.sync, client=client, before="0")

Each takes the generated function itself and that function's own arguments (typed with
ParamSpec: mypy checks them, and the items come back typed); the walk adds `page`, or the
cursor. X-Pages operations: page 1 says how many pages there are, the rest are fetched
concurrently (bounded), and the items come back in page order. Pages of one snapshot share
Last-Modified; if the data changes while paging, the whole walk restarts (revalidating against
ESI, not the cache) rather than mixing two snapshots. The first failing page ends the walk:
nothing more is scheduled, pages in flight are cancelled (async) or finish (threads), and its
error is raised. Cursor operations (`before`/`after`) are walked with `iter_cursor` /
`aiter_cursor` until an empty page, as CCP documents, in the direction of the cursor given
(`after="0"` when none is); a cursor handed out twice raises PagingError.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, ParamSpec, TypeVar

import attrs

from esi_client._operation import Operation
from esi_client.client.client import ESIClient
from esi_client.decoding.decode import gc_paused
from esi_client.errors import BadResponseError, ESIError
from esi_client.runtime.headers import header_int
from esi_client.types import UNSET, Response

P = ParamSpec("P")
T = TypeVar("T")
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


def _operation(fetch: Callable[..., Any], paging: str, forms: tuple[str, ...]) -> Operation:
    """The generated operation `fetch` belongs to; TypeError unless it is one of `forms` of an
    operation paged by `paging`."""
    operation = getattr(sys.modules.get(getattr(fetch, "__module__", "") or ""), "OPERATION", None)
    name = getattr(fetch, "__name__", repr(fetch))
    if not isinstance(operation, Operation) or name not in forms:
        raise TypeError(
            f"{name} is not a generated operation's {' or '.join(forms)} "
            f"(pass get_markets_region_id_orders.{forms[0]}, say)"
        )
    if operation.paging != paging:
        raise TypeError(f"{operation.id} is not paged by {paging} (paging: {operation.paging})")
    return operation


def _flatten(pages: Sequence[Response[list[T]]]) -> list[T]:
    items: list[T] = []
    for page in pages:
        items.extend(page.parsed or ())
    return items


@attrs.frozen
class Walk:
    """How a walk of X-Pages runs: at most `max_concurrency` pages at once (the client's own
    bound by default), `on_page(done, total)` told after each page, and at most `max_restarts`
    restarts when the data changes under it."""

    max_concurrency: int | None = None
    on_page: Progress | None = None
    max_restarts: int = 3

    def all_pages(
        self, fetch: Callable[P, Response[list[T]]], /, *args: P.args, **kwargs: P.kwargs
    ) -> list[T]:
        """All items of an X-Pages operation, in page order (threads fetch pages 2..N).

        The cyclic garbage collector is paused during the walk: it would otherwise re-scan every
        model decoded so far, again and again (the models hold no cycles; nothing is lost).
        """
        operation_id = _operation(fetch, "page", ("sync_detailed",)).id
        call: Callable[..., Response[list[T]]] = fetch
        client = _client_of(kwargs)
        current = client
        with gc_paused():
            for _attempt in range(self.max_restarts + 1):
                first = call(*args, client=current, page=1, **kwargs)
                pages = [first]
                progress = _Progress(self.on_page, _page_count(first, operation_id))

                def page_of(page: int, client: ESIClient = current) -> Response[list[T]]:
                    return call(*args, client=client, page=page, **kwargs)

                while len(pages) < progress.total:  # a later page may report more pages: fetch them too
                    numbers = range(len(pages) + 1, progress.total + 1)
                    workers = min(self.max_concurrency or current.max_concurrency, len(numbers))
                    pages += _fetch_in_threads(page_of, progress, numbers, workers)
                    progress.grow(_most_pages(pages, operation_id))
                items = _consistent(pages)
                if items is not None:
                    return items
                current = client.revalidating()
        raise _kept_changing(self.max_restarts, operation_id)

    async def all_pages_async(
        self, fetch: Callable[P, Awaitable[Response[list[T]]]], /, *args: P.args, **kwargs: P.kwargs
    ) -> list[T]:
        """All items of an X-Pages operation, in page order (tasks fetch pages 2..N).

        The cyclic garbage collector is paused during the walk, as in all_pages.
        """
        operation_id = _operation(fetch, "page", ("asyncio_detailed",)).id
        call: Callable[..., Awaitable[Response[list[T]]]] = fetch
        client = _client_of(kwargs)
        current = client
        with gc_paused():
            for _attempt in range(self.max_restarts + 1):
                first = await call(*args, client=current, page=1, **kwargs)
                pages = [first]
                progress = _Progress(self.on_page, _page_count(first, operation_id))

                async def page_of(page: int, client: ESIClient = current) -> Response[list[T]]:
                    return await call(*args, client=client, page=page, **kwargs)

                while len(pages) < progress.total:
                    numbers = range(len(pages) + 1, progress.total + 1)
                    workers = min(self.max_concurrency or current.max_concurrency, len(numbers))
                    pages += await _fetch_in_tasks(page_of, progress, numbers, workers)
                    progress.grow(_most_pages(pages, operation_id))
                items = _consistent(pages)
                if items is not None:
                    return items
                current = client.revalidating()
        raise _kept_changing(self.max_restarts, operation_id)


def all_pages(fetch: Callable[P, Response[list[T]]], /, *args: P.args, **kwargs: P.kwargs) -> list[T]:
    """All items of an X-Pages operation, in page order: `Walk().all_pages`."""
    return Walk().all_pages(fetch, *args, **kwargs)


async def all_pages_async(
    fetch: Callable[P, Awaitable[Response[list[T]]]], /, *args: P.args, **kwargs: P.kwargs
) -> list[T]:
    """All items of an X-Pages operation, in page order: `Walk().all_pages_async`."""
    return await Walk().all_pages_async(fetch, *args, **kwargs)


def _client_of(kwargs: dict[str, Any]) -> ESIClient:
    """The walk's client, taken out of the call's arguments: each page's call names its own."""
    client = kwargs.pop("client", None)
    if not isinstance(client, ESIClient):
        raise TypeError(f"a walk of pages needs client=ESIClient(...), not {type(client).__name__}")
    return client


def _kept_changing(max_restarts: int, operation_id: str) -> PagingError:
    return PagingError(f"the data changed during each of {max_restarts + 1} walks", operation_id=operation_id)


def _most_pages(pages: list[Response[Any]], operation_id: str) -> int:
    """The most pages any page reports: each page carries X-Pages, and a later one may say the
    data grew (same Last-Modified); its pages would otherwise go missing silently."""
    return max(_page_count(page, operation_id) for page in pages)


def _consistent(pages: list[Response[list[T]]]) -> list[T] | None:
    """The items in page order if every page is of one snapshot (one Last-Modified), else None."""
    if len({_snapshot(page) for page in pages}) > 1:
        return None
    return _flatten(pages)


def _fetch_in_threads(
    fetch: Callable[[int], Response[T]], progress: _Progress, wanted: range, workers: int
) -> list[Response[T]]:
    """The `wanted` pages by `workers` threads taking the next page number; the first error
    stops every thread from taking another and is raised once the running ones have finished."""
    pages: dict[int, Response[T]] = {}
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
    fetch: Callable[[int], Awaitable[Response[T]]], progress: _Progress, wanted: range, workers: int
) -> list[Response[T]]:
    """The `wanted` pages by `workers` tasks; the first error cancels the others (their slots
    are given back by their flows) and is raised."""
    pages: dict[int, Response[T]] = {}
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

    def __init__(self, operation: Operation, kwargs: dict[str, Any]) -> None:
        given = [name for name in ("after", "before") if kwargs.get(name, UNSET) not in (UNSET, None)]
        if len(given) > 1:
            raise ValueError("a cursor walk goes one way: pass `after` (forwards) or `before`, not both")
        self.direction = given[0] if given else "after"
        start = str(kwargs.pop(self.direction, "0"))
        kwargs.pop("before" if self.direction == "after" else "after", None)
        self.operation_id = operation.id
        self.seen = {start}
        self.token: str | None = start

    def step(self, model: Any) -> list[Any]:
        """The records of one page; `token` becomes the next page's (None at the end)."""
        records: list[Any] = []
        for attribute in attrs.fields(type(model)):
            value = getattr(model, attribute.name)
            if isinstance(value, list):  # the one list field (additional_properties is a dict)
                records = value
        following = getattr(getattr(model, "cursor", None), self.direction, None)
        self.token = None
        if not records or not isinstance(following, str) or not following:
            return records
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
        self.token = following
        return records


def iter_cursor(fetch: Callable[P, Any], /, *args: P.args, **kwargs: P.kwargs) -> Iterator[Any]:
    """Every record of a cursor-paged operation (`fetch` is its generated `sync`), walking
    forwards from the `after` cursor given, or backwards from `before` (`after="0"`: the
    oldest first, when neither is given)."""
    cursors = _Cursors(_operation(fetch, "cursor", ("sync",)), kwargs)
    call: Callable[..., Any] = fetch
    while cursors.token is not None:
        yield from cursors.step(call(*args, **{cursors.direction: cursors.token}, **kwargs))


async def aiter_cursor(
    fetch: Callable[P, Awaitable[Any]], /, *args: P.args, **kwargs: P.kwargs
) -> AsyncIterator[Any]:
    """The async form of iter_cursor (`fetch` is the operation's generated `asyncio`)."""
    cursors = _Cursors(_operation(fetch, "cursor", ("asyncio",)), kwargs)
    call: Callable[..., Awaitable[Any]] = fetch
    while cursors.token is not None:
        for record in cursors.step(await call(*args, **{cursors.direction: cursors.token}, **kwargs)):
            yield record
