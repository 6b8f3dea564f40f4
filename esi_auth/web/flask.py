"""The guide's views for Flask (extra `[web]`; uses Flask's signed session).

    web = WebSSO(sso_app, current_user=lambda request: flask.session.get("user"))
    app.register_blueprint(blueprint(web))    # /sso/callback and /sso/select; the app's WebSSO

    @app.get("/wallet")
    @token_required(scopes="esi-wallet.read_character_wallet.v1")
    def wallet(token): ...

`token_required(scopes=..., new=False)`, `tokens_required(scopes=...)` (the view gets `tokens`,
a query) and `single_use_token(scopes=...)` behave as in esi_auth.web.starlette; they use the
WebSSO whose blueprint the app registered (or the one passed as `web=`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import flask

from esi_auth.query import TokenQuery
from esi_auth.token import Token
from esi_auth.web.core import Page, Redirect, WebSSO

View = Callable[..., Any]


def _here() -> str:
    request = flask.request
    kept = [(k, v) for k, values in request.args.lists() if k != "esi_ticket" for v in values]
    return request.path + (f"?{urlencode(kept)}" if kept else "")


def _answer(outcome: Redirect | Page) -> flask.Response:
    if isinstance(outcome, Redirect):
        return flask.Response("", 303, {"Location": outcome.url, "Cache-Control": "no-store"})
    return flask.Response(outcome.html, outcome.status, {"Cache-Control": "no-store"}, mimetype="text/html")


EXTENSION = "esikit_web"


def _web(web: WebSSO | None) -> WebSSO:
    found = web or flask.current_app.extensions.get(EXTENSION)
    if found is None:
        raise RuntimeError("register esi_auth.web.flask.blueprint(web) on the app, or pass web=...")
    return found


def token_required(
    web: WebSSO | None = None, scopes: Any = "", *, new: bool = False
) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            outcome = _web(web).token_for(flask.request, flask.session, _here(), scopes, new=new)
            if not isinstance(outcome, Token):
                return _answer(outcome)
            return view(*args, token=outcome, **kwargs)

        return wrapper

    return decorate


def tokens_required(web: WebSSO | None = None, scopes: Any = "") -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            outcome = _web(web).tokens_for(flask.request, flask.session, _here(), scopes)
            if not isinstance(outcome, TokenQuery):
                return _answer(outcome)
            return view(*args, tokens=outcome, **kwargs)

        return wrapper

    return decorate


def single_use_token(web: WebSSO | None = None, scopes: Any = "") -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ticket = flask.request.args.get("esi_ticket")
            outcome = _web(web).single_use_for(flask.session, _here(), ticket, scopes)
            if not isinstance(outcome, Token):
                return _answer(outcome)
            return view(*args, token=outcome, **kwargs)

        return wrapper

    return decorate


def blueprint(web: WebSSO, name: str = "esi_sso") -> flask.Blueprint:
    """The SSO callback and the selection form's target, under `web.base_path`."""
    routes = flask.Blueprint(name, __name__, url_prefix=web.base_path)

    @routes.record_once
    def remember(state: Any) -> None:
        state.app.extensions[EXTENSION] = web

    @routes.get("/callback")
    def callback() -> flask.Response:
        query = flask.request.query_string.decode("latin-1")
        return _answer(web.callback(flask.session, query, flask.request))

    @routes.post("/select")
    def select() -> flask.Response:
        form = {key: str(value) for key, value in flask.request.form.items()}
        return _answer(web.select(flask.request, flask.session, form))

    return routes
