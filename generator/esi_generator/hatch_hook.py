"""Hatch build hook: a wheel runs the generator, so an installed wheel contains the client (and
the spec it was generated from)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class GenerateClientHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return  # an editable install generates with `esi generate`, into the work tree
        root = Path(self.root)
        # the generator (generator/esi_generator) and the runtime it imports (esi_client)
        paths = [str(root / "generator"), str(root)]
        sys.path[:0] = paths
        try:
            from esi_generator.build import generate

            result = generate(output_dir=root / "esi_client", pin_path=root / "spec" / "pin.toml")
        finally:
            for path in paths:
                sys.path.remove(path)
        # The spec the client was built from rides along, so `esi fake-server` and diffs work
        # offline after install (read only when its sha256 is the pin's).
        built_from = root / "spec" / ".cache" / f"{result.spec_sha256}.json"
        if built_from.is_file():
            build_data["force_include"][str(built_from)] = "esi_generator/shipped-spec.json"
        self.app.display_info(
            f"esi_client: {result.operations_generated} of {result.operations_in_spec} operations"
            + (" (up to date)" if result.skipped else "")
        )
