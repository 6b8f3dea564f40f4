"""Finding and reading the spec: --spec, $ESI_SPEC, the local cache, then a download by the pin."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from esi_generator.errors import PinMismatchError, SpecError
from esi_generator.pin import Pin

SPEC_ENV_VAR = "ESI_SPEC"
# A silent server fails in seconds; a slow one may take this long between bytes.
DOWNLOAD_CONNECT_TIMEOUT_S = 5.0
DOWNLOAD_READ_TIMEOUT_S = 10.0
LOCAL_SPEC_HINT = f"offline? pass --spec PATH or set {SPEC_ENV_VAR} to a downloaded spec"


@dataclass(frozen=True)
class SpecSource:
    """The raw bytes of a spec and where they came from."""

    content: bytes
    origin: str

    @property
    def sha256(self) -> str:
        """The sha256 of the document, not of its bytes: the same spec pretty-printed (as CCP's
        file is) or minified (as ESI serves it) has one hash. Text that is not JSON is hashed as
        it is (parsing names its problem later)."""
        return canonical_sha256(self.content)


def canonical_sha256(content: bytes) -> str:
    # The standard library's json: the wheel build runs this with nothing else installed.
    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return hashlib.sha256(content).hexdigest()
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


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

    timeout = httpx2.Timeout(DOWNLOAD_READ_TIMEOUT_S, connect=DOWNLOAD_CONNECT_TIMEOUT_S)
    try:
        response = httpx2.get(url, timeout=timeout, follow_redirects=True)
    except httpx2.TimeoutException:
        waited = f"no answer in {DOWNLOAD_READ_TIMEOUT_S:.0f} s"
        raise SpecError(url, f"could not download the spec: {waited} ({LOCAL_SPEC_HINT})") from None
    except httpx2.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise SpecError(url, f"could not download the spec: {reason} ({LOCAL_SPEC_HINT})") from None
    if response.status_code != 200:
        raise SpecError(url, f"could not download the spec: HTTP {response.status_code} ({LOCAL_SPEC_HINT})")
    return response.content


def resolve_spec(pin: Pin, explicit: str | None = None, *, check_pin: bool = True) -> SpecSource:
    """Resolve the spec in the documented order and check it against the pin.

    With `check_pin`, a sha256 other than the pinned one raises PinMismatchError.
    """
    location = explicit or os.environ.get(SPEC_ENV_VAR) or _local_copy(pin) or pin.url
    source = read_spec(location)
    if check_pin and source.sha256 != pin.sha256:
        from esi_generator.validate import parse_spec

        parse_spec(source)  # a file that is no spec at all says so, rather than "differs from the pin"
        raise PinMismatchError(
            source.origin,
            f"sha256 {source.sha256} differs from the pinned {pin.sha256} ({pin.path}); "
            "pass --update-pin to accept this spec",
        )
    return source


def _local_copy(pin: Pin) -> Path | None:
    """The pinned spec without a download: the cache, else the copy a wheel was built with."""
    from esi_generator.pin import SHIPPED_SPEC_PATH

    cached = pin.cache_dir / f"{pin.sha256}.json"
    if cached.is_file():
        return cached
    if SHIPPED_SPEC_PATH.is_file() and canonical_sha256(SHIPPED_SPEC_PATH.read_bytes()) == pin.sha256:
        return SHIPPED_SPEC_PATH
    return None


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
