"""A FastAPI site using the developer guide's view decorators (esi_auth.web.starlette).

Pages: `/wallet` (one of your characters: chosen, picked or logged in), `/wallet/new` (always a
fresh login), `/characters` (all of your characters with the scope), `/single` (a single-use
token: no site sign-in, nothing stored). Site users sign in at `/signin?user=NAME` (a stand-in
for the site's own accounts). Run against the fake ESI + SSO: `nox -s web-demo`.
"""

from __future__ import annotations

import html
import os
import secrets
import tempfile
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.middleware.sessions import SessionMiddleware

from esi_auth import SSOApp, Token, TokenQuery
from esi_auth.web import WebSSO
from esi_auth.web.starlette import SingleUseToken, TokenRequired, TokensRequired, install
from esi_client import ESIClient
from esi_client.api.wallet import get_characters_character_id_wallet

WALLET = "esi-wallet.read_character_wallet.v1"


def make_app(sso: SSOApp, esi_base_url: str, session_secret: str | None = None) -> FastAPI:
    web = WebSSO(sso, current_user=lambda request: request.session.get("user"))
    client = ESIClient(
        app_name="esikit-web-example", contact="example@example.invalid", base_url=esi_base_url, auth=sso.auth
    )
    app = FastAPI()
    app.add_middleware(
        SessionMiddleware, secret_key=session_secret or secrets.token_urlsafe(32), same_site="lax"
    )
    install(app, web)

    def wallet_page(token: Token) -> HTMLResponse:
        balance = get_characters_character_id_wallet.sync(token.character_id, client=client.with_token(token))
        return HTMLResponse(
            f"<h1>Wallet</h1><p id=character>{html.escape(token.character_name)} ({token.character_id})</p>"
            f"<p id=balance>{balance:,.2f} ISK</p><p><a href='/'>Home</a></p>"
        )

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> str:
        user = request.session.get("user")
        who = f"Signed in as {html.escape(user)}" if user else "Not signed in"
        links = "".join(
            f"<li><a href='{p}'>{p}</a></li>" for p in ("/wallet", "/wallet/new", "/characters", "/single")
        )
        return f"<h1>esikit web example</h1><p id=user>{who}</p><ul>{links}</ul>"

    @app.get("/signin")
    def signin(request: Request, user: str) -> RedirectResponse:
        request.session["user"] = user
        return RedirectResponse("/", 303)

    @app.get("/wallet")
    def wallet(token: Token = Depends(TokenRequired(web, WALLET))) -> HTMLResponse:
        return wallet_page(token)

    @app.get("/wallet/new")
    async def wallet_new(token: Token = Depends(TokenRequired(web, WALLET, new=True))) -> HTMLResponse:
        return wallet_page(token)  # an async endpoint: the dependency ran in the thread pool

    @app.get("/characters", response_class=HTMLResponse)
    def characters(tokens: TokenQuery = Depends(TokensRequired(web, WALLET))) -> str:
        rows = "".join(f"<li>{html.escape(t.character_name)} ({t.character_id})</li>" for t in tokens)
        return f"<h1>Your characters</h1><ul id=characters>{rows}</ul>"

    @app.get("/single")
    def single(token: Token = Depends(SingleUseToken(web, WALLET))) -> HTMLResponse:
        return wallet_page(token)

    return app


def main() -> None:
    """Serve the example against a fake ESI + SSO started here (what `nox -s web-demo` runs)."""
    import uvicorn
    from cryptography.fernet import Fernet

    from esi_auth import SQLTokenStore, SSOConfig
    from esi_fake import FakeESIServer

    port = int(os.environ.get("PORT", "8000"))
    callback = f"http://127.0.0.1:{port}/sso/callback"
    with FakeESIServer() as fake:
        fake.sso.apps["web-example"] = "web-example-secret"
        fake.sso.callbacks["web-example"] = callback
        # a fresh store each run, its secrets encrypted with a fresh key (keep yours outside the database)
        work = Path(tempfile.mkdtemp(prefix="esikit-web-example-"))
        store = SQLTokenStore(f"sqlite:///{work / 'tokens.sqlite'}", secret_key=Fernet.generate_key())
        config = SSOConfig(
            client_id="web-example",
            client_secret="web-example-secret",  # noqa: S106 (the fake SSO's demo app)
            callback_url=callback,
            login_url=fake.url,
        )
        print(
            f"fake ESI + SSO on {fake.url}; the site: http://127.0.0.1:{port}/ (sign in: /signin?user=alice)"
        )
        uvicorn.run(make_app(SSOApp(config, store), fake.url), host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
