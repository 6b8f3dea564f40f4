"""Sessions: `nox -s lint schemathesis docs newcomer extras tests` (CI), `nox -s build`,
`nox -s bench`, `nox -s fleet`, `nox -s demo`, `nox -s web-demo`."""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests", "schemathesis", "docs", "newcomer", "extras"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
# In this workspace CCP's spec sits in ../shared/spec (never in the repository).
SHARED_SPEC = ROOT.parent / "shared" / "spec" / "esi-openapi.json"
PYTHON = "3.11"


def _spec_env() -> dict[str, str]:
    if "ESI_SPEC" in os.environ or not SHARED_SPEC.is_file():
        return {}
    return {"ESI_SPEC": str(SHARED_SPEC)}


DOCS_TOOLS = ("mkdocs>=1.6,<2", "mkdocs-material>=9.5", "mkdocs-gen-files>=0.5")
# Each extra's documented example, run in a venv holding the wheel with only that extra.
EXTRA_PAGES = {
    "redis": "docs/guides/fleet.md",
    "celery": "docs/guides/celery.md",
    "postgres": "docs/guides/tokens.md",
    "web": "docs/guides/web.md",
    "otel": "docs/guides/telemetry.md",
    "fake": "docs/guides/fake.md",
    "generate": "docs/guides/regeneration.md",
    "proxy": "docs/guides/proxy.md",
}


def _install_and_generate(session: nox.Session, extras: str = "dev") -> None:
    session.install("-e", f".[{extras}]")
    session.run("esi", "generate", env=_spec_env())


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Generate the client, then run the test suite."""
    _install_and_generate(session)
    session.run("pytest", *session.posargs, env=_spec_env())


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict on hand-written code; mypy on the generated client."""
    _install_and_generate(session)
    session.install("nox")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run(
        "mypy",
        "generator/esi_generator",
        "esi_client",
        "esi_auth",
        "esi_fake",
        "esi_cli",
        "esi_proxy",
        "benchmarks",
        "tests",
        "testbed",
        "examples",
        "docs/hooks.py",
        "noxfile.py",
    )


@nox.session(python=PYTHON)
def schemathesis(session: nox.Session) -> None:
    """Schemathesis's every check against `esi fake-server` with CCP's spec (run by CI)."""
    session.install("-e", ".[fake]", "schemathesis>=4.32,<5")
    session.run("python", "-m", "tests.support.schemathesis_fake", *session.posargs, env=_spec_env())


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks; figures go to .bench/results.json."""
    _install_and_generate(session)
    env = {**_spec_env(), **_django_esi_venv(session)}
    session.run("python", "-m", "benchmarks", *session.posargs, env=env)


@nox.session(python=PYTHON, name="proxy-bench")
def proxy_bench(session: nox.Session) -> None:
    """esi proxy: cache hits against bare uvicorn, a miss against a direct GET, and 3 proxies on
    Redis keeping a saturated group's limit for 60 s; figures go to .bench/results.json."""
    _install_and_generate(session)
    session.run("python", "-m", "benchmarks.proxy", *session.posargs, env=_spec_env())


@nox.session(python=PYTHON)
def fleet(session: nox.Session) -> None:
    """The example fleet (4 Celery workers, beat, PostgreSQL, Redis) against the fake ESI, with
    the per-process baseline; figures go to .bench/results.json."""
    _install_and_generate(session)
    session.run("python", "-m", "benchmarks.fleet", *session.posargs, env=_spec_env())


@nox.session(python=PYTHON)
def mutants(session: nox.Session) -> None:
    """Mutation testing of the hand-written core (mutmut); scores to .bench/results.json.
    Not in CI (it takes long): run it before a change to the core lands."""
    _install_and_generate(session)
    session.install("mutmut>=3.8,<4")
    session.run("python", "-m", "tests.support.mutation_score", *session.posargs, env=_spec_env())


def _django_esi_venv(session: nox.Session) -> dict[str, str]:
    """django-esi 10 in a venv of its own, for the comparison column; none if it cannot install."""
    venv = Path(session.virtualenv.location).with_name("bench-django-esi")
    python = venv / "bin" / "python"
    try:
        session.run("uv", "venv", "--quiet", "--allow-existing", "--python", PYTHON, str(venv), external=True)
        session.run(
            "uv", "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python),
            "django-esi>=10,<11", external=True,
        )  # fmt: skip
    except nox.command.CommandFailed:
        session.warn("django-esi could not be installed: its column is left out")
        return {}
    return {"ESIKIT_DJANGO_ESI_PYTHON": str(python)}


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The main job: generate the client, start the fake ESI + SSO, log in with the CLI, call ESI."""
    _install_and_generate(session, extras="generate,fake")
    session.run("python", "examples/demo.py", env=_spec_env())


@nox.session(python=PYTHON, name="web-demo")
def web_demo(session: nox.Session) -> None:
    """The FastAPI example site (the guide's view decorators) against the fake ESI + SSO."""
    _install_and_generate(session, extras="generate,fake,web")
    session.run("python", "examples/web_fastapi.py", env=_spec_env())


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """The wheel (with the generated client and its spec) and the sdist, into dist/, offline
    from $ESI_SPEC or the pin's spec source."""
    for old in (ROOT / "dist").glob("esikit-*"):
        old.unlink()
    session.run("uv", "build", "--out-dir", "dist", external=True, env=_spec_env())


def _wheel() -> Path:
    wheels = sorted((ROOT / "dist").glob("esikit-*.whl"))
    if not wheels:
        raise RuntimeError("no wheel in dist/: run `nox -s build` first")
    return wheels[-1]


def _fresh_venv(session: nox.Session, name: str, *requirements: str) -> Path:
    """A venv of its own holding only `requirements` (a user's, not the session's)."""
    venv = Path(session.virtualenv.location).with_name(name)
    session.run("uv", "venv", "--quiet", "--clear", "--python", PYTHON, str(venv), external=True)
    python = venv / "bin" / "python"
    session.run("uv", "pip", "install", "--quiet", "--python", str(python), *requirements, external=True)
    return python


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """The MkDocs site, built --strict (the operation reference generated from the spec's facts)."""
    _install_and_generate(session)
    session.install(*DOCS_TOOLS)
    session.run("mkdocs", "build", "--strict", "--site-dir", "site", env=_spec_env())


@nox.session(python=PYTHON)
def newcomer(session: nox.Session) -> None:
    """A newcomer's first hour: build the wheel, install it alone into a fresh venv, run the
    README's blocks against the fake, type-check a user's script with mypy --strict, and show
    every command's --help."""
    session.install("-e", ".[fake]", "pytest")  # the harness: the fake, services
    build(session)
    python = _fresh_venv(session, "newcomer-venv", str(_wheel()), "mypy>=1.15", "pytest>=8.3")
    session.run("python", "-m", "tests.support.newcomer", str(python), env=_spec_env())


@nox.session(python=PYTHON)
def extras(session: nox.Session) -> None:
    """Each extra's documented example in a venv holding the wheel with only that extra
    (`nox -s extras -- celery` for one)."""
    session.install("-e", ".[fake]", "pytest")
    build(session)
    wheel = _wheel()
    for extra in session.posargs or sorted(EXTRA_PAGES):
        python = _fresh_venv(session, f"extra-{extra}-venv", f"esikit[{extra}] @ {wheel.as_uri()}")
        session.run(
            "python",
            "-m",
            "tests.support.newcomer",
            str(python),
            "--page",
            EXTRA_PAGES[extra],
            env=_spec_env(),
        )
