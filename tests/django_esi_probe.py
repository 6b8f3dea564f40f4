"""Run by the django-esi conformance test with the interpreter of django-esi's own venv: a client
no one here wrote, configured only through its own settings, against `esi fake-server`.

    python django_esi_probe.py FAKE_URL REDIS_URL

Prints one JSON object with what it saw."""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any


def main(url: str, redis_url: str) -> dict[str, Any]:
    import django  # type: ignore[import-not-found,unused-ignore]
    from django.conf import settings  # type: ignore[import-not-found,unused-ignore]

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "esi"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CACHES={
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",  # django-esi's rate limits need SET NX
                "LOCATION": redis_url,
                "KEY_PREFIX": uuid.uuid4().hex,
            }
        },
        ESI_API_URL=url + "/",  # the spec comes from ESI_API_URL + meta/openapi.json
        ESI_USER_CONTACT_EMAIL="conformance@example.invalid",
        USE_TZ=True,
    )
    django.setup()
    from esi.openapi_clients import ESIClientProvider  # type: ignore[import-not-found,unused-ignore]

    client = ESIClientProvider(
        compatibility_date="2026-08-04",
        ua_appname="esikit-conformance",
        ua_version="1.0",
        tags=["Status", "Market", "Freelance Jobs"],
    ).client
    status = client.Status.GetStatus().result()
    orders = client.Market.GetMarketsRegionIdOrders(region_id=10000002, order_type="all").results()
    jobs = getattr(client, "Freelance Jobs")
    token, records, requests = "0", 0, 0
    while requests < 100:  # CCP's documented walk: follow `before` until an empty list
        requests += 1
        page = jobs.GetFreelanceJobsListing(before=token).result(use_etag=False)
        if not page.freelance_jobs:
            break
        records += len(page.freelance_jobs)
        token = page.cursor.before
    return {
        "players": status.players,
        "orders": len(orders),
        "cursor_records": records,
        "cursor_requests": requests,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
