"""Every page of a paged operation, in order, from one snapshot of the data.

    from esi_client.paging import all_pages
    orders = all_pages(get_markets_region_id_orders, 10000002, client=client)

X-Pages operations: page 1 says how many pages there are, the rest are fetched concurrently
(bounded), and the items come back in page order. Pages of one snapshot share Last-Modified; if
the data changes while paging, the whole walk restarts (revalidating against ESI, not the
cache) rather than mixing two snapshots. Cursor operations (`before`/`after`) are walked with
`iter_cursor` / `aiter_cursor`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import attrs

from esi_client._client import ESIClient
from esi_client._decode import gc_paused
from esi_client.errors import ESIError
from esi_client.types import Response

Progress = Callable[[int, int], None]  # (pages done, pages in all)


class PagingError(ESIError):
    """The data kept changing while paging; no consistent snapshot could be read."""


def _snapshot(response: Response[Any]) -> str | None:
    return response.last_modified


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
            progress = _Progress(on_page, first.pages or 1)
            workers = min(max_concurrency or current.max_concurrency, max(progress.total - 1, 1))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="esi-page") as pool:
                futures = [
                    pool.submit(module.sync_detailed, *args, client=current, page=page, **kwargs)
                    for page in range(2, progress.total + 1)
                ]
                rest = [_counted(future.result(), progress) for future in futures]
            items = _consistent([first, *rest])
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
            progress = _Progress(on_page, first.pages or 1)
            bound = asyncio.Semaphore(max_concurrency or current.max_concurrency)
            rest = await asyncio.gather(
                *(
                    _fetch_page(module, args, kwargs, current, page, bound, progress)
                    for page in range(2, progress.total + 1)
                )
            )
            items = _consistent([first, *rest])
            if items is not None:
                return items
            current = client.revalidating()
    raise PagingError(f"the data changed during each of {max_restarts + 1} walks", operation_id=operation_id)


def _consistent(pages: list[Response[Any]]) -> list[Any] | None:
    """The items in page order if every page is of one snapshot (one Last-Modified), else None."""
    if len({_snapshot(page) for page in pages}) > 1:
        return None
    return _flatten(pages)


def _counted(response: Response[Any], progress: _Progress) -> Response[Any]:
    progress.step()
    return response


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


async def _fetch_page(
    module: ModuleType,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    client: ESIClient,
    page: int,
    bound: asyncio.Semaphore,
    progress: _Progress,
) -> Response[Any]:
    async with bound:
        response: Response[Any] = await module.asyncio_detailed(*args, client=client, page=page, **kwargs)
    progress.step()
    return response


def _cursor_page(model: Any, direction: str, token: str) -> tuple[list[Any], str | None]:
    """The records of one cursor page and the token of the next one (None at the end)."""
    records: list[Any] = []
    for attribute in attrs.fields(type(model)):
        value = getattr(model, attribute.name)
        if isinstance(value, list) and attribute.name != "additional_properties":
            records = value
    following = getattr(getattr(model, "cursor", None), direction, None)
    if not records or not isinstance(following, str) or following in (token, "0"):
        return records, None
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
    token: str | None = start
    while token is not None:
        records, token = _cursor_page(
            module.sync(*args, client=client, **{direction: token}, **kwargs), direction, token
        )
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
    token: str | None = start
    while token is not None:
        call: Awaitable[Any] = module.asyncio(*args, client=client, **{direction: token}, **kwargs)
        records, token = _cursor_page(await call, direction, token)
        for record in records:
            yield record
