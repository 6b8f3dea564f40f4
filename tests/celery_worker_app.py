"""The Celery app of the worker the cleanup test starts: filesystem broker, file results, and
the SSOApp the esi_auth tasks use, all from environment variables the test sets."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery

from esi_auth import SQLTokenStore, SSOApp, SSOConfig
from esi_auth.decorators import set_default_app

work = Path(os.environ["ESIKIT_CELERY_DIR"])
for name in ("in", "processed", "results", "control"):
    (work / name).mkdir(parents=True, exist_ok=True)

app = Celery("esikit-tests", broker="filesystem://", backend=f"file://{work / 'results'}")
app.conf.broker_transport_options = {
    "data_folder_in": str(work / "in"),
    "data_folder_out": str(work / "in"),
    "data_folder_processed": str(work / "processed"),
    # kombu's default control folder is ./control in the working directory
    "control_folder": str(work / "control"),
}
app.conf.task_serializer = app.conf.result_serializer = "json"
app.conf.imports = ("esi_auth.tasks",)

set_default_app(
    SSOApp(
        SSOConfig(client_id=os.environ["ESIKIT_CLIENT_ID"], login_base_url=os.environ["ESIKIT_SSO_URL"]),
        SQLTokenStore(os.environ["ESIKIT_DB_URL"], secrets="plaintext"),
    )
)
