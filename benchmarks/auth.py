"""Issue 4's figures: choosing a token (character + scopes) among 100,000 stored tokens.

`token_choice_100k_sql_ms`: the SQL store (secrets inline). `token_choice_100k_ms`: the default
store's layout (metadata in SQLite, secrets in a keyring; here keyrings.alt's file backend, as
no desktop keyring runs on a server). `token_choice_100k_pg_ms`: the SQL store on a throwaway
PostgreSQL cluster (testbed/servers.py starts it). Baseline: fetching one token by primary key,
same database.
"""

from __future__ import annotations

import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from keyrings.alt.file import PlaintextKeyring

from benchmarks._harness import report
from esi_auth.store.secrets import KeyringSecrets
from esi_auth.store.sql import SQLTokenStore
from esi_auth.token import Token

TOKENS, PER_CHARACTER, SAMPLES = 100_000, 5, 60
SCOPES = [f"esi-scope-{n}.v1" for n in range(40)]
APP = "bench-app"


def _tokens(rng: random.Random) -> list[Token]:
    made = []
    for index in range(TOKENS):
        character = 90_000_000 + index // PER_CHARACTER
        scopes = tuple(rng.sample(SCOPES, rng.randint(5, 15)))
        made.append(
            Token(
                character_id=character,
                character_name=f"c{character}",
                owner_hash=f"o{character}",
                scopes=scopes,
                client_id=APP,
                access_token=f"a{index}",
                refresh_token=f"r{index}",
                expires_at=2e9,
                created_at=float(index),
                updated_at=float(index),
            )
        )
    return made


def _median_ms(store: SQLTokenStore, picks: list[tuple[int, tuple[str, ...]]]) -> float:
    samples = []
    for character, scopes in picks:
        started = time.perf_counter()
        store.query().filter(character_id=character, client_id=APP).require_scopes(scopes).first()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _as_keyring_store(work: Path, url: str) -> str:
    """A copy of the store recorded as keeping its secrets in the keyring (a store's mode is
    fixed when it is made; choosing a token reads no secret, so the rows can stay as they are)."""
    import sqlite3

    source = Path(url.removeprefix("sqlite:///"))
    copy = work / "keyring-tokens.sqlite"
    shutil.copyfile(source, copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE esi_store_meta SET value = 'keyring' WHERE key = 'secrets'")
    return f"sqlite:///{copy}"


def run() -> dict[str, float]:
    rng = random.Random(7)  # noqa: S311 (seeded sample data)
    work = Path(tempfile.mkdtemp(prefix="esikit-auth-bench-"))
    try:
        url = f"sqlite:///{work / 'tokens.sqlite'}"
        sql_store = SQLTokenStore(url, secrets="plaintext")
        tokens = _tokens(rng)
        sql_store.save_many(tokens)
        sample = rng.sample(tokens, SAMPLES)
        picks = [(t.character_id, tuple(rng.sample(t.scopes, 3))) for t in sample]
        by_id = statistics.median(
            _time_ms(lambda token_id=t.id or 0: sql_store.get(token_id)) for t in sample
        )
        sql_ms = _median_ms(sql_store, picks)
        backend = PlaintextKeyring()
        backend.file_path = str(work / "keyring.cfg")
        secrets = KeyringSecrets(backend, allow_insecure=True)
        for token in tokens:
            if token.character_id in {c for c, _ in picks}:
                secrets.seal(token.id or 0, "access", token.access_token)
                secrets.seal(token.id or 0, "refresh", token.refresh_token)
        keyring_url = _as_keyring_store(work, url)
        default_ms = _median_ms(SQLTokenStore(keyring_url, secrets=secrets), picks)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    query = f"query().filter(character_id=c, client_id=app).require_scopes(3 scopes).first(), {TOKENS} tokens"
    report("token_choice_100k_sql_ms", sql_ms, "ms", f"SQL store: {query}", ("get by primary key", by_id))
    report(
        "token_choice_100k_ms",
        default_ms,
        "ms",
        f"SQLite + keyring (file backend): {query}",
        ("get by primary key", by_id),
    )
    figures = {"token_choice_100k_ms": default_ms, "token_choice_100k_sql_ms": sql_ms}
    figures.update(_postgres(rng, query))
    return figures


def _postgres(rng: random.Random, query: str) -> dict[str, float]:
    from testbed.servers import postgres_server

    server = postgres_server()
    try:
        url = next(server)
    except BaseException as exc:
        print(f"token_choice_100k_pg_ms: not measured ({type(exc).__name__}: {exc})")
        return {}
    try:
        store = SQLTokenStore(url, secrets="plaintext")
        tokens = _tokens(rng)
        store.save_many(tokens)
        with store.engine.begin() as db:
            from sqlalchemy import text

            db.execute(text("ANALYZE"))
        sample = rng.sample(tokens, SAMPLES)
        picks = [(t.character_id, tuple(rng.sample(t.scopes, 3))) for t in sample]
        by_id = statistics.median(_time_ms(lambda token_id=t.id or 0: store.get(token_id)) for t in sample)
        pg_ms = _median_ms(store, picks)
        store.engine.dispose()
    finally:
        server.close()
    report(
        "token_choice_100k_pg_ms", pg_ms, "ms", f"PostgreSQL store: {query}", ("get by primary key", by_id)
    )
    return {"token_choice_100k_pg_ms": pg_ms}


def _time_ms(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000
