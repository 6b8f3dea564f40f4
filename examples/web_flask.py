"""The same site as examples/web_fastapi.py, in Flask (esi_auth.web.flask)."""

from __future__ import annotations

import html
import os
import secrets
import tempfile
from pathlib import Path

import flask

from esi_auth import SSOApp, Token, TokenQuery
from esi_auth.web import WebSSO
from esi_auth.web.flask import blueprint, single_use_token, token_required, tokens_required
from esi_client import ESIClient
from esi_client.api.wallet import get_characters_character_id_wallet

WALLET = "esi-wallet.read_character_wallet.v1"


def make_app(sso: SSOApp, esi_base_url: str, session_secret: str | None = None) -> flask.Flask:
    web = WebSSO(sso, current_user=lambda request: flask.session.get("user"))
    client = ESIClient(
        app_name="esikit-web-example", contact="example@example.invalid", base_url=esi_base_url, auth=sso.auth
    )
    app = flask.Flask(__name__)
    app.secret_key = session_secret or secrets.token_urlsafe(32)
    app.register_blueprint(blueprint(web))

    def wallet_page(token: Token) -> str:
        balance = get_characters_character_id_wallet.sync(token.character_id, client=client.with_token(token))
        return (
            f"<h1>Wallet</h1><p id=character>{html.escape(token.character_name)} ({token.character_id})</p>"
            f"<p id=balance>{balance:,.2f} ISK</p><p><a href='/'>Home</a></p>"
        )

    @app.get("/")
    def home() -> str:
        user = flask.session.get("user")
        who = f"Signed in as {html.escape(user)}" if user else "Not signed in"
        links = "".join(
            f"<li><a href='{p}'>{p}</a></li>" for p in ("/wallet", "/wallet/new", "/characters", "/single")
        )
        return f"<h1>esikit web example</h1><p id=user>{who}</p><ul>{links}</ul>"

    @app.get("/signin")
    def signin() -> flask.Response:
        flask.session["user"] = flask.request.args["user"]
        return flask.redirect("/", 303)  # type: ignore[return-value]

    @app.get("/wallet")
    @token_required(scopes=WALLET)
    def wallet(token: Token) -> str:
        return wallet_page(token)

    @app.get("/wallet/new")
    @token_required(scopes=WALLET, new=True)
    def wallet_new(token: Token) -> str:
        return wallet_page(token)

    @app.get("/characters")
    @tokens_required(scopes=WALLET)
    def characters(tokens: TokenQuery) -> str:
        rows = "".join(f"<li>{html.escape(t.character_name)} ({t.character_id})</li>" for t in tokens)
        return f"<h1>Your characters</h1><ul id=characters>{rows}</ul>"

    @app.get("/single")
    @single_use_token(scopes=WALLET)
    def single(token: Token) -> str:
        return wallet_page(token)

    return app


if __name__ == "__main__":
    from cryptography.fernet import Fernet

    from esi_auth import SQLTokenStore, SSOConfig
    from esi_fake import FakeESIServer

    port = int(os.environ.get("PORT", "8001"))
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
        make_app(SSOApp(config, store), fake.url).run(host="127.0.0.1", port=port)
