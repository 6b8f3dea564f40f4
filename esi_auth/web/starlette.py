"""The guide's views for Starlette and FastAPI (extra `[web]`; needs SessionMiddleware).

    web = WebSSO(sso_app, current_user=lambda request: request.session.get("user"))
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key=...)
    install(app, web)                         # /sso/callback and /sso/select, and the handler

    @app.get("/wallet")
    def wallet(token: Token = Depends(TokenRequired(web, "esi-wallet.read_character_wallet.v1"))): ...

`TokenRequired(web, scopes, new=False)`: one of the current user's tokens (used if one, a
selection page if several, a login through EVE SSO if none; then back to this URL with the same
query). `TokensRequired(web, scopes)`: a query of all of them. `SingleUseToken(web, scopes)`: a
token for this view only, never stored, no site user needed. Sync and async endpoints alike (the
dependencies are sync: FastAPI runs them in its thread pool, off the event loop).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from esi_auth.query import TokenQuery
from esi_auth.token import Token
from esi_auth.web.core import Outcome, Page, Redirect, WebSSO


class InterruptView(Exception):
    """Raised by a dependency: answer the browser with `response` instead of the view."""

    def __init__(self, response: Response) -> None:
        super().__init__("answered by esi_auth")
        self.response = response


def _response(outcome: Redirect | Page) -> Response:
    # A redirect carries a login's state or a one-time ticket: no cache may keep it either.
    if isinstance(outcome, Redirect):
        return RedirectResponse(outcome.url, 303, headers={"Cache-Control": "no-store"})
    return HTMLResponse(outcome.html, outcome.status, headers={"Cache-Control": "no-store"})


def _here(request: Request) -> str:
    """This page's path and query (a one-time ticket left out): where a login comes back to."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "esi_ticket"]
    return request.url.path + (f"?{urlencode(kept)}" if kept else "")


def _token(outcome: Outcome) -> Token:
    if isinstance(outcome, Token):
        return outcome
    raise InterruptView(_response(outcome))


class TokenRequired:
    def __init__(self, web: WebSSO, scopes: Any, *, new: bool = False) -> None:
        self.web, self.scopes, self.new = web, scopes, new

    def __call__(self, request: Request) -> Token:
        return _token(self.web.token_for(request, request.session, _here(request), self.scopes, new=self.new))


class TokensRequired:
    def __init__(self, web: WebSSO, scopes: Any) -> None:
        self.web, self.scopes = web, scopes

    def __call__(self, request: Request) -> TokenQuery:
        outcome = self.web.tokens_for(request, request.session, _here(request), self.scopes)
        if isinstance(outcome, TokenQuery):
            return outcome
        raise InterruptView(_response(outcome))


class SingleUseToken:
    def __init__(self, web: WebSSO, scopes: Any) -> None:
        self.web, self.scopes = web, scopes

    def __call__(self, request: Request) -> Token:
        ticket = request.query_params.get("esi_ticket")
        return _token(self.web.single_use_for(request.session, _here(request), ticket, self.scopes))


def routes(web: WebSSO) -> list[Route]:
    """The SSO callback and the selection form's target, under `web.base_path`."""

    def callback(request: Request) -> Response:
        return _response(web.callback(request.session, request.url.query, request))

    async def select(request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        return _response(web.select(request, request.session, form))

    return [
        Route(f"{web.base_path}/callback", callback, methods=["GET"]),
        Route(f"{web.base_path}/select", select, methods=["POST"]),
    ]


async def _interrupted(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InterruptView)
    return exc.response


def install(app: Any, web: WebSSO) -> None:
    """Add the SSO routes and the handler that turns a dependency's redirect or page into the
    answer (a Starlette or FastAPI application)."""
    for route in routes(web):
        app.router.routes.append(route)
    app.add_exception_handler(InterruptView, _interrupted)
