"""The spec pin: compatibility date, download URL and expected sha256 (spec/pin.toml)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from esi_generator.errors import SpecError

_HERE = Path(__file__).resolve().parent
CHECKOUT_ROOT = _HERE.parent.parent  # in a checkout, this package is generator/esi_generator/
# A wheel carries the pin (and the spec it was built from) beside this module: read, never written.
SHIPPED_PIN_PATH = _HERE / "pin.toml"
SHIPPED_SPEC_PATH = _HERE / "shipped-spec.json"


def _user_pin_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("esikit") / "pin.toml"


def _default_pin_path() -> Path:
    """spec/pin.toml in a checkout; installed, the user's pin once `--update-pin` moved it, else
    the wheel's own copy (only ever read)."""
    checkout = CHECKOUT_ROOT / "spec" / "pin.toml"
    if checkout.is_file() or not SHIPPED_PIN_PATH.is_file():
        return checkout
    user = _user_pin_path()
    return user if user.is_file() else SHIPPED_PIN_PATH


DEFAULT_PIN_PATH = _default_pin_path()


@dataclass(frozen=True)
class Pin:
    compatibility_date: str
    url_template: str
    sha256: str
    path: Path

    @property
    def url(self) -> str:
        return self.url_template.format(compatibility_date=self.compatibility_date)

    @property
    def cache_dir(self) -> Path:
        """spec/.cache beside the pin; in an installed wheel, the user's cache directory."""
        if self.path.parent.name == "spec":
            return self.path.parent / ".cache"
        from platformdirs import user_cache_path

        return user_cache_path("esikit") / "spec"


def load_pin(path: Path = DEFAULT_PIN_PATH) -> Pin:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(str(path), "the spec pin file does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(str(path), f"the spec pin is not valid TOML: {exc}") from None
    try:
        return Pin(
            compatibility_date=str(data["compatibility_date"]),
            url_template=str(data["url"]),
            sha256=str(data["sha256"]).lower(),
            path=path,
        )
    except KeyError as exc:
        raise SpecError(str(path), f"the spec pin lacks the key {exc.args[0]!r}") from None


def update_pin(pin: Pin, *, compatibility_date: str, sha256: str) -> Pin:
    """Rewrite the pin file in place, keeping its comments and layout. The wheel's own pin is
    never written: the moved pin goes to the user's config directory, read from then on."""
    text = pin.path.read_text(encoding="utf-8")
    target = _user_pin_path() if pin.path == SHIPPED_PIN_PATH else pin.path
    text = re.sub(
        r'(?m)^compatibility_date\s*=\s*".*"$', f'compatibility_date = "{compatibility_date}"', text
    )
    text = re.sub(r'(?m)^sha256\s*=\s*".*"$', f'sha256 = "{sha256}"', text)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return load_pin(target)
