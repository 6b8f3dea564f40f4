"""Hatch build hook: a wheel runs the generator, so an installed wheel contains the client."""

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
        sys.path.insert(0, str(root))
        try:
            from esi_generator.build import generate

            result = generate(output_dir=root / "esi_client", pin_path=root / "spec" / "pin.toml")
        finally:
            sys.path.remove(str(root))
        self.app.display_info(
            f"esi_client: {result.operations_generated} of {result.operations_in_spec} operations"
            + (" (up to date)" if result.skipped else "")
        )
