"""The developer guide's decorators, for plain functions, async functions and typer commands.

@token_required(scopes="esi-wallet.read_character_wallet.v1")
def wallet(token: Token) -> float: ...

wallet()                    # one stored token: used; several: asked (or character_id=...)
wallet(character_id=9001)   # picks that character's token
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from esi_auth.app import SSOApp
from esi_auth.errors import AuthError
from esi_auth.scopes import normalise_scopes
from esi_auth.token import Token

R = TypeVar("R")
# The decorated function loses its `token`/`tokens` parameter (and may gain `character_id`),
# which ParamSpec cannot express for a keyword parameter: callers get Callable[..., R].
Decorator = Callable[[Callable[..., R]], Callable[..., R]]
_default_app: SSOApp | None = None


class TokenChoiceError(AuthError):
    """Several tokens fit and nobody is at a terminal to choose; the message lists them."""


def set_default_app(app: SSOApp | None) -> None:
    """The SSOApp the decorators use when none is passed to them."""
    global _default_app
    _default_app = app


def resolve_app(app: SSOApp | None) -> SSOApp:
    chosen = app or _default_app
    if chosen is None:
        raise AuthError(
            "no SSOApp: pass app=... to the decorator or call esi_auth.decorators.set_default_app"
        )
    return chosen


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def choose_token(
    app: SSOApp,
    scopes: tuple[str, ...],
    *,
    character_id: int | None = None,
    new: bool = False,
    ask: Callable[[list[Token]], Token] | None = None,
) -> Token:
    """The token the guide's token_required would pick, logging in when there is none."""
    if not new:
        query = app.tokens().require_scopes(scopes)
        if character_id is not None:
            query = query.filter(character_id=character_id)
        candidates = _one_per_character(query.all())
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            if ask is not None:
                return ask(candidates)
            if _interactive():
                return _prompt(candidates)
            listing = "; ".join(f"{t.character_name} ({t.character_id})" for t in candidates)
            raise TokenChoiceError(
                f"{len(candidates)} characters have tokens with {' '.join(scopes)}: {listing}. "
                "Pass character_id=... to choose one."
            )
    return app.login_with_browser(scopes)


def _one_per_character(tokens: list[Token]) -> list[Token]:
    seen: set[int] = set()
    newest = []
    for token in tokens:  # newest first
        if token.character_id not in seen:
            seen.add(token.character_id)
            newest.append(token)
    return newest


def _prompt(candidates: list[Token]) -> Token:
    for number, token in enumerate(candidates, 1):
        print(f"  {number}. {token.character_name} ({token.character_id})", file=sys.stderr)
    while True:
        answer = input(f"Which character? [1-{len(candidates)}] ").strip()
        if answer.isdigit() and 1 <= int(answer) <= len(candidates):
            return candidates[int(answer) - 1]


def _without(function: Callable[..., Any], name: str, extra: inspect.Parameter | None) -> inspect.Signature:
    """The signature callers (and typer) see: `name` filled in by the decorator."""
    signature = inspect.signature(function)
    parameters = [p for p in signature.parameters.values() if p.name != name]
    if extra is not None and extra.name not in signature.parameters:
        parameters.append(extra)
    return signature.replace(parameters=parameters)


CHARACTER_OPTION = inspect.Parameter(
    "character_id", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=int | None
)


def _decorate(
    function: Callable[..., R],
    name: str,
    supply: Callable[[dict[str, Any]], Any],
    extra: inspect.Parameter | None,
) -> Callable[..., R]:
    keeps_character = "character_id" in inspect.signature(function).parameters

    def arguments(kwargs: dict[str, Any]) -> dict[str, Any]:
        value = supply(kwargs)
        if not keeps_character:
            kwargs.pop("character_id", None)
        return {**kwargs, name: value}

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await function(*args, **arguments(kwargs))

        wrapper: Any = async_wrapper
    else:

        @functools.wraps(function)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            return function(*args, **arguments(kwargs))

        wrapper = sync_wrapper
    wrapper.__signature__ = _without(function, name, extra)
    decorated: Callable[..., R] = wrapper
    return decorated


def token_required(
    scopes: str | Iterable[str] = (), *, new: bool = False, app: SSOApp | None = None
) -> Decorator[Any]:
    """The function receives `token`: the one stored token with these scopes, the one the user
    picks among several (or `character_id=`), or a new login when there is none (or `new=True`)."""
    wanted = normalise_scopes(scopes)

    def decorate(function: Callable[..., R]) -> Callable[..., R]:
        def supply(kwargs: dict[str, Any]) -> Token:
            character = kwargs.get("character_id")
            return choose_token(resolve_app(app), wanted, character_id=character, new=new)

        return _decorate(function, "token", supply, CHARACTER_OPTION)

    return decorate


def tokens_required(scopes: str | Iterable[str] = (), *, app: SSOApp | None = None) -> Decorator[Any]:
    """The function receives `tokens`: a query of every stored token with these scopes."""
    wanted = normalise_scopes(scopes)

    def decorate(function: Callable[..., R]) -> Callable[..., R]:
        return _decorate(
            function, "tokens", lambda kwargs: resolve_app(app).tokens().require_scopes(wanted), None
        )

    return decorate


def single_use_token(scopes: str | Iterable[str] = (), *, app: SSOApp | None = None) -> Decorator[Any]:
    """The function receives `token` from a fresh login; the token is never stored."""
    wanted = normalise_scopes(scopes)

    def decorate(function: Callable[..., R]) -> Callable[..., R]:
        return _decorate(
            function,
            "token",
            lambda kwargs: resolve_app(app).login_with_browser(wanted, store_token=False),
            None,
        )

    return decorate
