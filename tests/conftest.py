"""Fixtures shared by the whole suite: CCP's spec (from ../shared or $ESI_SPEC) and the client."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.fixtures import ClientFactory, FakeESIServer, ManualClock
from tests.support.hostile_server import HostileServer, hostile_server
from tests.support.no_silent_skips import skip_or_fail

if TYPE_CHECKING:
    from esi_auth.config import SSOConfig
    from esi_client import ESIClient
    from esi_fake import SSOState

# The suite never reads a developer's own esikit config (~/.config/esikit/config.toml).
os.environ.setdefault("ESI_CONFIG", os.devnull)

ROOT = Path(__file__).resolve().parent.parent
SHARED_SPEC_DIR = ROOT.parent / "shared" / "spec"


def _spec_path() -> Path:
    explicit = os.environ.get("ESI_SPEC")
    path = Path(explicit) if explicit else SHARED_SPEC_DIR / "esi-openapi.json"
    if not path.is_file():
        pytest.exit(f"CCP's spec is not at {path}; set ESI_SPEC", returncode=2)
    return path


@pytest.fixture(scope="session")
def spec_path() -> Path:
    return _spec_path()


@pytest.fixture(scope="session")
def old_spec_path() -> Path:
    """The real earlier ESI spec (2025-12-16) kept beside the current one."""
    path = SHARED_SPEC_DIR / "esi-openapi-2025-12-16.json"
    if not path.is_file():
        skip_or_fail("the older real spec is not available (../shared/spec)")
    return path


@pytest.fixture(scope="session")
def spec_document(spec_path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(spec_path.read_bytes())
    return document


@pytest.fixture(scope="session")
def generated_client(spec_path: Path) -> Path:
    """The client in the work tree, generated if missing or stale (a no-op when current)."""
    from esi_generator import generate

    result = generate(str(spec_path))
    assert result.operations_generated == result.operations_in_spec
    return result.output_dir


@pytest.fixture
def make_client(fake_esi: FakeESIServer, esi_clock: ManualClock) -> Iterator[ClientFactory]:
    """ESIClient factory bound to the fake ESI and its manual clock; closes what it made."""
    from esi_client import ESIClient

    made: list[Any] = []

    def make(**options: Any) -> ESIClient:
        options.setdefault("clock", esi_clock)
        client = ESIClient(
            app_name="esikit-tests", contact="tests@example.invalid", base_url=fake_esi.url, **options
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on 127.0.0.1 for the session."""
    from testbed.servers import redis_server

    yield from redis_server(tmp_path_factory.mktemp("redis"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server on 127.0.0.1 for the session (a throwaway cluster), or the one
    $ESIKIT_TEST_POSTGRES_URL names (`nox -s mutants` starts one for all its test runs)."""
    from testbed.servers import postgres_server

    given = os.environ.get("ESIKIT_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    yield from postgres_server()


@pytest.fixture
def sso(fake_esi: FakeESIServer) -> SSOState:
    """The fake SSO, with the token tests' app registered (a PKCE app)."""
    from tests.support.auth_support import JWT_CLIENT_ID

    fake_esi.sso.apps[JWT_CLIENT_ID] = None
    state: SSOState = fake_esi.sso
    return state


@pytest.fixture
def config(fake_esi: FakeESIServer) -> SSOConfig:
    """The SSO configuration of the token tests' app, against the fake."""
    from esi_auth.config import SSOConfig
    from tests.support.auth_support import JWT_CLIENT_ID

    return SSOConfig(client_id=JWT_CLIENT_ID, login_url=fake_esi.url)


@pytest.fixture(params=["none", "take-back", "strict"])
def refresh_rotation(request: pytest.FixtureRequest) -> str:
    """What the fake SSO does with a used refresh token: the refresh tests run under all three
    (EVE SSO documents none of them; docs/guides/fake.md says what each costs the client)."""
    mode: str = request.param
    return mode


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty token-store database: a SQLite file, or a new database on the session's
    PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tokens.sqlite'}"
    import uuid

    from sqlalchemy import create_engine, text

    server: str = request.getfixturevalue("postgres_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as db:
        db.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return f"{server.rsplit('/', 1)[0]}/{name}"


@pytest.fixture
def server() -> Iterator[HostileServer]:
    """A misbehaving ESI on 127.0.0.1, scripted at the byte level (tests/support/hostile_server.py)."""

    with hostile_server() as running:
        yield running


@pytest.fixture
def pin_file(tmp_path: Path, spec_path: Path) -> Path:
    """A private copy of the pin, so tests may rewrite it and fill its cache."""
    (tmp_path / "spec").mkdir()
    target = tmp_path / "spec" / "pin.toml"
    shutil.copy(Path(__file__).parent.parent / "spec" / "pin.toml", target)
    return target


@pytest.fixture(scope="session")
def first_tree(tmp_path_factory: pytest.TempPathFactory, spec_path: Path) -> Path:
    output = tmp_path_factory.mktemp("first") / "esi_client"
    pin_dir = tmp_path_factory.mktemp("pin") / "spec"
    pin_dir.mkdir()
    shutil.copy(Path(__file__).parent.parent / "spec" / "pin.toml", pin_dir / "pin.toml")
    from esi_generator import generate

    result = generate(str(spec_path), output_dir=output, pin_path=pin_dir / "pin.toml")
    assert (result.operations_generated, result.warnings) == (result.operations_in_spec, [])
    return output


STORE_KEY = "kLQ0YcXc0Cq2TUyXXx4u2rDxVHbDqJl-dgvA8m3TJQk="  # a Fernet key for the CLI's test stores


@pytest.fixture
def cli_env(fake_esi: FakeESIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The CLI pointed at the fake ESI + SSO through its environment, with a store of its own."""
    from testbed.servers import free_port

    fake_esi.sso.apps["cli-app"] = None
    (tmp_path / "config.toml").touch()
    env = {
        "ESI_CONFIG": str(tmp_path / "config.toml"),
        "ESI_CLIENT_ID": "cli-app",
        "ESI_STORE": f"sqlite:///{tmp_path / 'cli-tokens.sqlite'}",
        "ESI_SECRET_KEY": STORE_KEY,
        "ESI_BASE_URL": fake_esi.url,
        "ESI_LOGIN_URL": fake_esi.url,
        "ESI_CALLBACK_URL": f"http://127.0.0.1:{free_port()}/callback",
        "ESI_BROWSER": f"{sys.executable} {Path(__file__).parent / 'support' / 'fake_browser.py'}",
        "COLUMNS": "250",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
