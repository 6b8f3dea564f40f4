"""esikit's build step: CCP's OpenAPI spec in, the typed `esi_client` out.

from generator import generate
result = generate("path/or/url/to/openapi.json")
"""

from generator.build import GenerationResult, generate
from generator.diff import Change, SpecDiff, diff_specs
from generator.errors import PinMismatchError, SpecError
from generator.pin import Pin, load_pin
from generator.source import read_spec, resolve_spec
from generator.transforms import TRANSFORMS, normalise
from generator.validate import parse_spec

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
