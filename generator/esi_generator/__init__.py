"""esikit's build step: CCP's OpenAPI spec in, the typed `esi_client` out.

from esi_generator import generate
result = generate("path/or/url/to/openapi.json")
"""

from esi_generator.build import GenerationResult, generate
from esi_generator.diff import Change, SpecDiff, diff_specs
from esi_generator.errors import PinMismatchError, SpecError
from esi_generator.pin import Pin, load_pin
from esi_generator.source import read_spec, resolve_spec
from esi_generator.transforms import TRANSFORMS, normalise
from esi_generator.validate import parse_spec

__all__ = [
    "TRANSFORMS",
    "Change",
    "GenerationResult",
    "Pin",
    "PinMismatchError",
    "SpecDiff",
    "SpecError",
    "diff_specs",
    "generate",
    "load_pin",
    "normalise",
    "parse_spec",
    "read_spec",
    "resolve_spec",
]
