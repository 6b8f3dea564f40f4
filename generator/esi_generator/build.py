"""Drive openapi-python-client: normalised spec in, the typed client's generated subtrees out.

The client is written into a temporary tree beside the target and swapped in only when the
whole generation succeeded, so a failure leaves the previous client untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from esi_generator.diff import SpecDiff, diff_specs
from esi_generator.errors import SpecError
from esi_generator.facts import operation_facts
from esi_generator.pin import CHECKOUT_ROOT, DEFAULT_PIN_PATH, Pin, load_pin, update_pin
from esi_generator.renames import RENAMES_PATH, alias_source, applicable, load_renames
from esi_generator.source import SpecSource, cache_spec, cached_spec, resolve_spec
from esi_generator.transforms import normalise
from esi_generator.validate import iter_operations, parse_spec, pointer
from esi_generator.wire import WireRules, esi_response_model, positional_order, raw_text

GENERATOR_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = GENERATOR_DIR / "templates"
CONFIG_PATH = GENERATOR_DIR / "config.yaml"
GENERATED_SUBTREES = ("api", "models")
MANIFEST = Path("api") / "_manifest.json"  # every generated file's sha256: "up to date" is checked
_FINGERPRINT_RE = re.compile(r'^GENERATOR_FINGERPRINT = "([0-9a-f]+)"$', re.M)
_SPEC_SHA_RE = re.compile(r'^SPEC_SHA256 = "([0-9a-f]+)"$', re.M)


@dataclass
class GenerationResult:
    output_dir: Path
    spec_origin: str
    spec_sha256: str
    compatibility_date: str
    operations_in_spec: int
    operations_generated: int = 0
    models_generated: int = 0
    warnings: list[str] = field(default_factory=list)
    skipped: bool = False
    seconds: float = 0.0
    diff: SpecDiff | None = None
    previous_sha256: str | None = None


def default_output_dir() -> Path:
    spec = importlib.util.find_spec("esi_client")
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).parent
    return CHECKOUT_ROOT / "esi_client"


def generate(
    spec: str | None = None,
    *,
    output_dir: Path | None = None,
    pin_path: Path = DEFAULT_PIN_PATH,
    update_pin_to_spec: bool = False,
    force: bool = False,
    allow_warnings: bool = False,
) -> GenerationResult:
    """Generate the client from the spec; a no-op when inputs are unchanged (unless `force`)."""
    started = time.perf_counter()
    output_dir = output_dir or default_output_dir()
    pin = load_pin(pin_path)
    source = resolve_spec(pin, spec, check_pin=not update_pin_to_spec)
    document = parse_spec(source)
    date = str(document.get("info", {}).get("version", pin.compatibility_date))
    result = GenerationResult(
        output_dir=output_dir,
        spec_origin=source.origin,
        spec_sha256=source.sha256,
        compatibility_date=date,
        operations_in_spec=sum(1 for _ in iter_operations(document)),
    )
    fingerprint = _fingerprint(source.sha256)
    previous = _read_meta(output_dir)
    _remove_abandoned_staging(output_dir)
    if previous is not None and previous[0] == fingerprint and not force and _tree_intact(output_dir):
        _accept(pin, source, date, update_pin_to_spec)
        result.skipped = True
        result.operations_generated = result.operations_in_spec
        result.seconds = time.perf_counter() - started
        return result

    with _staging_dir(output_dir) as staging:
        package = staging / "esi_client"
        warnings = _run_openapi_python_client(normalise(document), package, source.sha256, fingerprint, date)
        result.warnings = warnings
        result.operations_generated = _count_operation_modules(package)
        result.models_generated = sum(1 for p in (package / "models").glob("*.py") if p.name != "__init__.py")
        if result.operations_generated != result.operations_in_spec:
            raise SpecError(
                source.origin,
                f"{result.operations_generated} of {result.operations_in_spec} operations generated; "
                + "; ".join(warnings or ["openapi-python-client skipped some"]),
            )
        if warnings and not allow_warnings:
            raise SpecError(source.origin, "openapi-python-client warned: " + " | ".join(warnings))
        for alias in (package / "api").glob("*/*.py.alias"):
            alias.rename(alias.with_suffix(""))
        _format(package)
        _write_manifest(package)
        _swap_in(package, output_dir)
    # Only now that the new client is in place do the pin and the cache name its spec: a failed,
    # killed or interrupted run leaves both as they were.
    _accept(pin, source, date, update_pin_to_spec)

    if previous is not None and previous[1] != source.sha256:
        result.previous_sha256 = previous[1]
        old = cached_spec(pin, previous[1])
        if old is not None:
            result.diff = diff_specs(parse_spec(old), document)
    result.seconds = time.perf_counter() - started
    return result


def _accept(pin: Pin, source: SpecSource, date: str, update: bool) -> None:
    if update and (pin.sha256 != source.sha256 or pin.compatibility_date != date):
        update_pin(pin, compatibility_date=date, sha256=source.sha256)
    cache_spec(pin, source)


def _fingerprint(spec_sha256: str) -> str:
    digest = hashlib.sha256(spec_sha256.encode())
    digest.update(version("openapi-python-client").encode())
    sources = [*GENERATOR_DIR.glob("*.py"), *TEMPLATES_DIR.rglob("*.jinja"), CONFIG_PATH, RENAMES_PATH]
    for path in sorted(sources):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _read_meta(output_dir: Path) -> tuple[str, str] | None:
    """(fingerprint, spec sha256) of the client now in place, read without importing it."""
    try:
        text = (output_dir / "api" / "__init__.py").read_text(encoding="utf-8")
    except OSError:
        return None
    fingerprint, sha = _FINGERPRINT_RE.search(text), _SPEC_SHA_RE.search(text)
    if fingerprint is None or sha is None:
        return None
    return fingerprint.group(1), sha.group(1)


def _generated_files(package: Path) -> dict[str, str]:
    """Every generated file (path relative to the package) with its sha256."""
    return {
        path.relative_to(package).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for name in GENERATED_SUBTREES
        for path in sorted((package / name).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.name != MANIFEST.name
    }


def _write_manifest(package: Path) -> None:
    manifest = json.dumps(_generated_files(package), indent=0, sort_keys=True)
    (package / MANIFEST).write_text(manifest + "\n", encoding="utf-8")


def _tree_intact(output_dir: Path) -> bool:
    """The generated files are exactly those the manifest lists, byte for byte."""
    try:
        listed = json.loads((output_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(listed == _generated_files(output_dir))


def _remove_abandoned_staging(output_dir: Path) -> None:
    """Staging folders of runs that were killed (their process is gone); a running one's stay."""
    for staging in output_dir.glob(".gen-*"):
        owner = staging.name.split("-")[-2] if staging.name.count("-") >= 2 else ""
        if owner.isdigit() and not _process_alive(int(owner)):
            shutil.rmtree(staging, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


@contextlib.contextmanager
def _staging_dir(output_dir: Path) -> Iterator[Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".gen-{os.getpid()}-", dir=output_dir))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _run_openapi_python_client(
    spec: dict[str, Any], package: Path, spec_sha256: str, fingerprint: str, date: str
) -> list[str]:
    from openapi_python_client import Project
    from openapi_python_client.config import Config, ConfigFile, MetaType
    from openapi_python_client.parser import GeneratorData
    from openapi_python_client.parser.errors import GeneratorError
    from openapi_python_client.strings import PythonIdentifier

    config_file = ConfigFile.load_from_path(CONFIG_PATH)
    config = Config.from_sources(config_file, MetaType.NONE, package, "utf-8", True, package)
    data = GeneratorData.from_dict(spec, config=config)
    if isinstance(data, GeneratorError):
        raise SpecError("spec", f"{data.header}: {data.detail}")
    from openapi_python_client.schema.untrusted_string import UntrustedString

    endpoints = {
        str(endpoint.name): (str(tag), endpoint)
        for tag, collection in data.endpoint_collections_by_tag.items()
        for endpoint in collection.endpoints
    }
    modules: dict[str, tuple[str, str, dict[str, str]]] = {}
    missing = []
    module_owners: dict[str, str] = {}
    for path, method, operation in iter_operations(spec):
        operation_id = operation["operationId"]
        module = str(PythonIdentifier(UntrustedString(operation_id), config.field_prefix))
        if module in module_owners:
            raise SpecError(
                pointer("paths", path, method, "operationId"),
                f"operationIds {module_owners[module]!r} and {operation_id!r} both make the Python "
                f"module {module!r}; one would overwrite the other",
            )
        module_owners[module] = operation_id
        if module not in endpoints:
            missing.append(operation_id)
            continue
        tag, endpoint = endpoints[module]
        names = {raw_text(p.name): str(p.python_name) for _, p in endpoint.iter_all_parameters()}
        modules[operation_id] = (tag, module, names)
    if missing:
        raise SpecError("spec", f"openapi-python-client could not parse operations: {', '.join(missing)}")
    facts = {fact.module: fact for fact in operation_facts(spec, modules).values()}
    renamed = applicable(load_renames(), modules)
    project = Project(openapi=data, config=config, custom_template_path=TEMPLATES_DIR)
    project.env.globals.update(
        esi_operations=facts,
        esi_renamed=renamed,
        esi_wire_fields=WireRules(project.openapi.models).fields,
        esi_response_model=esi_response_model,
        esi_positional_order=positional_order,
        esi_kind=lambda prop: type(prop).__name__,
        esi_code_text=lambda code: code.as_unembedded_code(),
        esi_meta={
            "compatibility_date": date,
            "spec_sha256": spec_sha256,
            "fingerprint": fingerprint,
            "operation_count": len(facts),
            "title": spec.get("info", {}).get("title", ""),
        },
    )
    with contextlib.redirect_stdout(io.StringIO()):
        errors = project.build()
    index = project.env.get_template("operation_index.py.jinja")
    (package / "api" / "_index.py").write_text(index.render(), encoding="utf-8")
    for stray in ("client.py", "errors.py", "types.py", "__init__.py"):
        (package / stray).unlink(missing_ok=True)
    for old_id, new_id in renamed.items():
        tag, new_module, _names = modules[new_id]
        old_module = str(PythonIdentifier(UntrustedString(old_id), config.field_prefix))
        target = package / "api" / tag / f"{old_module}.py.alias"  # counted apart: not an operation
        target.write_text(
            alias_source(
                old_id, new_id, f"esi_client.api.{tag}.{old_module}", f"esi_client.api.{tag}.{new_module}"
            ),
            encoding="utf-8",
        )
    return [_describe(error) for error in errors]


