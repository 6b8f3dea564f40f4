"""Answers that follow the request: the language it prefers, the ids and filters it names."""

from __future__ import annotations

import decimal
from typing import Any

import orjson
from starlette.requests import Request

from esi_client.client.settings import negotiated_language

PAGING_PARAMS = frozenset({"page", "before", "after", "limit"})


def preferred_language(request: Request) -> str:
    """The supported language the client prefers most (q-values honoured, `de-DE` is `de`,
    `EN` is `en`, `*` or nothing supported is English), as ESI chooses; never an error."""
    return negotiated_language(request.headers.get("accept-language")) or "en"


def follow_request(data: Any, request: Request) -> Any:
    """Generated data made to agree with the request: ids in the path come back, query filters
    hold for every item (`order_type` as `is_buy_order`), a search answers only the categories it
    names, and a body of ids is answered id by id."""
    path = {k: number for k, v in request.path_params.items() if (number := whole_number(str(v))) is not None}
    filters = {
        k: int(v) if v.isdigit() else v for k, v in request.query_params.items() if k not in PAGING_PARAMS
    }
    body_ids = _body_ids(getattr(request.state, "body", b""))

    def agree(item: Any) -> Any:
        if isinstance(item, dict):
            for key, value in (*path.items(), *filters.items()):
                if key in item and type(item[key]) is type(value):
                    item[key] = value
            order_type = filters.get("order_type")
            if "is_buy_order" in item and order_type in ("buy", "sell"):
                item["is_buy_order"] = order_type == "buy"
        return item

    categories = _listed(request, "categories")  # a search answers only the categories asked for
    if isinstance(data, dict) and categories:
        data = {key: value for key, value in data.items() if key in categories}
    if isinstance(data, list):
        if body_ids and data and isinstance(data[0], dict) and "id" in data[0]:
            data = [{**data[index % len(data)], "id": item_id} for index, item_id in enumerate(body_ids)]
        return [agree(item) for item in data]
    return agree(data)


def _listed(request: Request, name: str) -> set[str]:
    """A query array's items, repeated (`a=1&a=2`) or comma-separated (`a=1,2`)."""
    return {part for value in request.query_params.getlist(name) for part in value.split(",") if part}


def whole_number(text: str) -> int | None:
    """The integer a path segment names (34, or 34.0 as JSON Schema reads it), else None."""
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return None
    return int(number) if number.is_finite() and number == number.to_integral_value() else None


def _body_ids(body: bytes) -> list[int]:
    if not body.strip().startswith(b"["):
        return []
    try:
        ids = orjson.loads(body)
    except orjson.JSONDecodeError:
        return []
    return [i for i in ids if type(i) is int] if isinstance(ids, list) else []
