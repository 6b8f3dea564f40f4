"""An example fleet: a Celery app whose workers, on any number of hosts, pull public market
orders for several regions (all pages) and the wallet journals of many characters into
PostgreSQL, sharing one token store (PostgreSQL), one cache and one set of ESI limits (Redis).

    ESI_FLEET_DB=postgresql+psycopg://... ESI_FLEET_REDIS=redis://... ESI_CLIENT_ID=... \\
    ESI_SECRET_KEY=... celery -A examples.fleet_app worker --pool=threads --concurrency=4
    celery -A examples.fleet_app beat

Settings (environment): ESI_FLEET_DB, ESI_FLEET_REDIS (broker, cache and limits),
ESI_CLIENT_ID, ESI_SECRET_KEY (the token store's Fernet key), ESI_BASE_URL and ESI_SSO_URL
(CCP's by default), ESI_FLEET_REGIONS and ESI_FLEET_TYPES (comma-separated),
ESI_FLEET_ROUND_SECONDS (how often beat starts a round), ESI_FLEET_LIMITS ("redis", the
default, or "process": each process its own, to see what sharing prevents), ESI_REFRESH_MARGIN
(seconds before expiry a token is refreshed; 60 by default, for EVE's 20-minute tokens).
`nox -s fleet` runs it against the fake ESI.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from celery import Celery

from esi_auth import SQLTokenStore, SSOApp, SSOConfig
from esi_auth.tasks import beat_schedule
from esi_client import ESIClient, ESIError, RedisLimits
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.universe import get_universe_types_type_id
from esi_client.api.wallet import get_characters_character_id_wallet_journal
from esi_client.cache_stores import RedisCache

logger = logging.getLogger("fleet")
REDIS = os.environ.get("ESI_FLEET_REDIS", "redis://localhost:6379/0")
DB = os.environ.get("ESI_FLEET_DB", "postgresql+psycopg://esi@localhost/esi")
REGIONS = [int(r) for r in os.environ.get("ESI_FLEET_REGIONS", "10000002,10000043,10000032").split(",")]
TYPES = [int(t) for t in os.environ.get("ESI_FLEET_TYPES", "34,35,36").split(",")]  # looked up each round
ROUND_SECONDS = float(os.environ.get("ESI_FLEET_ROUND_SECONDS", "300"))
CLIENT_ID = os.environ.get("ESI_CLIENT_ID", "fleet-example")

celery = Celery("fleet", broker=REDIS, backend=REDIS)
celery.conf.task_serializer = celery.conf.result_serializer = "json"
celery.conf.task_acks_late = True  # a task a killed worker held is run again by another
celery.conf.task_reject_on_worker_lost = True
celery.conf.worker_prefetch_multiplier = 1
celery.conf.imports = ("esi_auth.tasks",)
# The app's own minutes of the hour for the token cleanup, and the rounds of work.
celery.conf.beat_schedule = {
    **beat_schedule(CLIENT_ID),
    "fleet_round": {"task": "fleet.round", "schedule": ROUND_SECONDS},
}

F = TypeVar("F", bound=Callable[..., Any])


def task(name: str) -> Callable[[F], F]:
    """celery.task, typed for mypy (Celery ships no type hints)."""
    decorator: Callable[[F], F] = celery.task(name=name)
    return decorator


metadata = sa.MetaData()
orders = sa.Table(
    "fleet_market_orders",
    metadata,
    sa.Column("order_id", sa.BigInteger, primary_key=True),
    sa.Column("region_id", sa.Integer, nullable=False),
    sa.Column("type_id", sa.Integer, nullable=False),
    sa.Column("price", sa.Float, nullable=False),
    sa.Column("volume_remain", sa.Integer, nullable=False),
    sa.Column("is_buy_order", sa.Boolean, nullable=False),
)
journal = sa.Table(
    "fleet_wallet_journal",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("character_id", sa.BigInteger, nullable=False),
    sa.Column("amount", sa.Float),
    sa.Column("ref_type", sa.String(100), nullable=False),
)


@functools.cache
def engine() -> sa.Engine:
    made = sa.create_engine(DB, pool_pre_ping=True)
    metadata.create_all(made)
    return made


@functools.cache
def sso_app() -> SSOApp:
    config = SSOConfig(
        client_id=CLIENT_ID, login_url=os.environ.get("ESI_SSO_URL", "https://login.eveonline.com")
    )
    margin = float(os.environ.get("ESI_REFRESH_MARGIN", "60"))
    return SSOApp(config, SQLTokenStore(DB, secret_key=os.environ["ESI_SECRET_KEY"]), refresh_margin=margin)


@functools.cache
def client() -> ESIClient:
    shared = os.environ.get("ESI_FLEET_LIMITS", "redis") == "redis"
    return ESIClient(
        app_name="esikit-fleet-example",
        contact="fleet@example.invalid",
        base_url=os.environ.get("ESI_BASE_URL", "https://esi.evetech.net"),
        auth=sso_app().auth,
        cache=RedisCache(REDIS),
        limits=RedisLimits(REDIS, app=CLIENT_ID) if shared else None,
        max_wait=2.0,  # a task does not sit on a worker waiting for a limit: it fails, beat retries
    )


def _upsert(table: sa.Table, rows: list[dict[str, Any]], key: str) -> None:
    if not rows:
        return
    from sqlalchemy.dialects.postgresql import insert

    statement = insert(table).values(rows)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name != key}
    with engine().begin() as db:
        db.execute(statement.on_conflict_do_update(index_elements=[key], set_=updates))


@task("fleet.market")
def pull_market(region_id: int) -> int:
    """Every order of a region, all pages, into PostgreSQL."""
    try:
        found = get_markets_region_id_orders.all_pages(region_id, client=client())
    except ESIError as exc:
        logger.warning("market %s: %s", region_id, exc)
        return 0
    rows = {
        o.order_id: {
            "order_id": o.order_id,
            "region_id": region_id,
            "type_id": o.type_id,
            "price": o.price,
            "volume_remain": o.volume_remain,
            "is_buy_order": o.is_buy_order,
        }
        for o in found
    }
    _upsert(orders, list(rows.values()), "order_id")
    return len(rows)


@task("fleet.journal")
def pull_journal(character_id: int) -> int:
    """A character's wallet journal (its stored token, refreshed as needed), into PostgreSQL."""
    try:
        entries = get_characters_character_id_wallet_journal.all_pages(character_id, client=client())
    except ESIError as exc:
        logger.warning("journal %s: %s", character_id, exc)
        return 0
    rows = {
        e.id: {"id": e.id, "character_id": character_id, "amount": e.amount, "ref_type": str(e.ref_type)}
        for e in entries
    }
    _upsert(journal, list(rows.values()), "id")
    return len(rows)


@task("fleet.type")
def look_up_type(type_id: int) -> str:
    try:
        return get_universe_types_type_id.sync(type_id, client=client()).name
    except ESIError as exc:
        logger.warning("type %s: %s", type_id, exc)
        return ""


@task("fleet.round")
def start_round() -> int:
    """One round of work: a task per region, per character with a token, per type."""
    characters = sorted({t.character_id for t in sso_app().tokens().all()})
    for region_id in REGIONS:
        celery.send_task("fleet.market", args=[region_id])
    for character_id in characters:
        celery.send_task("fleet.journal", args=[character_id])
    for type_id in TYPES:
        celery.send_task("fleet.type", args=[type_id])
    return len(REGIONS) + len(characters) + len(TYPES)
