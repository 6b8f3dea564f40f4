"""The suite reads as the product does: every fixture is typed (no `Any` fixture, no `Any`
parameter where a fixture is taken), and test helpers live in tests/support/."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _fixtures(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(
            "fixture" in ast.unparse(decorator) for decorator in node.decorator_list
        ):
            found[node.name] = node
    return found


def _any_in(annotation: ast.expr | None) -> bool:
    return annotation is None or any(
        isinstance(node, ast.Name) and node.id == "Any" for node in ast.walk(annotation)
    )


def test_no_fixture_is_typed_any() -> None:
    trees = {path: ast.parse(path.read_text()) for path in sorted(TESTS.rglob("*.py"))}
    fixtures: dict[str, ast.FunctionDef] = {}
    for tree in trees.values():
        fixtures.update(_fixtures(tree))
    fixtures.pop("spec_document", None)  # a JSON document: dict[str, Any] is its type
    untyped = sorted(name for name, node in fixtures.items() if _any_in(node.returns))
    assert not untyped, f"fixtures typed Any: {untyped}"
    taken_as_any = sorted(
        f"{path.relative_to(TESTS)}:{node.lineno} {node.name}({argument.arg})"
        for path, tree in trees.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
        for argument in node.args.args
        if argument.arg in fixtures and argument.annotation is not None and _any_in(argument.annotation)
    )
    assert not taken_as_any, taken_as_any


def test_helpers_live_in_support() -> None:
    """At the top of tests/: test modules, conftest, and the mutation list; nothing else."""
    loose = sorted(
        path.name
        for path in TESTS.glob("*.py")
        if not path.name.startswith("test_") and path.name not in ("conftest.py", "__init__.py")
    )
    assert not loose, loose
