"""Run by the django-esi conformance test with the interpreter of django-esi's own venv: a client
no one here wrote, configured only through its own settings (plus the JWKS URL, a constant it
does not expose), against `esi fake-server`.

    python django_esi_probe.py FAKE_URL REDIS_URL CALLBACK_URL

Public calls (status, every page of market orders, a cursor walked backwards to its end), then a
login through django-esi's own views (`single_use_token` and its callback view, driven by
Django's test client; the fake SSO approves), an authenticated call and a refresh. Prints one
JSON object with what it saw."""

from __future__ import annotations

import http.client
import json
import os
import sys
import tempfile
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

WALLET = "esi-wallet.read_character_wallet.v1"
urlpatterns: list[Any] = []  # this module is Django's URL conf
seen: dict[str, Any] = {}


def configure(url: str, redis_url: str, callback: str) -> None:
    import django  # type: ignore[import-not-found,unused-ignore]
    from django.conf import settings  # type: ignore[import-not-found,unused-ignore]

    settings.configure(
        SECRET_KEY=uuid.uuid4().hex,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "esi",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": os.path.join(tempfile.mkdtemp(), "db.sqlite3"),
            }
        },
        CACHES={
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",  # django-esi's rate limits need SET NX
                "LOCATION": redis_url,
                "KEY_PREFIX": uuid.uuid4().hex,
            }
        },
        ESI_API_URL=url + "/",  # the spec comes from ESI_API_URL + meta/openapi.json
        ESI_SSO_BASE_URL=url + "/v2/oauth",
        ESI_SSO_CLIENT_ID="conformance-app",
        ESI_SSO_CLIENT_SECRET="s3cret",
        ESI_SSO_CALLBACK_URL=callback,
        ESI_USER_CONTACT_EMAIL="conformance@example.invalid",
        USE_TZ=True,
    )
    django.setup()
    from esi import app_settings  # type: ignore[import-not-found,unused-ignore]

    app_settings.ESI_TOKEN_JWK_SET_URL = url + "/oauth/jwks"


def public_calls(client: Any) -> None:
    seen["players"] = client.Status.GetStatus().result().players
    seen["orders"] = len(
        client.Market.GetMarketsRegionIdOrders(region_id=10000002, order_type="all").results()
    )
    jobs = getattr(client, "Freelance Jobs")
    token, records, requests = "0", 0, 0
    while requests < 100:  # CCP's documented walk: follow `before` until an empty list
        requests += 1
        page = jobs.GetFreelanceJobsListing(before=token).result(use_etag=False)
        if not page.freelance_jobs:
            break
        records += len(page.freelance_jobs)
        token = page.cursor.before
    seen["cursor_records"], seen["cursor_requests"] = records, requests


def log_in_and_call(client: Any) -> None:
    from django.core.management import call_command  # type: ignore[import-not-found,unused-ignore]
    from django.http import HttpResponse  # type: ignore[import-not-found,unused-ignore]
    from django.test import Client  # type: ignore[import-not-found,unused-ignore]
    from django.urls import include, path  # type: ignore[import-not-found,unused-ignore]
    from esi.decorators import single_use_token  # type: ignore[import-not-found,unused-ignore]

    @single_use_token(scopes=[WALLET])  # type: ignore[untyped-decorator,unused-ignore]
    def wallet(request: Any, token: Any) -> Any:
        seen["character"] = token.character_id
        seen["balance"] = client.Wallet.GetCharactersCharacterIdWallet(
            character_id=token.character_id, token=token
        ).result()
        before = token.access_token
        token.refresh()
        seen["refreshed"] = token.access_token != before
        seen["balance_after_refresh"] = client.Wallet.GetCharactersCharacterIdWallet(
            character_id=token.character_id, token=token
        ).result(use_etag=False)
        return HttpResponse("ok")

    urlpatterns[:] = [path("wallet/", wallet), path("sso/", include("esi.urls", namespace="esi"))]
    call_command("migrate", verbosity=0)
    browser = Client()
    to_sso = browser.get("/wallet/")["Location"]  # django-esi's own redirect to EVE SSO
    authorize = urlsplit(to_sso)
    connection = http.client.HTTPConnection(authorize.hostname or "127.0.0.1", authorize.port)
    connection.request("GET", f"{authorize.path}?{authorize.query}")
    query = parse_qs(urlsplit(connection.getresponse().getheader("Location") or "").query)
    back = browser.get("/sso/callback/", {"code": query["code"][0], "state": query["state"][0]})
    seen["view_status"] = browser.get(back["Location"]).status_code


def main(url: str, redis_url: str, callback: str) -> dict[str, Any]:
    configure(url, redis_url, callback)
    from esi.openapi_clients import ESIClientProvider  # type: ignore[import-not-found,unused-ignore]

    client = ESIClientProvider(
        compatibility_date="2026-08-04",
        ua_appname="esikit-conformance",
        ua_version="1.0",
        tags=["Status", "Market", "Freelance Jobs", "Wallet"],
    ).client
    public_calls(client)
    log_in_and_call(client)
    return seen


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], sys.argv[3]), default=str))
