"""The Celery app of the worker the cleanup test starts: a Redis broker and result backend, and
the SSOApp the esi_auth tasks use, all from environment variables the test sets."""

from __future__ import annotations

import os

from celery import Celery

from esi_auth import SQLTokenStore, SSOApp, SSOConfig
from esi_auth.decorators import set_default_app

# A real broker: Redis (as a fleet runs it), started by the test; results in Redis too.
app = Celery("esikit-tests", broker=os.environ["ESIKIT_BROKER_URL"], backend=os.environ["ESIKIT_RESULTS_URL"])
app.conf.task_serializer = app.conf.result_serializer = "json"
app.conf.imports = ("esi_auth.tasks",)

set_default_app(
    SSOApp(
        SSOConfig(client_id=os.environ["ESIKIT_CLIENT_ID"], login_url=os.environ["ESIKIT_SSO_URL"]),
        SQLTokenStore(os.environ["ESIKIT_DB_URL"], secrets="plaintext"),
    )
)
