"""The guide's view behaviour outside Django, shared by the Starlette/FastAPI and Flask adapters.

A view that needs a token asks `WebSSO.token_for(...)`; the answer is a token, or what to send
the browser instead: a redirect through EVE SSO (no token yet, or `new=True`), or the selection
page (several tokens). The login's `state` is bound to the browser session (a callback whose state
this session did not start is refused without storing anything), the pending login keeps the
page to return to, and tokens belong to the site user the app names (`current_user`).

Single-use tokens are never stored: after the callback the token waits in this process's memory
under a one-time ticket (5 minutes at most) that only the same browser session can redeem, so a
single-use view must be served by the process that handled its callback (sticky sessions).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from attrs import frozen

from esi_auth.app import SSOApp
from esi_auth.errors import LoginError
from esi_auth.query import TokenQuery
from esi_auth.scopes import normalise_scopes
from esi_auth.token import Token
from esi_auth.web.pages import error_page, selection_page

Session = MutableMapping[str, Any]
SESSION_STATES = "esi_states"  # the states of logins this browser started (bounded)
SESSION_CHOICES = "esi_choices"  # scopes key -> chosen token id
SESSION_FRESH = "esi_fresh"  # return_to -> token id of a login just finished (for new=True)
SESSION_TICKETS = "esi_tickets"  # return_to -> single-use ticket
SESSION_CSRF = "esi_csrf"
TICKET_SECONDS = 300.0
MAX_STATES = 8


@frozen
class Redirect:
    url: str


@frozen
class Page:
    status: int
    html: str


Outcome = Token | Redirect | Page


def scopes_key(scopes: tuple[str, ...]) -> str:
    return " ".join(scopes)


class WebSSO:
    """One SSOApp served to a web site: `current_user(request)` names the signed-in site user
    (None when nobody is); `base_path` is where the adapter mounts the SSO routes."""

    def __init__(
        self, app: SSOApp, current_user: Callable[[Any], str | None], *, base_path: str = "/sso"
    ) -> None:
        self.app = app
        self.current_user = current_user
        self.base_path = base_path.rstrip("/")
        self._tickets: dict[str, tuple[float, str, Token]] = {}
        self._tickets_lock = threading.Lock()

    # -- what a view gets --------------------------------------------------------------------

    def token_for(
        self, request: Any, session: Session, here: str, scopes: Any, *, new: bool = False
    ) -> Outcome:
        """`token_required`: one token of the current user with the scopes."""
        wanted = normalise_scopes(scopes)
        owner = self.current_user(request)
        if owner is None:
            return Page(403, error_page("Sign in to the site first: this page needs your EVE character."))
        fresh = session.get(SESSION_FRESH, {}).pop(here, None)
        if fresh is not None:
            session[SESSION_FRESH] = dict(session.get(SESSION_FRESH, {}))
            token = self._owned(fresh, owner, wanted)
            if token is not None:
                return token
        if new:
            return self.login_redirect(session, wanted, owner, here)
        candidates = self.app.tokens(owner=owner).require_scopes(wanted).all()
        chosen_id = session.get(SESSION_CHOICES, {}).get(scopes_key(wanted))
        for token in candidates:
            if token.id == chosen_id:
                return token
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            return self.login_redirect(session, wanted, owner, here)
        return Page(
            200, selection_page(candidates, wanted, self._csrf(session), f"{self.base_path}/select", here)
        )

    def tokens_for(self, request: Any, session: Session, here: str, scopes: Any) -> TokenQuery | Page:
        """`tokens_required`: every token of the current user with the scopes (a query)."""
        owner = self.current_user(request)
        if owner is None:
            return Page(403, error_page("Sign in to the site first: this page needs your EVE characters."))
        return self.app.tokens(owner=owner).require_scopes(normalise_scopes(scopes))

    def single_use_for(self, session: Session, here: str, ticket: str | None, scopes: Any) -> Outcome:
        """`single_use_token`: a token for this one view, never stored, no site user needed."""
        wanted = normalise_scopes(scopes)
        expected = session.get(SESSION_TICKETS, {}).get(here)
        if ticket and expected and hmac.compare_digest(ticket, expected):
            tickets = dict(session.get(SESSION_TICKETS, {}))
            tickets.pop(here, None)
            session[SESSION_TICKETS] = tickets
            with self._tickets_lock:
                self._expire_tickets()
                held = self._tickets.pop(ticket, None)
            if held is not None and set(wanted) <= set(held[2].scopes):
                return held[2]
        return self.login_redirect(session, wanted, None, here, single_use=True)

    # -- the SSO routes ----------------------------------------------------------------------

    def login_redirect(
        self,
        session: Session,
        scopes: tuple[str, ...],
        owner: str | None,
        here: str,
        *,
        single_use: bool = False,
    ) -> Redirect:
        return_to = _local(here)
        pending = self.app.login.start(
            scopes, owner=owner, return_to=("single:" if single_use else "") + return_to
        )
        states = [*session.get(SESSION_STATES, []), pending.state]
        for dropped in states[:-MAX_STATES]:  # the oldest of too many logins in this browser: gone
            self.app.store.take_pending_login(dropped)
        session[SESSION_STATES] = states[-MAX_STATES:]
        return Redirect(pending.url)

    def callback(self, session: Session, query: str, request: Any = None) -> Redirect | Page:
        """The SSO callback: finish a login this browser session started, for the site user who
        started it, and go back to its page."""
        from urllib.parse import parse_qs

        try:
            params = parse_qs(query, max_num_fields=20, strict_parsing=False)
        except ValueError:
            return Page(400, error_page("The callback's parameters are malformed; nothing was stored."))
        state = (params.get("state") or [""])[0]
        states = list(session.get(SESSION_STATES, []))
        if not state or state not in states:
            return Page(400, error_page("This login was not started from this browser; nothing was stored."))
        session[SESSION_STATES] = [known for known in states if known != state]
        started_by, pending_return = self._pending(state)
        if started_by is not None and self.current_user(request) != started_by:
            # Another site user signed in in this browser since the login started: the character
            # approved now is theirs to add, not the starter's.
            self.app.store.take_pending_login(state)
            return Page(
                403,
                error_page("The site user changed since this login started; nothing was stored.", again=True),
            )
        if "error" in params:
            self.app.store.take_pending_login(state)
            reason = params["error"][0]
            text = (
                "You declined the login at EVE SSO."
                if reason == "access_denied"
                else f"EVE SSO refused the login ({reason})."
            )
            return Page(400, error_page(f"{text} Nothing was stored.", again=True))
        single_use = pending_return is not None and pending_return.startswith("single:")
        try:
            done = self.app.login.complete(query, store_token=not single_use)
        except LoginError as exc:
            if exc.start_again:
                return Page(
                    400, error_page("This login has expired or was already used: start again.", again=True)
                )
            return Page(400, error_page(f"The login failed: {exc}", again=True))
        return_to = _local((done.return_to or "/").removeprefix("single:"))
        if single_use:
            ticket = secrets.token_urlsafe(24)
            with self._tickets_lock:
                self._expire_tickets()
                self._tickets[ticket] = (time.monotonic() + TICKET_SECONDS, return_to, done.token)
            session[SESSION_TICKETS] = {**session.get(SESSION_TICKETS, {}), return_to: ticket}
            separator = "&" if "?" in return_to else "?"
            return Redirect(f"{return_to}{separator}{urlencode({'esi_ticket': ticket})}")
        session.pop(SESSION_CSRF, None)  # a new login: forms signed before it are not honoured
        session[SESSION_FRESH] = {**session.get(SESSION_FRESH, {}), return_to: done.token.id}
        return Redirect(return_to)

    def select(self, request: Any, session: Session, form: dict[str, str]) -> Redirect | Page:
        """The selection page's form: remember the chosen token for these scopes."""
        if not hmac.compare_digest(form.get("csrf", ""), self._csrf(session)):
            return Page(400, error_page("The form expired or did not come from this site: reload the page."))
        owner = self.current_user(request)
        wanted = normalise_scopes(form.get("scopes", ""))
        raw_id = form.get("token", "")
        if not raw_id.isascii() or not raw_id.isdigit() or len(raw_id) > 18:
            return Page(400, error_page("No character was chosen."))
        token_id = int(raw_id)
        if owner is None or self._owned(token_id, owner, wanted) is None:
            return Page(400, error_page("That character is not one of yours."))
        session[SESSION_CHOICES] = {**session.get(SESSION_CHOICES, {}), scopes_key(wanted): token_id}
        return Redirect(_local(form.get("return_to", "/")))

    # -- helpers -----------------------------------------------------------------------------

    def _owned(self, token_id: int, owner: str, scopes: tuple[str, ...]) -> Token | None:
        token = self.app.store.get(token_id)
        if token is None or token.owner != owner or token.client_id != self.app.config.client_id:
            return None
        return token if set(scopes) <= set(token.scopes) else None

    def _pending(self, state: str) -> tuple[str | None, str | None]:
        """(the site user who started the login, where it goes back to)."""
        from sqlalchemy import select

        from esi_auth.store._schema import pending_logins

        with self.app.store.engine.connect() as db:
            row = db.execute(
                select(pending_logins.c.owner, pending_logins.c.return_to).where(
                    pending_logins.c.state == state
                )
            ).first()
        if row is None:
            return None, None
        owner, return_to = row
        return (None if owner is None else str(owner)), (None if return_to is None else str(return_to))

    def _csrf(self, session: Session) -> str:
        secret = session.get(SESSION_CSRF)
        if not secret:
            secret = session[SESSION_CSRF] = secrets.token_urlsafe(24)
        return hashlib.sha256(f"esikit-select:{secret}".encode()).hexdigest()

    def _expire_tickets(self) -> None:
        now = time.monotonic()
        for ticket in [t for t, (until, _, _) in self._tickets.items() if until < now]:
            del self._tickets[ticket]


def _local(url: str) -> str:
    """Only a path on this site: an absolute URL to elsewhere never becomes a redirect."""
    if "\\" in url or any(ord(char) < 0x20 for char in url):
        return "/"  # browsers read `/\\evil.example` as `//evil.example`: another site
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")
