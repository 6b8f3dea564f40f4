"""The one error type the generator raises for a spec it cannot use."""

from __future__ import annotations


class SpecError(Exception):
    """A spec that cannot be generated from; `location` names where the problem is.

    The CLI prints it as one line and exits with status 2.
    """

    exit_status = 2

    def __init__(self, location: str, problem: str) -> None:
        super().__init__(f"{location}: {problem}")
        self.location = location
        self.problem = problem


class PinMismatchError(SpecError):
    """The spec's sha256 is not the pinned one (pass --update-pin to accept it)."""