def _describe(error: Any) -> str:
    detail = " ".join(str(error.detail or "").split())
    return f"{error.header}: {detail}" if detail else str(error.header)


def _count_operation_modules(package: Path) -> int:
    return sum(1 for path in (package / "api").glob("*/*.py") if path.name != "__init__.py")


def _format(package: Path) -> None:
    targets = [str(package / name) for name in GENERATED_SUBTREES]
    command = [sys.executable, "-m", "ruff"]
    # --isolated: the staging tree lies inside the repository, whose config excludes it.
    settings = ["--isolated", "--line-length", "110", "--no-cache"]
    subprocess.run(
        [*command, "check", "--fix-only", "--select", "I,F401", "--silent", *settings, *targets],
        check=False,
    )
    formatted = subprocess.run(
        [*command, "format", *settings, *targets], capture_output=True, text=True, check=False
    )
    if formatted.returncode != 0:
        # The templates produced invalid Python: a bug in esikit, not in the spec.
        raise RuntimeError(f"generated code does not parse:\n{formatted.stderr or formatted.stdout}")


def _swap_in(package: Path, output_dir: Path) -> None:
    """Replace the generated subtrees, restoring the old ones if any move fails."""
    backup = Path(tempfile.mkdtemp(prefix=f".gen-old-{os.getpid()}-", dir=output_dir))
    moved: list[str] = []
    try:
        for name in GENERATED_SUBTREES:
            if (output_dir / name).exists():
                (output_dir / name).rename(backup / name)
                moved.append(name)
        for name in GENERATED_SUBTREES:
            (package / name).rename(output_dir / name)
    except OSError:
        for name in GENERATED_SUBTREES:
            if name in moved:
                shutil.rmtree(output_dir / name, ignore_errors=True)
                (backup / name).rename(output_dir / name)
        raise
    finally:
        shutil.rmtree(backup, ignore_errors=True)
