"""Finding and reading the spec: --spec, $ESI_SPEC, the local cache, then a download by the pin."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from generator.errors import PinMismatchError, SpecError
from generator.pin import Pin

SPEC_ENV_VAR = "ESI_SPEC"
DOWNLOAD_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SpecSource:
    """The raw bytes of a spec and where they came from."""

    content: bytes
    origin: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def read_spec(location: str | Path) -> SpecSource:
    """Read a spec from a path or an http(s) URL."""
    text = str(location)
    if is_url(text):
        return SpecSource(_download(text), text)
    path = Path(text).expanduser()
    try:
        return SpecSource(path.read_bytes(), str(path))
    except FileNotFoundError:
        raise SpecError(str(path), "no such file") from None
    except IsADirectoryError:
        raise SpecError(str(path), "is a directory, not a spec file") from None


def _download(url: str) -> bytes:
    import httpx2

    try:
        response = httpx2.get(url, timeout=DOWNLOAD_TIMEOUT_S, follow_redirects=True)
    except httpx2.HTTPError as exc:
        raise SpecError(url, f"could not download the spec: {exc}") from None
    if response.status_code != 200:
        raise SpecError(url, f"could not download the spec: HTTP {response.status_code}")
    return response.content


def resolve_spec(pin: Pin, explicit: str | None = None, *, check_pin: bool = True) -> SpecSource:
    """Resolve the spec in the documented order and check it against the pin.

    With `check_pin`, a sha256 other than the pinned one raises PinMismatchError.
    """
    location = explicit or os.environ.get(SPEC_ENV_VAR) or None
    if location is not None:
        source = read_spec(location)
    else:
        cached = pin.cache_dir / f"{pin.sha256}.json"
        source = read_spec(cached) if cached.is_file() else read_spec(pin.url)
    if check_pin and source.sha256 != pin.sha256:
        raise PinMismatchError(
            source.origin,
            f"sha256 {source.sha256} differs from the pinned {pin.sha256} ({pin.path}); "
            "pass --update-pin to accept this spec",
        )
    return source


def cache_spec(pin: Pin, source: SpecSource) -> Path | None:
    """Keep a copy under the pin's git-ignored cache, so a later run can diff against it."""
    target = pin.cache_dir / f"{source.sha256}.json"
    try:
        pin.cache_dir.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(source.content)
            tmp.replace(target)
    except OSError:
        return None
    return target


def cached_spec(pin: Pin, sha256: str) -> SpecSource | None:
    path = pin.cache_dir / f"{sha256}.json"
    return SpecSource(path.read_bytes(), str(path)) if path.is_file() else None
