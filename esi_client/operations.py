"""Look up ESI operations by id and load their functions, from the generated index."""

from __future__ import annotations

import difflib
import importlib
from types import ModuleType

from esi_client._operation import Operation, Parameter, RateLimit


def _index() -> dict[str, Operation]:
    try:
        from esi_client.api._index import OPERATIONS
    except ImportError:
        raise LookupError("the generated client is missing: run `esi generate`") from None
    return OPERATIONS


def _renamed() -> dict[str, str]:
    """Old operationIds CCP renamed, to the current ones (empty for a client generated before)."""
    from esi_client.api import _index

    return dict(getattr(_index, "RENAMED", {}))


def renamed_to(operation_id: str) -> str | None:
    """The current id of an operation CCP renamed (`GetCharactersCharacterId` →
    `GetCharactersDetail`), by old id or old Python name; None when it was not renamed."""
    found = rename_of(operation_id)
    return None if found is None else found[1]


def rename_of(operation_id: str) -> tuple[str, str] | None:
    """(old id, current id) when `operation_id` is an old id or old Python name."""
    index = _index()
    for old, new in _renamed().items():
        if new in index and operation_id in (old, _snake(old)):
            return old, new
    return None


def _snake(operation_id: str) -> str:
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def all_operations() -> list[Operation]:
    """Every operation, sorted by id."""
    return sorted(_index().values(), key=lambda operation: operation.id)


def get_operation(operation_id: str) -> Operation:
    """An operation by ESI id (`GetMarketsRegionIdOrders`) or Python name (`get_markets_region_id_orders`)."""
    index = _index()
    if operation_id in index:
        return index[operation_id]
    for operation in index.values():
        if operation.python_name == operation_id:
            return operation
    current = renamed_to(operation_id)
    if current is not None and current in index:
        return index[current]
    raise LookupError(f"there is no ESI operation {operation_id!r}{_suggestions(operation_id, index)}")


def _suggestions(wanted: str, index: dict[str, Operation]) -> str:
    """The closest operation ids: those containing the text, then the most alike by spelling."""
    ids = list(index)
    lowered = {op.lower(): op for op in ids}
    containing = sorted(op for op in ids if wanted.lower() in op.lower())
    alike = [lowered[m] for m in difflib.get_close_matches(wanted.lower(), list(lowered), n=5, cutoff=0.6)]
    close = list(dict.fromkeys([*containing, *alike]))[:5]
    return f"; did you mean {', '.join(close)}?" if close else " (esi ops lists them)"


def load_module(operation: Operation) -> ModuleType:
    """The generated module with the operation's sync, sync_detailed, asyncio, asyncio_detailed."""
    return importlib.import_module(operation.module)


__all__ = [
    "Operation",
    "Parameter",
    "RateLimit",
    "all_operations",
    "get_operation",
    "load_module",
    "renamed_to",
]
