"""Run the fake ESI: in a thread of this process (tests) or as `esi fake-server`."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from esi_fake._control import control_routes
from esi_fake._esi import ESIRoutes, sso_authorizer
from esi_fake._meta import error_handlers, meta_routes
from esi_fake._sso import SSOState
from esi_fake._sso_routes import sso_routes
from esi_fake._state import FakeState


def load_spec(spec: str | Path | None = None) -> dict[str, Any]:
    """CCP's spec from a path/URL, $ESI_SPEC, or the pin (the generator's resolution order)."""
    from esi_generator.pin import load_pin
    from esi_generator.source import resolve_spec
    from esi_generator.validate import parse_spec

    return parse_spec(resolve_spec(load_pin(), str(spec) if spec else None, check_pin=False))


def build_app(spec: dict[str, Any], state: FakeState, sso: SSOState) -> Starlette:
    """The fake ESI's routes, the fake SSO's, its spec, and the /_fake/ controls, on one server.
    Anything else gets ESI-shaped JSON errors, counted in the error limit."""
    esi = ESIRoutes(spec, state, sso_authorizer(sso, state.used_token))
    routes: list[BaseRoute] = [
        *control_routes(state, sso),
        *sso_routes(sso),
        *meta_routes(spec),
        *esi.routes(),
    ]
    return Starlette(routes=routes, exception_handlers=error_handlers(state))


def spec_scopes(spec: dict[str, Any]) -> frozenset[str]:
    """The scopes EVE SSO knows: the spec's OAuth2 flows, and publicData."""
    flows = spec.get("components", {}).get("securitySchemes", {}).get("OAuth2", {}).get("flows", {})
    scopes = {scope for flow in flows.values() for scope in flow.get("scopes", {})}
    return frozenset(scopes | {"publicData"})


class FakeESIServer:
    """A real HTTP server on 127.0.0.1 serving every ESI operation of the spec.

    with FakeESIServer() as fake:
        client = ESIClient(app_name="t", contact="t", base_url=fake.url)
        fake.state.faults.server_error_rate = 0.05
    """

    def __init__(
        self,
        spec: dict[str, Any] | str | Path | None = None,
        *,
        state: FakeState | None = None,
        sso: SSOState | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        **state_options: Any,
    ) -> None:
        self.spec = spec if isinstance(spec, dict) else load_spec(spec)
        self.state = state or FakeState(**state_options)
        self.sso = sso or SSOState(clock=self.state.clock)
        if self.sso.known_scopes is None:
            self.sso.known_scopes = spec_scopes(self.spec)
        self.host, self.port = host, port
        self.app = build_app(self.spec, self.state, self.sso)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def bind(self) -> socket.socket:
        """Listen on the configured port (0: any free one); names the port when it is busy."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(f"the fake ESI cannot listen on {self.host}:{self.port}: {exc.strerror}") from None
        self.port = sock.getsockname()[1]
        return sock

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            server_header=False,
            date_header=False,
            timeout_keep_alive=30,
        )

    def start(self) -> FakeESIServer:
        self._socket = self.bind()
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="fake-esi", daemon=True
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the fake ESI failed to start")
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def serve_forever(self, sock: socket.socket | None = None) -> None:
        """Serve in the foreground until interrupted (the CLI)."""
        sock = sock or self.bind()
        try:
            uvicorn.Server(self._config()).run(sockets=[sock])
        finally:
            sock.close()

    def __enter__(self) -> FakeESIServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
