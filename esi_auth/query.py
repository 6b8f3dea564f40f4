"""Token queries after django-esi's queryset: filter, require scopes, require valid, newest first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, exists, func, select

from esi_auth.errors import InvalidGrantError, SSOError
from esi_auth.scopes import normalise_scopes
from esi_auth.store._schema import token_scopes, tokens
from esi_auth.token import Token

if TYPE_CHECKING:
    from esi_auth.refresh import TokenRefresher
    from esi_auth.store.sql import SQLTokenStore


class Anyone:
    """The default of `owner=`: tokens of every owner (and of none)."""

    def __repr__(self) -> str:
        return "ANYONE"


ANYONE = Anyone()


class TokenQuery:
    """An immutable query over a store; each method returns a narrower query."""

    def __init__(self, store: SQLTokenStore, statement: Select[Any] | None = None) -> None:
        self.store = store
        self.statement = statement if statement is not None else select(tokens)

    def _where(self, *conditions: Any) -> TokenQuery:
        return TokenQuery(self.store, self.statement.where(*conditions))

    def filter(
        self,
        *,
        character_id: int | None = None,
        owner_hash: str | None = None,
        client_id: str | None = None,
        owner: str | Anyone | None = ANYONE,
    ) -> TokenQuery:
        """Narrow by character, EVE owner hash, application and owner (the site's user id;
        `owner=None` is the tokens nobody owns, the default ANYONE does not narrow)."""
        conditions: list[ColumnElement[bool]] = []
        if owner is None:
            conditions.append(tokens.c.owner.is_(None))
        elif not isinstance(owner, Anyone):
            conditions.append(tokens.c.owner == owner)
        if character_id is not None:
            conditions.append(tokens.c.character_id == character_id)
        if owner_hash is not None:
            conditions.append(tokens.c.owner_hash == owner_hash)
        if client_id is not None:
            conditions.append(tokens.c.client_id == client_id)
        return self._where(*conditions)

    def require_scopes(self, scopes: str | Iterable[str]) -> TokenQuery:
        """Tokens that have at least these scopes: one primary-key lookup per scope and token,
        so the cost follows the other filters, not the number of stored tokens."""
        conditions = [
            exists().where(token_scopes.c.token_id == tokens.c.id, token_scopes.c.scope == scope)
            for scope in normalise_scopes(scopes)
        ]
        return self._where(*conditions)

    def require_scopes_exact(self, scopes: str | Iterable[str]) -> TokenQuery:
        return self._where(tokens.c.scopes == " ".join(normalise_scopes(scopes)))

    def equivalent_to(self, token: Token) -> TokenQuery:
        """Other tokens of the same character, application and scopes."""
        return self._where(
            tokens.c.character_id == token.character_id,
            tokens.c.client_id == token.client_id,
            tokens.c.scopes == " ".join(token.scopes),
            tokens.c.id != (token.id or -1),
        )

    def _ordered(self) -> Select[Any]:
        return self.statement.order_by(tokens.c.created_at.desc(), tokens.c.id.desc())

    def all(self) -> list[Token]:
        """Newest first."""
        with self.store.reader.connect() as db:
            rows = db.execute(self._ordered()).mappings().all()
        return self.store.tokens_from_rows(rows)

    def first(self) -> Token | None:
        with self.store.reader.connect() as db:
            row = db.execute(self._ordered().limit(1)).mappings().first()
        return self.store.tokens_from_rows([row])[0] if row else None

    def count(self) -> int:
        with self.store.reader.connect() as db:
            return int(db.execute(select(func.count()).select_from(self.statement.subquery())).scalar_one())

    def delete(self) -> int:
        with self.store.reader.connect() as db:
            ids = [int(row[0]) for row in db.execute(self.statement.with_only_columns(tokens.c.id))]
        return self.store.delete(ids)

    def __iter__(self) -> Any:
        return iter(self.all())

    def __len__(self) -> int:
        return self.count()

    def require_valid(self, refresher: TokenRefresher) -> list[Token]:
        """The tokens that are valid now: expired ones refreshed, dead ones deleted.

        A token whose refresh fails transiently (SSO down) is kept in the store but left out.
        """
        valid = []
        for token in self.all():
            try:
                valid.append(refresher.ensure_fresh(token))
            except InvalidGrantError:
                continue  # the refresher deleted it
            except SSOError as exc:
                if not exc.transient:
                    raise
        return valid
