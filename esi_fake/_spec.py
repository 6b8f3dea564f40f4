"""What the fake ESI needs to know of each operation, read from CCP's spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from esi_fake._headers import daily_time
from esi_fake._validate import BodyRule, ParameterRule, body_rule, parameter_rules
from esi_generator.spec_facts import read_operations
from esi_generator.validate import iter_operations, resolve_ref


@dataclass(frozen=True)
class FakeOperation:
    id: str
    method: str
    path: str
    scopes: tuple[str, ...]
    paging: str | None
    cache_age: int | None
    rate_group: str | None
    rate_max_tokens: int
    rate_window: float
    success_status: int
    schema: Any  # None for a response without a body
    parameters: tuple[ParameterRule, ...] = ()
    body: BodyRule | None = None
    languages: bool = False  # declares Content-Language: names follow Accept-Language
    expires_daily_at: tuple[int, int] | None = None  # "This route expires daily at 11:05"


def fake_operations(spec: dict[str, Any]) -> list[FakeOperation]:
    facts = read_operations(spec)  # CCP's extensions checked too: a spec given as a dict is read here
    result = []
    for path, _method, operation in iter_operations(spec):
        fact = facts[operation["operationId"]]
        statuses = sorted(s for s in operation.get("responses", {}) if s.startswith("2"))
        success = statuses[0] if statuses else "200"
        response = resolve_ref(spec, operation["responses"].get(success, {}))
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        limit = fact.rate_limit
        result.append(
            FakeOperation(
                id=fact.id,
                method=fact.method,
                path=path,
                scopes=fact.scopes,
                paging=fact.paging,
                cache_age=fact.cache_age,
                rate_group=limit.group if limit else None,
                rate_max_tokens=limit.max_tokens if limit else 0,
                rate_window=float(limit.window_seconds) if limit else 0.0,
                success_status=int(success),
                schema=schema,
                parameters=parameter_rules(spec, operation),
                body=body_rule(spec, operation),
                languages="Content-Language" in response.get("headers", {}),
                expires_daily_at=daily_time(str(operation.get("description", ""))),
            )
        )
    return result
