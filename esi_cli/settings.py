"""The CLI's configuration: the config file, then ESI_* environment variables, then flags.

`~/.config/esikit/config.toml` (platformdirs), for example:

    client_id = "your-sso-client-id"
    callback_url = "http://localhost:8080/callback"
    contact = "you@example.com"
    store = "default"          # or an SQLAlchemy URL: sqlite:///..., postgresql+psycopg://...
    secret_key_file = "~/.config/esikit/store.key"   # the Fernet key of a URL store's secrets
    # secrets = "plaintext"    # or keep them unencrypted, knowingly
    # limits = "redis://redis:6379/0"   # share ESI's limits with the app's workers

The key itself may come from ESI_SECRET_KEY; it is never taken on the command line.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from attrs import asdict, define, field, fields

from esi_auth.config import DEFAULT_CALLBACK_URL, LOGIN_BASE_URL
from esi_client._settings import ESI_BASE_URL

ENV_PREFIX = "ESI_"


@define
class Settings:
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    callback_url: str = DEFAULT_CALLBACK_URL
    store: str = "default"
    base_url: str = ESI_BASE_URL
    login_url: str = LOGIN_BASE_URL
    app_name: str = "esikit-cli"
    contact: str = "esikit-cli-user"
    browser: str | None = None  # a command to open URLs with; default: the system browser
    secret_key: str | None = field(default=None, repr=False)  # from ESI_SECRET_KEY or the file
    secret_key_file: str | None = None
    secrets: str | None = None  # "plaintext" to store a URL store's secrets unencrypted
    limits: str | None = None  # a redis:// URL: ESI's limits shared with the app's other processes

    def shown(self) -> dict[str, Any]:
        """For `esi config show`: every setting; secrets only as set / not set, and the store
        URL without its password."""
        from sqlalchemy.engine import make_url

        data = asdict(self)
        data["client_secret"] = "(set)" if self.client_secret else "(not set)"
        data["secret_key"] = "(set)" if self.secret_key else "(not set)"
        if self.store != "default":
            try:
                data["store"] = make_url(self.store).render_as_string(hide_password=True)
            except Exception:
                data["store"] = self.store.split(":", 1)[0] + ":…"
        return data

    def store_key(self) -> str | None:
        """The Fernet key of the store: ESI_SECRET_KEY / secret_key, else the key file."""
        if self.secret_key:
            return self.secret_key
        if self.secret_key_file:
            return Path(self.secret_key_file).expanduser().read_text(encoding="utf-8").strip()
        return None


def config_path() -> Path:
    explicit = os.environ.get("ESI_CONFIG")
    if explicit:
        return Path(explicit)
    from platformdirs import user_config_path

    return user_config_path("esikit") / "config.toml"


def load_settings(flags: dict[str, Any] | None = None) -> Settings:
    names = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}
    path = config_path()
    if path.is_file():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        values.update({k: v for k, v in data.items() if k in names})
    for name in names:
        env = os.environ.get(f"{ENV_PREFIX}{name.upper()}")
        if env is not None:
            values[name] = env
    values.update({k: v for k, v in (flags or {}).items() if v is not None and k in names})
    return Settings(**values)
