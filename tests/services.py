"""Real services for the tests, started on 127.0.0.1 (installed by .ci/run)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def wait_for_port(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def redis_server(workdir: Path, port: int | None = None) -> Iterator[str]:
    """redis-server on a free (or the given) loopback port, as `nobody` when the tests run as root."""
    binary = require_binary("redis-server")
    port = port or free_port()
    runner = _as_service_user()
    if runner:
        workdir.chmod(0o755)
        shutil.chown(workdir, "nobody")
        for parent in workdir.parents:  # nobody must be able to reach its directory
            if parent == Path(tempfile.gettempdir()):
                break
            parent.chmod(parent.stat().st_mode | 0o005)
    process = subprocess.Popen(
        [
            *runner,
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _postgres_binaries() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        message = "PostgreSQL is not installed (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return Path(initdb).parent


def _as_service_user() -> list[str]:
    """PostgreSQL refuses to run as root: run it as `nobody` then."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "nobody", "--"]


def postgres_server() -> Generator[str, None, None]:
    """A throwaway PostgreSQL cluster on a free loopback port, as a non-root user in a temp dir;
    yields a SQLAlchemy URL (psycopg 3) for its database."""

    binaries = _postgres_binaries()
    workdir = Path(tempfile.mkdtemp(prefix="esikit-pg-"))
    workdir.chmod(0o755)
    data = workdir / "data"
    data.mkdir()
    runner = _as_service_user()
    if runner:
        shutil.chown(workdir, "nobody")
        shutil.chown(data, "nobody")
    port = free_port()
    subprocess.run(
        [*runner, str(binaries / "initdb"), "-D", str(data), "-U", "esikit", "--auth=trust", "-E", "UTF8"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    process = subprocess.Popen(
        [
            *runner,
            str(binaries / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-k",
            str(workdir),
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 30)
        deadline = time.monotonic() + 30
        while True:
            ready = subprocess.run(
                [str(binaries / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", "esikit"],
                capture_output=True,
            )
            if ready.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        createdb = [str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "esikit"]
        subprocess.run([*createdb, "esikit"], check=True)
        yield f"postgresql+psycopg://esikit@127.0.0.1:{port}/esikit"
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def fake_server_process(spec: str | Path, *options: str) -> Iterator[str]:
    """`esi fake-server` as a process of its own on a free loopback port (extra CLI options
    passed through); yields its URL. Fails at once, not after the wait, if the process exits."""
    import sys

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "esi_cli", "fake-server", "--port", str(port), "--spec", str(spec), *options],
        env={**os.environ, "ESI_CONFIG": os.devnull},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # never a pipe nobody reads: a full pipe would stall the server
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"esi fake-server exited with status {process.returncode}")
            try:
                wait_for_port(port, 0.5)
                break
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
