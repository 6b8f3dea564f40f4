"""Arguments checked against the spec before anything is sent: ESI answers a value outside an
enum, a range or a pattern with a 400 that costs the app's error budget."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from esi_client._operation import Operation, Parameter
from esi_client.errors import InvalidArgumentError

# Per operation id, the parameters that carry a bound; most operations have none, so the check
# costs one dictionary look-up on the call path.
_CONSTRAINED: dict[str, tuple[Parameter, ...]] = {}


def _constrained(operation: Operation) -> tuple[Parameter, ...]:
    found = _CONSTRAINED.get(operation.id)
    if found is None:
        found = tuple(
            p
            for p in operation.parameters
            if p.location != "body"
            and (
                p.enum
                or p.minimum is not None
                or p.maximum is not None
                or p.pattern is not None
                or p.max_items is not None
            )
        )
        _CONSTRAINED[operation.id] = found
    return found


def _problem(parameter: Parameter, value: Any) -> str | None:
    """What the spec says is wrong with one value (an array's item), or None."""
    if parameter.enum and str(value) not in parameter.enum:
        return f"one of {', '.join(parameter.enum)}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if parameter.minimum is not None and value < parameter.minimum:
            return f"at least {parameter.minimum}"
        if parameter.maximum is not None and value > parameter.maximum:
            return f"at most {parameter.maximum}"
    if parameter.pattern is not None and isinstance(value, str) and not re.search(parameter.pattern, value):
        return f"a string matching {parameter.pattern}"
    return None


def check_arguments(operation: Operation, request: Mapping[str, Any]) -> None:
    """Raise InvalidArgumentError, naming the operation and the parameter, for a value the spec
    refuses. Values the spec leaves open pass untouched."""
    constrained = _constrained(operation)
    if not constrained:
        return
    query = request.get("params") or {}
    path = request.get("path_params") or {}
    for parameter in constrained:
        given = (path if parameter.location == "path" else query).get(parameter.name)
        if given is None:
            continue
        items = given if isinstance(given, list | tuple) else (given,)
        if parameter.max_items is not None and len(items) > parameter.max_items:
            _refuse(operation, parameter, given, f"at most {parameter.max_items} items")
        for item in items:
            expected = _problem(parameter, item)
            if expected is not None:
                _refuse(operation, parameter, item, expected)


def _refuse(operation: Operation, parameter: Parameter, value: Any, expected: str) -> None:
    raise InvalidArgumentError(
        f"{parameter.name}={value!r} is refused by the spec (expected {expected}); nothing was sent",
        operation_id=operation.id,
        parameter=parameter.name,
        value=value,
        expected=expected,
    )
