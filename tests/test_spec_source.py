"""The spec is found in order: --spec, $ESI_SPEC, the cache under spec/, then the pin's URL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from esi_generator import PinMismatchError, SpecError, load_pin, resolve_spec
from esi_generator.pin import Pin
from tests.support.recording_server import Reply, recording_server


@pytest.fixture
def pin(tmp_path: Path) -> Pin:
    (tmp_path / "spec").mkdir()
    path = tmp_path / "spec" / "pin.toml"
    shutil.copy(Path(__file__).parent.parent / "spec" / "pin.toml", path)
    return load_pin(path)


def _with_url(pin: Pin, url: str) -> Pin:
    text = pin.path.read_text().replace(
        pin.url_template, url + "/meta/openapi.json?compatibility_date={compatibility_date}"
    )
    pin.path.write_text(text)
    return load_pin(pin.path)


def test_explicit_path_wins_over_env(
    pin: Pin, spec_path: Path, old_spec_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESI_SPEC", str(old_spec_path))
    assert resolve_spec(pin, str(spec_path)).origin == str(spec_path)


def test_env_wins_over_cache(
    pin: Pin, spec_path: Path, old_spec_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESI_SPEC", str(old_spec_path))
    pin.cache_dir.mkdir()
    shutil.copy(spec_path, pin.cache_dir / f"{pin.sha256}.json")
    with pytest.raises(PinMismatchError):
        resolve_spec(pin)  # $ESI_SPEC (the old spec) was used, and it is not the pinned one


def test_cache_then_download(pin: Pin, spec_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESI_SPEC", raising=False)
    with recording_server() as server:
        server.replies["/meta/openapi.json"] = Reply(body=spec_path.read_bytes())
        pin = _with_url(pin, server.url)
        downloaded = resolve_spec(pin)
        assert downloaded.origin == f"{server.url}/meta/openapi.json?compatibility_date=2026-08-04"
        assert [r.path for r in server.requests] == ["/meta/openapi.json?compatibility_date=2026-08-04"]
        pin.cache_dir.mkdir()
        shutil.copy(spec_path, pin.cache_dir / f"{pin.sha256}.json")
        cached = resolve_spec(pin)
        assert cached.origin == str(pin.cache_dir / f"{pin.sha256}.json")
        assert len(server.requests) == 1
    assert downloaded.sha256 == cached.sha256 == pin.sha256


def test_url_spec_and_http_errors(pin: Pin, spec_path: Path) -> None:
    with recording_server() as server:
        server.replies["/spec.json"] = Reply(body=spec_path.read_bytes())
        assert resolve_spec(pin, f"{server.url}/spec.json").sha256 == pin.sha256
        with pytest.raises(SpecError, match="could not download the spec: HTTP 404"):
            resolve_spec(pin, f"{server.url}/missing.json")


def test_unreachable_url_is_a_spec_error(pin: Pin) -> None:
    with recording_server() as server:
        url = server.url
    with pytest.raises(SpecError, match="could not download the spec"):
        resolve_spec(pin, f"{url}/spec.json")
