"""Real services for the tests, started on 127.0.0.1 (installed by .ci/run)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

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
    """redis-server on a free (or the given) loopback port, as `nobody` when the tests run as root.

    A free port can be taken by another process before redis binds it (busy machines, parallel
    suites): the server is known as ours by its working directory, and a taken port is retried."""
    binary = require_binary("redis-server")
    runner = _as_service_user()
    if runner:
        workdir.chmod(0o755)
        shutil.chown(workdir, "nobody")
        for parent in workdir.parents:  # nobody must be able to reach its directory
            if parent == Path(tempfile.gettempdir()):
                break
            parent.chmod(parent.stat().st_mode | 0o005)
    for _ in range(5):
        chosen = port or free_port()
        process = subprocess.Popen(
            [*runner, binary, "--port", str(chosen), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            if _redis_is_ours(chosen, workdir, process):
                yield f"redis://127.0.0.1:{chosen}/0"
                return
        finally:
            process.terminate()
            process.wait(timeout=10)
        if port is not None:
            break
    raise TimeoutError(f"redis-server did not start on 127.0.0.1:{port or 'a free port'}")


def _redis_is_ours(port: int, workdir: Path, process: subprocess.Popen[bytes], seconds: float = 30.0) -> bool:
    """True once the server on `port` is the one started in `workdir`; False when it exited (the
    port was taken) or another server answers there. Plain RESP over a socket: the newcomer's
    venvs have no redis package."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
                connection.sendall(b"CONFIG GET dir\r\n")
                reply = b""
                while not reply.endswith(b"\r\n") or reply.count(b"\r\n") < 5:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
        except OSError:
            time.sleep(0.05)
            continue
        return reply.split(b"\r\n")[-2:-1] == [str(workdir.resolve()).encode()]
    raise TimeoutError(f"nothing answers on 127.0.0.1:{port} after {seconds} s")


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


INITDB = ("--auth=trust", "-E", "UTF8")


class PostgresCluster:
    """A throwaway PostgreSQL cluster on a free loopback port, as a non-root user in a temp dir;
    `url` is a SQLAlchemy URL (psycopg 3) for its database. `stop()` kills it at once (as a
    crash or a lost host would) and `start()` brings the same data back on the same port."""

    def __init__(self) -> None:
        self.binaries = _postgres_binaries()
        self.workdir = Path(tempfile.mkdtemp(prefix="esikit-pg-"))
        self.workdir.chmod(0o755)
        self.data = self.workdir / "data"
        self.data.mkdir()
        self.runner = _as_service_user()
        if self.runner:
            shutil.chown(self.workdir, "nobody")
            shutil.chown(self.data, "nobody")
        self.port = free_port()
        self.url = f"postgresql+psycopg://esikit@127.0.0.1:{self.port}/esikit"
        self.process: subprocess.Popen[bytes] | None = None
        subprocess.run(
            [*self.runner, str(self.binaries / "initdb"), "-D", str(self.data), "-U", "esikit", *INITDB],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _listen(self) -> list[str]:
        return ["-h", "127.0.0.1", "-k", str(self.workdir), "-c", "fsync=off", "-c", "max_connections=200"]

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *self.runner,
                str(self.binaries / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                *self._listen(),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 30)
        deadline = time.monotonic() + 30
        ready = [str(self.binaries / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "esikit"]
        while subprocess.run(ready, capture_output=True).returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.1)

    def create_database(self) -> None:
        createdb = [str(self.binaries / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "esikit"]
        subprocess.run([*createdb, "esikit"], check=True)

    def stop(self) -> None:
        """SIGQUIT: PostgreSQL's immediate shutdown; every session is cut."""
        if self.process is not None:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])  # not runuser
            os.kill(postmaster, signal.SIGQUIT)
            self.process.wait(timeout=30)
            self.process = None

    def remove(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
        shutil.rmtree(self.workdir, ignore_errors=True)


def postgres_server() -> Generator[str, None, None]:
    """A throwaway PostgreSQL cluster (PostgresCluster) running for as long as the generator."""
    cluster = PostgresCluster()
    try:
        cluster.start()
        cluster.create_database()
        yield cluster.url
    finally:
        cluster.remove()


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


@contextmanager
def proxy_process(settings: dict[str, str], *options: str, port: int | None = None) -> Iterator[str]:
    """`esi proxy` as a process of its own on a free loopback port (or `port`), configured by
    `ESI_*` settings (no config file); yields its URL once /healthz answers. Its output goes to a
    file whose text a failure to start shows. A port taken meanwhile is tried again with another."""
    import sys

    for _attempt in range(3 if port is None else 1):
        port = port or free_port()
        with tempfile.TemporaryFile() as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "esi_cli", "proxy", "--port", str(port), *options],
                env={**os.environ, "ESI_CONFIG": os.devnull, **settings},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                if not _answers_health(process, port, log):
                    continue  # the port was taken before the proxy bound it
                yield f"http://127.0.0.1:{port}"
                return
            finally:
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=10)
    raise RuntimeError("esi proxy found no free port in 3 tries")


def _answers_health(process: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> bool:
    """True once /healthz answers; False when the port was taken; else the proxy's output."""
    import urllib.request

    deadline = time.monotonic() + 60
    while process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"esi proxy did not answer /healthz on port {port} in 60 s") from None
            time.sleep(0.05)
    log.seek(0)
    output = log.read().decode("utf-8", "replace")
    if "address already in use" in output.lower():
        return False
    raise RuntimeError(f"esi proxy exited with status {process.returncode}:\n{output}")
