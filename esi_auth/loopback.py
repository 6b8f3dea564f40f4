"""Logging in from a CLI or desktop app (RFC 8252): a one-shot HTTP server on the loopback
address of the registered callback URL receives the browser's redirect.

EVE SSO matches the redirect URI exactly, so host, port and path come from the configured
callback URL (default http://localhost:8080/callback), never chosen at random.
"""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

from esi_auth.errors import LoginError
from esi_auth.login import LoginFlow
from esi_auth.token import Token

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
DONE_PAGE = b"<!doctype html><title>esikit</title><p>Logged in. You can close this window.</p>"


def _handler(server_path: str, received: threading.Event, answer: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if urlsplit(self.path).path != server_path or received.is_set():
                self.send_error(404)
                return
            answer.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(DONE_PAGE)))
            self.end_headers()
            self.wfile.write(DONE_PAGE)
            received.set()

        def log_message(self, format: str, *args: object) -> None:
            pass  # the query string holds the authorization code: never log it

    return Handler


def login_with_browser(
    flow: LoginFlow,
    scopes: str | Iterable[str],
    *,
    open_browser: Callable[[str], bool] = webbrowser.open,
    announce: Callable[[str], None] = print,
    paste: Callable[[], str] | None = None,
    timeout: float = 300.0,
    store_token: bool = True,
) -> Token:
    """Log in: open the authorize page, wait for the redirect, store and return the token.

    `announce` shows the URL (for a headless machine). When no browser opens and `paste` is
    given, the user pastes the address the browser was redirected to.
    """
    callback = urlsplit(flow.sso.config.callback_url)
    host, port = callback.hostname or "localhost", callback.port or 80
    if host not in LOOPBACK_HOSTS or callback.scheme != "http":
        raise LoginError(f"the callback URL {flow.sso.config.callback_url} is not an http loopback address")
    received, answer = threading.Event(), list[str]()
    try:
        server = HTTPServer((host, port), _handler(callback.path or "/", received, answer))
    except OSError as exc:
        raise LoginError(
            f"cannot listen on {host}:{port} for the login callback ({exc.strerror}); free the port or "
            "register another callback URL for the app and configure it"
        ) from None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        pending = flow.start(scopes)
        announce(pending.url)
        opened = open_browser(pending.url)
        if not opened and paste is not None:
            pasted = paste().strip()
            if pasted:
                answer.append(pasted)
                received.set()
        if not received.wait(timeout):
            raise LoginError(f"no login within {timeout:g} s; run the login again")
    finally:
        server.shutdown()
        server.server_close()
    return flow.finish(answer[0], store_token=store_token)
