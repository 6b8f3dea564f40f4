"""Which ESI operation a request names: its method and path matched against the spec's routes,
and, when none matches, the closest routes to say so."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from attrs import frozen

from esi_client._operation import Operation

_PARAMETER = re.compile(r"\{([^}/]+)\}")


@frozen
class Match:
    operation: Operation
    path_params: dict[str, str]


class NoRoute(LookupError):
    """No operation has this method and path; `closest` names the nearest routes."""

    def __init__(self, method: str, path: str, closest: list[str], allowed: list[str]) -> None:
        if allowed:
            detail = f"{path} takes {', '.join(allowed)}, not {method}"
        else:
            hint = f"; the closest: {', '.join(closest)}" if closest else ""
            detail = f"ESI has no route {method} {path}{hint}"
        super().__init__(detail)
        self.closest = closest
        self.allowed = allowed


def _first_segment(path: str) -> str:
    return path.lstrip("/").partition("/")[0]


class RouteTable:
    """Every operation's route as a pattern; a trailing slash is optional, as ESI's is."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self._routes: list[tuple[re.Pattern[str], Operation]] = []
        for operation in operations:
            pattern = _PARAMETER.sub(lambda found: f"(?P<{found.group(1)}>[^/]+)", operation.path.rstrip("/"))
            self._routes.append((re.compile(f"{pattern}/?"), operation))
        # literal routes first: /characters/affiliation is not /characters/{character_id}
        self._routes.sort(key=lambda route: route[1].path.count("{"))
        # by first segment (every ESI route starts with a literal one): a few patterns to try
        self._matched: dict[tuple[str, str], Match] = {}
        self._by_segment: dict[str, list[tuple[re.Pattern[str], Operation]]] = {}
        for route in self._routes:
            self._by_segment.setdefault(_first_segment(route[1].path), []).append(route)

    def match(self, method: str, path: str) -> Match:
        known = self._matched.get((method, path))
        if known is not None:
            return known
        found = self._match(method, path)
        if len(self._matched) >= 8192:  # a bounded memory of the paths asked lately
            self._matched.clear()
        self._matched[(method, path)] = found
        return found

    def _match(self, method: str, path: str) -> Match:
        allowed: list[str] = []
        for pattern, operation in self._by_segment.get(_first_segment(path), ()):
            found = pattern.fullmatch(path)
            if found is None:
                continue
            if operation.method == method:
                return Match(operation, found.groupdict())
            allowed.append(operation.method)
        raise NoRoute(method, path, [] if allowed else self.closest(method, path), sorted(set(allowed)))

    def closest(self, method: str, path: str, n: int = 3) -> list[str]:
        """The routes most like this path: its numbers read as parameters, compared by text."""
        shape = re.sub(r"/\d+(?=/|$)", "/{id}", path.rstrip("/"))
        shapes = {
            _PARAMETER.sub("{id}", operation.path.rstrip("/")): f"{operation.method} {operation.path}"
            for _, operation in self._routes
            if operation.method == method
        }
        found = difflib.get_close_matches(shape, list(shapes), n=n, cutoff=0.5)
        return [shapes[route] for route in found]
