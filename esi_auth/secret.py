"""Secrets as values whose repr is masked.

An error reporter that records each frame's local variables (Sentry, rich tracebacks with
`show_locals`) calls `repr` on them: a refresh token in a plain `str` would land in its reports.
A `Secret` is a `str` (it goes to SSO, to the store and into headers unchanged) whose `repr`
shows only that it is one; every token read from a Token or from SSO's answer is one.
"""

from __future__ import annotations

from typing import overload


class Secret(str):
    __slots__ = ()

    def __repr__(self) -> str:
        return f"<secret: {len(self)} characters>"


@overload
def masked(value: str) -> Secret: ...


@overload
def masked(value: None) -> None: ...


def masked(value: str | None) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    return Secret(value)
