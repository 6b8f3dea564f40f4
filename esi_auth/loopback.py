"""Logging in from a CLI or desktop app (RFC 8252): a one-shot HTTP server on the loopback
address of the registered callback URL receives the browser's redirect.

EVE SSO matches the redirect URI exactly, so host, port and path come from the configured
callback URL (default http://localhost:8080/callback), never chosen at random.
"""

from __future__ import annotations

import errno
import hmac
import html
import socket
import threading
import time
import webbrowser
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from esi_auth.errors import LoginError
from esi_auth.login import LoginFlow
from esi_auth.token import Token

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_PAGE = "<!doctype html><meta charset=utf-8><title>esikit login</title><p>{}</p>"
DONE_TEXT = "Logged in. You can close this window."


class _Server(ThreadingHTTPServer):
    """One thread per connection (an idle browser preconnect blocks nobody); IPv6 when the
    callback host is an IPv6 address."""

    daemon_threads = True

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), handler)


class _Callback:
    """What the loopback server waits for: the redirect carrying the state this login sent.

    Anything else (a stray request, another login's state: any web page can make the browser
    send one) gets an error page and the login goes on waiting. The expected redirect is checked
    in full (code exchanged, token validated and stored) before the page says "Logged in"."""

    def __init__(self, flow: LoginFlow, path: str, store_token: bool) -> None:
        self.flow, self.path, self.store_token = flow, path, store_token
        self.state: str | None = None
        self.done = threading.Event()
        self.token: Token | None = None
        self.error: LoginError | None = None

    def handle(self, raw_path: str) -> tuple[int, str]:
        parts = urlsplit(raw_path)
        if parts.path != self.path:
            return 404, "Not found."
        state = (parse_qs(parts.query).get("state") or [""])[0]
        if self.done.is_set() or self.state is None or not hmac.compare_digest(state, self.state):
            return 400, "This is not the login esikit is waiting for; nothing was done."
        self.finish(raw_path)
        if self.error is not None:
            return 400, html.escape(f"The login failed: {self.error}")
        return 200, DONE_TEXT

    def finish(self, callback: str) -> None:
        try:
            self.token = self.flow.finish(callback, store_token=self.store_token)
        except LoginError as exc:
            self.error = exc
        finally:
            self.done.set()


def _handler(callback: _Callback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a connection that sends nothing is dropped after this

        def do_GET(self) -> None:
            status, text = callback.handle(self.path)
            page = _PAGE.format(text).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the query string holds the authorization code: never log it

    return Handler


class BrowserProcess(Protocol):
    """A browser command started for the login (subprocess.Popen): watched while the login waits."""

    args: object

    def poll(self) -> int | None: ...


_WATCH_SECONDS = 0.2  # how often a started browser command is looked at while the login waits


def login_with_browser(
    flow: LoginFlow,
    scopes: str | Iterable[str],
    *,
    open_browser: Callable[[str], bool | BrowserProcess] = webbrowser.open,
    announce: Callable[[str], None] = print,
    paste: Callable[[], str] | None = None,
    timeout: float = 300.0,
    store_token: bool = True,
) -> Token:
    """Log in: open the authorize page, wait for the redirect, store and return the token.

    `announce` shows the URL (for a headless machine). When no browser opens and `paste` is
    given, the user pastes the address the browser was redirected to. `open_browser` may return
    the browser command's process: one that fails (a non-zero exit) before the login finishes
    ends the wait at once, naming it. `timeout` is a deadline for the whole login.
    """
    deadline = time.monotonic() + timeout
    callback_url = urlsplit(flow.sso.config.callback_url)
    host, port = callback_url.hostname or "localhost", callback_url.port or 80
    if host not in LOOPBACK_HOSTS or callback_url.scheme != "http":
        raise LoginError(f"the callback URL {flow.sso.config.callback_url} is not an http loopback address")
    waiting = _Callback(flow, callback_url.path or "/", store_token)
    try:
        server = _Server(host, port, _handler(waiting))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise LoginError(
                f"cannot listen on {host}:{port} for the login callback: the port is in use; free it or "
                "register another callback URL for the app and configure it"
            ) from None
        raise LoginError(f"cannot listen on {host}:{port} for the login callback ({exc.strerror})") from None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        pending = flow.start(scopes)
        waiting.state = pending.state
        flow.sso.check_authorize(pending.url)
        announce(pending.url)
        opened = open_browser(pending.url)
        if not opened and paste is not None:
            pasted = paste().strip()
            if pasted and not waiting.done.is_set():
                waiting.finish(pasted)
        _wait_for_the_callback(waiting, opened, deadline, timeout)
    finally:
        server.shutdown()
        server.server_close()
    if waiting.error is not None:
        raise waiting.error
    assert waiting.token is not None
    return waiting.token


def _wait_for_the_callback(
    waiting: _Callback, opened: bool | BrowserProcess, deadline: float, timeout: float
) -> None:
    process = None if isinstance(opened, bool) else opened
    while not waiting.done.wait(max(min(deadline - time.monotonic(), _WATCH_SECONDS), 0)):
        status = None if process is None else process.poll()
        if status:  # a browser command that failed will never bring the callback
            raise LoginError(
                f"the browser command exited with status {status} before the login finished; "
                "open the address above in a browser yourself, or fix ESI_BROWSER"
            )
        if time.monotonic() >= deadline:
            raise LoginError(f"no login within {timeout:g} s; run the login again")
