"""The proxy's login page: `/_proxy/login` adds a character through EVE SSO (esi_auth's web
views), stored where `X-Esi-Character` finds it. Its routes, the status page's with them, form a
small app of their own under /_proxy with a session: proxied calls never pay for one."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from esi_auth import SSOApp

MOUNT = "/_proxy"
OWNER = "esi-proxy"  # the proxy's characters belong to its operator, the one site user it has


def pages_app(
    sso_app: SSOApp | None, session_key: str, status: Callable[[Request], Any], scopes: tuple[str, ...]
) -> Starlette:
    """The app mounted at /_proxy: the status page, and with an SSO app the login."""
    routes: list[BaseRoute] = [Route("/", status, methods=["GET"])]
    if sso_app is None:
        routes.append(Route("/login", _no_sso_app, methods=["GET"]))
    else:
        from esi_auth.web.core import WebSSO
        from esi_auth.web.starlette import routes as sso_routes

        web = WebSSO(sso_app, current_user=lambda request: OWNER, base_path=f"{MOUNT}/sso")
        for route in sso_routes(web):
            assert isinstance(route, Route)
            routes.append(Route(route.path.removeprefix(MOUNT), route.endpoint, methods=route.methods))
        routes.append(Route("/login", _login_view(web, scopes), methods=["GET"]))
    session = Middleware(SessionMiddleware, secret_key=session_key, same_site="lax", path=MOUNT)
    return Starlette(routes=routes, middleware=[session])


def _login_view(web: Any, default_scopes: tuple[str, ...]) -> Callable[[Request], Response]:
    from esi_auth.token import Token
    from esi_auth.web.starlette import _response

    def login(request: Request) -> Response:
        wanted = request.query_params.get("scopes", "").split() or list(default_scopes)
        here = f"{MOUNT}/login" + (f"?{request.url.query}" if request.url.query else "")
        outcome = web.token_for(request, request.session, here, wanted, new=True)
        if not isinstance(outcome, Token):
            return _response(outcome)  # to EVE SSO, or a page saying what went wrong
        name = escape(f"{outcome.character_name} ({outcome.character_id})")
        return HTMLResponse(
            f'<!doctype html><meta charset="utf-8"><title>esi proxy: logged in</title>'
            f"<p id=character>Logged in: {name}, {len(outcome.scopes)} scopes.</p>"
            f"<p>Send <code>X-Esi-Character: {outcome.character_id}</code> to use its token.</p>"
            f'<p><a href="{MOUNT}/">The status page</a></p>',
            headers={"Cache-Control": "no-store"},
        )

    return login


def _no_sso_app(request: Request) -> Response:
    return HTMLResponse(
        "<!doctype html><p>This proxy has no SSO application configured: set client_id (ESI_CLIENT_ID) "
        "and callback_url (…/_proxy/sso/callback) and start it again.</p>",
        status_code=503,
    )
