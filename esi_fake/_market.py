"""Market orders at volume: pages of 1000 orders, made fast and served as pre-serialised bytes."""

from __future__ import annotations

import datetime
import random

import orjson

from esi_fake import _universe as universe

RANGES = ("station", "region", "solarsystem", "1", "2", "3", "4", "5", "10", "20", "30", "40")
_EPOCH = datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)
_ISSUED = [(_EPOCH + datetime.timedelta(seconds=97 * i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(4096)]


def market_orders_page(seed: str, page: int, size: int, region_id: int) -> bytes:
    """One page of a region's orders: ids of that region's own, in that region's systems, at
    those systems' stations."""
    rng = random.Random(f"{seed}:{page}")
    first_id = 6_000_000_000 + (region_id % 1000) * 10_000_000 + (page - 1) * size
    systems = universe.systems_of_region(region_id)
    rows = []
    for index in range(size):
        bits = rng.getrandbits(48)
        volume_total = 1 + (bits & 0x3FF)
        system = systems[(bits >> 30) % len(systems)]
        rows.append(
            {
                "duration": 90,
                "is_buy_order": bool(bits & 0x400),
                "issued": _ISSUED[(bits >> 11) & 0xFFF],
                "location_id": universe.stations_of_system(system)[
                    (bits >> 23) % universe.STATIONS_PER_SYSTEM
                ],
                "min_volume": 1,
                "order_id": first_id + index,
                "price": round(0.01 + ((bits >> 20) & 0xFFFFF) * 1.37, 2),
                "range": RANGES[(bits >> 40) % len(RANGES)],
                "system_id": system,
                "type_id": 18 + ((bits >> 8) & 0xFFFF),
                "volume_remain": 1 + (bits >> 16) % volume_total,
                "volume_total": volume_total,
            }
        )
    return orjson.dumps(rows)
