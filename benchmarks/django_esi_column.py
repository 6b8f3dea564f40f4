"""django-esi 10 on the runtime benchmark's work, run by the interpreter of its own venv.

    python django_esi_column.py URL SPEC REDIS_URL pages|cached|cold

The bench session installs django-esi (with Django, aiopenapi3, django-redis) into a venv of its
own so its dependencies (httpx2's brotli/zstd/http2 extras among them) do not change what the
other figures import. Django is configured in-process: an in-memory SQLite database and
django-redis as the cache (django-esi's rate-limit buckets need Redis' `SET NX`). SPEC is a copy
of CCP's spec whose `servers` names the fake ESI, made in a temporary directory by the bench.
Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any


def client(url: str, spec: str, redis_url: str, tag: str) -> Any:
    import django  # type: ignore[import-not-found,unused-ignore]
    from django.conf import settings  # type: ignore[import-not-found,unused-ignore]

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "esi"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CACHES={
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": uuid.uuid4().hex,  # every process starts with an empty cache
            }
        },
        ESI_API_URL=url + "/",
        ESI_USER_CONTACT_EMAIL="bench@example.invalid",
        USE_TZ=True,
    )
    django.setup()
    from esi.openapi_clients import ESIClientProvider  # type: ignore[import-not-found,unused-ignore]

    provider = ESIClientProvider(
        compatibility_date="2026-08-04", ua_appname="bench", ua_version="1.0", spec_file=spec, tags=[tag]
    )
    return provider.client


def main(url: str, spec: str, redis_url: str, mode: str) -> dict[str, float]:
    if mode == "cold":
        client(url, spec, redis_url, "Status").Status.GetStatus().result()
        return {}
    if mode == "cached":
        status = client(url, spec, redis_url, "Status").Status
        status.GetStatus().result()
        calls = 200
        started = time.perf_counter()
        for _ in range(calls):  # use_etag=False: the cached data, not HTTPNotModified, comes back
            status.GetStatus().result(use_etag=False)
        return {"fresh_cache_call_us": (time.perf_counter() - started) / calls * 1e6}
    market = client(url, spec, redis_url, "Market").Market
    started = time.perf_counter()
    orders = market.GetMarketsRegionIdOrders(region_id=10000002, order_type="all").results()
    return {"all_pages_s": time.perf_counter() - started, "items": len(orders)}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])))
