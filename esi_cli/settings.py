"""The CLI's configuration: the config file, then ESI_* environment variables, then flags.

`~/.config/esikit/config.toml` (platformdirs), for example:

    client_id = "your-sso-client-id"
    callback_url = "http://localhost:8080/callback"
    contact = "you@example.com"
    store = "default"          # or an SQLAlchemy URL: sqlite:///..., postgresql://...
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

    def shown(self) -> dict[str, Any]:
        """For `esi config show`: every setting, the secret only as set / not set."""
        data = asdict(self)
        data["client_secret"] = "(set)" if self.client_secret else "(not set)"
        return data


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
