"""`esi fake-server`: the fake ESI on 127.0.0.1, for demos, manual testing and benchmarks."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from esi_cli.console import console, fail
from esi_cli.context import one_line_errors


class Rotation(StrEnum):
    NONE = "none"
    TAKE_BACK = "take-back"
    STRICT = "strict"


class Signing(StrEnum):
    RS256 = "RS256"
    ES256 = "ES256"


def fake_server_command(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8089,
    spec: Annotated[
        str | None, typer.Option(help="Spec path or URL (default: $ESI_SPEC, then the pin).")
    ] = None,
    market_pages: Annotated[int, typer.Option(help="Pages of market orders per region.")] = 5,
    error_budget: Annotated[int, typer.Option(help="Errors allowed per error-limit window.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 1,
    app: Annotated[
        list[str] | None,
        typer.Option(
            "--app",
            help="Register an SSO app: CLIENT_ID[:SECRET]=CALLBACK_URL (repeatable; no secret: PKCE).",
        ),
    ] = None,
    refresh_rotation: Annotated[
        Rotation, typer.Option(help="What the SSO does with a used refresh token (docs/guides/fake.md).")
    ] = Rotation.TAKE_BACK,
    sign_with: Annotated[Signing, typer.Option(help="The access tokens' signing key.")] = Signing.RS256,
) -> None:
    """Serve every ESI operation with seeded data, ESI's headers and limits, and /_fake/ controls."""
    from esi_generator.errors import SpecError

    try:
        with one_line_errors():
            from esi_fake.server import FakeESIServer

            server = FakeESIServer(
                spec, port=port, seed=seed, market_pages=market_pages, error_budget=error_budget
            )
    except SpecError as exc:
        fail(str(exc), exc.exit_status)
    server.sso.refresh_rotation, server.sso.signing_algorithm = refresh_rotation.value, sign_with.value
    for registration in app or ():
        client, _, callback = registration.partition("=")
        client_id, _, secret = client.partition(":")
        if not client_id or not callback.startswith(("http://", "https://")):
            fail(f"--app {registration!r}: expected CLIENT_ID[:SECRET]=CALLBACK_URL")
        server.sso.apps[client_id] = secret or None
        server.sso.callbacks[client_id] = callback
    try:
        sock = server.bind()
    except OSError as exc:
        fail(str(exc))
    url = server.url
    apps = ", ".join(sorted(server.sso.apps)) or "none yet (--app, or POST /_fake/sso)"
    console.print(
        f"Fake ESI and EVE SSO on {url} (one server for both; Ctrl-C to stop)\n"
        "Point a program at it, from the shell:\n"
        f"  export ESI_BASE_URL={url} ESI_LOGIN_URL={url}\n"
        "or in Python:\n"
        f'  ESIClient(app_name=..., contact=..., base_url="{url}")\n'
        f'  SSOConfig(client_id=..., login_url="{url}")\n'
        f"SSO apps: {apps}; the character logged in: {server.sso.character.name} "
        f"({server.sso.character.character_id}); refresh tokens: {refresh_rotation.value}; "
        f"access tokens signed {sign_with.value}\n"
        f"Faults: POST {url}/_fake/faults; counts: GET {url}/_fake/stats",
        highlight=False,
        markup=False,
    )
    server.serve_forever(sock)
