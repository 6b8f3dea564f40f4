"""Look up ESI operations by id and load their functions, from the generated index."""

from __future__ import annotations

import importlib
from types import ModuleType

from esi_client._operation import Operation, Parameter, RateLimit


def _index() -> dict[str, Operation]:
    try:
        from esi_client.api._index import OPERATIONS
    except ImportError:
        raise LookupError("the generated client is missing: run `esi generate`") from None
    return OPERATIONS


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
    close = sorted(op for op in index if operation_id.lower() in op.lower())[:5]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise LookupError(f"no ESI operation {operation_id!r}{hint}")


def load_module(operation: Operation) -> ModuleType:
    """The generated module with the operation's sync, sync_detailed, asyncio, asyncio_detailed."""
    return importlib.import_module(operation.module)


__all__ = ["Operation", "Parameter", "RateLimit", "all_operations", "get_operation", "load_module"]
