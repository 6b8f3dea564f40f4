"""The baseline of `proxy_hit_rps`: a bare ASGI app on uvicorn answering fixed bytes with fixed
headers (those the proxy sent for the same request, read from $BARE_ANSWER)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_answer = json.loads(Path(os.environ["BARE_ANSWER"]).read_text(encoding="utf-8"))
_body = _answer["body"].encode()
_own = {"date", "server", "content-length", "transfer-encoding"}  # uvicorn's, or computed here
_headers = [(name.encode(), value.encode()) for name, value in _answer["headers"].items() if name not in _own]
_headers.append((b"content-length", str(len(_body)).encode()))


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _headers})
    await send({"type": "http.response.body", "body": _body})
