"""CCP's extensions on an operation, read and checked in one place: `security` (scopes),
`x-required-roles`, `x-scopes`, `x-cache-age`, `x-cache-mode`, `x-pagination`, `x-rate-limit`
and `x-compatibility-date`. A malformed one is a SpecError naming it, never garbage facts
(roles "Accountant" read as ('A', 'c', ...)). The spec's check (`validate`) and the facts the
client is generated with (`spec_facts`) both read them here."""

from __future__ import annotations

import re
from typing import Any

from attrs import frozen

from esi_client._operation import RateLimit
from esi_generator.errors import SpecError

PAGING_KINDS = ("cursor",)  # x-pagination; page paging is told by a `page` parameter
_WINDOW = re.compile(r"(\d+)([smhd])")
_WINDOW_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@frozen
class Extensions:
    scopes: tuple[str, ...]
    roles: tuple[str, ...]
    cursor_paged: bool
    cache_age: int | None
    cache_mode: str | None
    rate_limit: RateLimit | None
    compatibility_date: str | None


def read_extensions(operation: dict[str, Any], where: str) -> Extensions:
    """The operation's extensions, each checked for shape (`where` locates the operation)."""
    for name in ("x-required-roles", "x-scopes"):
        value = operation.get(name)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise SpecError(f"{where}/{name}", f"expected a list of strings, not {value!r}")
    cache_age = operation.get("x-cache-age")
    if cache_age is not None and (type(cache_age) is not int or cache_age < 0):
        raise SpecError(f"{where}/x-cache-age", f"expected whole seconds, not {cache_age!r}")
    paging = operation.get("x-pagination")
    if paging is not None and paging not in PAGING_KINDS:
        known = ", ".join(PAGING_KINDS)
        raise SpecError(
            f"{where}/x-pagination", f"expected one of {known} (what CCP's spec uses), not {paging!r}"
        )
    for name in ("x-cache-mode", "x-server-cache-mode", "x-compatibility-date"):
        value = operation.get(name)
        if value is not None and not isinstance(value, str):
            raise SpecError(f"{where}/{name}", f"expected a string, not {value!r}")
    return Extensions(
        scopes=_scopes(operation.get("security", []), where),
        roles=tuple(operation.get("x-required-roles", ())),
        cursor_paged=paging == "cursor",
        cache_age=cache_age,
        cache_mode=operation.get("x-cache-mode") or operation.get("x-server-cache-mode"),
        rate_limit=_rate_limit(operation.get("x-rate-limit"), f"{where}/x-rate-limit"),
        compatibility_date=operation.get("x-compatibility-date"),
    )


def _scopes(security: object, where: str) -> tuple[str, ...]:
    if not isinstance(security, list) or not all(
        isinstance(requirement, dict)
        and all(
            isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)
            for scopes in requirement.values()
        )
        for requirement in security
    ):
        raise SpecError(f"{where}/security", "expected a list of {scheme: [scope, ...]} objects")
    return tuple(scope for requirement in security for scopes in requirement.values() for scope in scopes)


def _rate_limit(limit: object, at: str) -> RateLimit | None:
    if limit is None:
        return None
    if not isinstance(limit, dict):
        raise SpecError(at, f"expected an object with group, max-tokens and window-size, not {limit!r}")
    if not isinstance(limit.get("group"), str) or not limit["group"]:
        raise SpecError(at, "group must be a non-empty string")
    tokens = limit.get("max-tokens")
    if type(tokens) is not int or tokens <= 0:
        raise SpecError(at, f"max-tokens must be a positive integer, not {tokens!r}")
    window = limit.get("window-size")
    match = _WINDOW.fullmatch(window.strip()) if isinstance(window, str) else None
    if match is None:
        raise SpecError(at, f"window-size must be a number with s, m, h or d (like 15m), not {window!r}")
    seconds = int(match.group(1)) * _WINDOW_UNITS[match.group(2)]
    return RateLimit(group=limit["group"], max_tokens=tokens, window_seconds=seconds)
