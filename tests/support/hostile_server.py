"""A misbehaving ESI on 127.0.0.1, scripted at the byte level.

Each test routes paths to handlers that get the parsed request and the raw socket, and write
whatever bytes they like: a well-formed answer (`answer`), a trickle, a reset, silence, a gzip
bomb. Connections are kept alive between requests as ESI's are, unless a handler closes them.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson


@dataclass
class RawRequest:
    method: str
    path: str  # with the query
    headers: dict[str, str]
    body: bytes

    @property
    def route(self) -> str:
        return self.path.split("?")[0]

    def query(self, name: str) -> str | None:
        from urllib.parse import parse_qs, urlsplit

        values = parse_qs(urlsplit(self.path).query).get(name)
        return values[0] if values else None


Handler = Callable[[RawRequest, socket.socket], bool | None]  # True: the handler closed it


@dataclass
class HostileServer:
    url: str
    requests: list[RawRequest] = field(default_factory=list)
    routes: dict[str, Handler] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, route: str, handler: Handler) -> None:
        self.routes[route] = handler

    def count(self, route: str) -> int:
        with self.lock:
            return sum(1 for request in self.requests if request.route == route)


def encode(status: int, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} X"]
    merged = {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}
    lines += [f"{name}: {value}" for name, value in merged.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def answer(
    conn: socket.socket, status: int = 200, body: object = None, headers: dict[str, str] | None = None
) -> None:
    raw = body if isinstance(body, bytes) else orjson.dumps(body if body is not None else {})
    conn.sendall(encode(status, headers or {}, raw))


def replies(status: int = 200, body: object = None, headers: dict[str, str] | None = None) -> Handler:
    """A handler that always answers the same."""

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        answer(conn, status, body, headers)

    return handle


def _drip(conn: socket.socket, data: bytes, every: float) -> bool:
    """Send `data` one byte every `every` seconds; True (the connection is done) either way."""
    for byte in data:
        time.sleep(every)
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return True
    return True


def trickle(body: bytes, every: float, headers: dict[str, str] | None = None) -> Handler:
    """Headers at once, then the body one byte at a time."""

    def handle(_request: RawRequest, conn: socket.socket) -> bool:
        raw = encode(200, headers or {}, body)
        head, _, rest = raw.partition(b"\r\n\r\n")
        conn.sendall(head + b"\r\n\r\n")
        return _drip(conn, rest, every)

    return handle


def trickle_headers(every: float, status: int = 200, body: bytes = b"{}") -> Handler:
    """The status line and headers one byte at a time: every read gets a byte before its timeout."""

    def handle(_request: RawRequest, conn: socket.socket) -> bool:
        return _drip(conn, encode(status, {"X-Padding": "x" * 200}, body), every)

    return handle


def silent(seconds: float) -> Handler:
    def handle(_request: RawRequest, conn: socket.socket) -> bool:
        time.sleep(seconds)
        return True

    return handle


def reset(_request: RawRequest, conn: socket.socket) -> bool:
    """Close with RST: the client sees 'connection reset'."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    return True


def gzip_bomb(decompressed_bytes: int) -> bytes:
    """A gzip body of zeros that inflates to `decompressed_bytes`."""
    return gzip.compress(b"0" * decompressed_bytes, compresslevel=9)


def _read_request(stream: BinaryIO) -> RawRequest | None:
    line = stream.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        header = stream.readline().decode("latin-1").rstrip("\r\n")
        if not header:
            break
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    body = stream.read(length) if length else b""
    return RawRequest(method, path, headers, body)


@contextmanager
def hostile_server() -> Iterator[HostileServer]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    server = HostileServer(f"http://127.0.0.1:{listener.getsockname()[1]}")
    stopping = threading.Event()
    open_connections: list[socket.socket] = []

    def serve(conn: socket.socket) -> None:
        stream = conn.makefile("rb")
        try:
            while not stopping.is_set():
                request = _read_request(stream)
                if request is None:
                    return
                with server.lock:
                    server.requests.append(request)
                handler = server.routes.get(request.route) or server.routes.get("*")
                if handler is None:
                    answer(conn, 404, {"error": "not found"})
                    continue
                if handler(request, conn):
                    return
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def accept() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            open_connections.append(conn)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield server
    finally:
        stopping.set()
        listener.close()
        for conn in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


def client_for(server: HostileServer, **options: Any) -> Any:
    """An ESIClient against the hostile server."""
    from esi_client import ESIClient

    return ESIClient(
        app_name="hostile-tests", contact="tests@example.invalid", base_url=server.url, **options
    )
