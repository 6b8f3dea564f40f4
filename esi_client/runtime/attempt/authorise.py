"""An authenticated call's token, from its TokenProvider, on the request: before the first
attempt, and once more after a 401 (a new token for the refused one)."""

from __future__ import annotations

from collections.abc import Generator
from functools import partial
from typing import Any

import httpx2

from esi_client.runtime.records import Actions, Blocking, FlowContext
from esi_client.seam import AccessToken


def authorise(
    context: FlowContext, request: httpx2.Request, refused: AccessToken | None = None
) -> Generator[Actions, Any, AccessToken | None]:
    """The token now on the request (None: the call needs none). Choosing or refreshing one may
    block (a store, EVE SSO), so it is a Blocking step: async calls make it in a worker thread."""
    tokens, wanted = context.tokens, context.token_request
    if tokens is None or wanted is None:
        return None
    if refused is None:
        token: AccessToken = yield Blocking(partial(tokens.token_for, wanted))
    else:
        token = yield Blocking(partial(tokens.token_after_refusal, wanted, refused))
    request.headers["Authorization"] = f"Bearer {token.access_token}"
    return token
