"""A lean HTTP/1.1 load generator: keep-alive connections, one request at a time on each,
raw asyncio streams (an HTTP client library would measure itself as much as the server)."""

from __future__ import annotations

import asyncio
import time


async def _connection(host: str, port: int, request: bytes, until: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            counts[0 if status < 400 else 1] += 1
    finally:
        writer.close()


async def _hammer(url: str, seconds: float, connections: int, headers: dict[str, str]) -> tuple[int, int]:
    rest = url.partition("://")[2]
    address, _, path = rest.partition("/")
    host, _, port = address.partition(":")
    lines = [f"GET /{path} HTTP/1.1", f"Host: {address}", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    counts = [0, 0]
    until = time.perf_counter() + seconds
    await asyncio.gather(
        *(_connection(host, int(port or 80), request, until, counts) for _ in range(connections))
    )
    return counts[0], counts[1]


def requests_per_second(url: str, seconds: float = 3.0, connections: int = 16, **headers: str) -> float:
    """Successful answers per second to GETs of `url`; an error answer fails the measurement."""
    started = time.perf_counter()
    ok, failed = asyncio.run(_hammer(url, seconds, connections, headers))
    if failed:
        raise RuntimeError(f"{failed} of {ok + failed} answers from {url} were errors")
    return ok / (time.perf_counter() - started)
