"""esi_client stands alone: no import circle among its modules (type-only imports count: they
are how a circle starts), and it never imports esi_auth, esi_fake, esi_cli or esi_generator."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import esi_client

PACKAGE = Path(esi_client.__file__).parent
OTHERS = ("esi_auth", "esi_fake", "esi_cli", "esi_generator", "esi_proxy")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found: set[str] = set()
    pending = list(nodes)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and module_level_only:  # `if TYPE_CHECKING:` blocks count
            pending.extend(node.body)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], base]).rstrip(".")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _runtime_modules() -> dict[str, Path]:
    """The hand-written runtime: every module of esi_client but the generated api/ and models/."""
    generated = (PACKAGE / "api", PACKAGE / "models")
    return {
        _module_name(path): path
        for path in PACKAGE.rglob("*.py")
        if not any(path.is_relative_to(folder) for folder in generated)
    }


def test_no_import_circle_in_the_runtime() -> None:
    modules = _runtime_modules()
    graph = {
        name: {imported for imported in _imports(path, module_level_only=True) if imported in modules}
        - {name}
        for name, path in modules.items()
    }
    graph["esi_client"] = set()  # the package's names load lazily, on first use (esi_client._lazy)

    def circle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for following in graph.get(node, ()):
                if following == start:
                    return [*trail, start]
                if following not in trail:
                    stack.append((following, [*trail, following]))
        return None

    circles = [circle for name in sorted(graph) if (circle := circle_from(name))]
    assert not circles, " ; ".join(" -> ".join(circle) for circle in circles)


def test_esi_client_never_imports_the_other_packages() -> None:
    for path in PACKAGE.rglob("*.py"):
        imported = _imports(path, module_level_only=False)
        bad = sorted(name for name in imported if name.split(".")[0] in OTHERS)
        assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {bad}"


def test_the_layers_below_never_import_the_ones_above() -> None:
    """The wire knows nothing of retries, limits, coalescing or the cache; no layer knows the
    pipeline that composes them; decoding knows nothing of the runtime."""
    above = {
        "esi_client.runtime.wire": ("attempt", "limits", "coalescing", "cache", "pipeline"),
        "esi_client.runtime.attempt": ("coalescing", "pipeline"),
        "esi_client.runtime.limits": ("attempt", "coalescing", "cache", "pipeline"),
        # the cache carries its flights (the registry its callers coalesce on), nothing more
        "esi_client.runtime.cache": ("attempt", "coalescing.join", "limits", "pipeline"),
        "esi_client.runtime.coalescing": ("attempt", "limits", "pipeline"),
        "esi_client.decoding": ("runtime", "client"),
    }
    wrong = []
    for name, path in _runtime_modules().items():
        for layer, forbidden in above.items():
            if not name.startswith(layer):
                continue
            prefixes = tuple(
                f"esi_client.{part}" if layer == "esi_client.decoding" else f"esi_client.runtime.{part}"
                for part in forbidden
            )
            wrong += [
                f"{name} -> {i}" for i in _imports(path, module_level_only=False) if i.startswith(prefixes)
            ]
    assert not wrong, wrong


def test_no_function_on_the_call_path_is_above_complexity_10() -> None:
    """Lint allows 12 anywhere; a call's own path (client, runtime, decoding, paging) stays at 10."""
    call_path = ["client", "runtime", "decoding", "paging.py"]
    found = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "C901", "--output-format",
         "concise", "--config", "lint.mccabe.max-complexity = 10", *(str(PACKAGE / p) for p in call_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert found.returncode == 0, found.stdout + found.stderr


def test_the_benchmarks_never_import_the_tests() -> None:
    """Benchmarks stand on the product and testbed/ alone: a test helper's change never moves a
    figure."""
    benchmarks = PACKAGE.parent / "benchmarks"
    wrong = {
        str(path.relative_to(PACKAGE.parent)): sorted(
            i for i in _imports(path, False) if i.split(".")[0] == "tests"
        )
        for path in benchmarks.rglob("*.py")
    }
    assert sorted(benchmarks.glob("*.py")) and not any(wrong.values()), wrong
