"""Values a program reading ESI's data would believe: tens of thousands of players, security
status within -10..10, tickers of up to 5 capitals, names that look like names, market history
whose lowest <= average <= highest, ids inside the fake's universe, and routes about one entity
that agree with each other (a region's constellations, a system's stations, the same name)."""

from __future__ import annotations

import random
from typing import Any

from esi_fake import _universe as universe
from esi_fake._following import whole_number

NOTHING: Any = object()  # the field has no plausible rule: the schema decides


def field_value(name: str, schema: dict[str, Any], rng: random.Random) -> Any:
    """A value for the field `name`, or NOTHING."""
    kind = schema.get("type")
    if kind == "integer":
        if name == "players":
            return rng.randint(12_000, 38_000)
        if name in universe.KIND_OF_FIELD:
            return universe.KINDS[universe.KIND_OF_FIELD[name]].pick(rng)
    if kind == "number" and name == "security_status":
        return round(rng.uniform(-10.0, 10.0), 2)
    if kind == "string" and "enum" not in schema and "format" not in schema:
        return _text(name, schema, rng)
    return NOTHING


def _text(name: str, schema: dict[str, Any], rng: random.Random) -> Any:
    if name == "ticker":
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(rng.randint(2, 5)))
    if name == "name":
        return universe.name_of("thing", rng.randint(1, 10**9))
    if name == "description":
        return f"{universe.name_of('thing', rng.randint(1, 10**9))} is {rng.choice(_ADJECTIVES)}."
    return NOTHING


_ADJECTIVES = ("open to new pilots", "recruiting", "at war", "trading in Jita", "mining in high-sec")

# The id a route is about (its last path parameter, when the route ends with it): its kind.
_ENTITY_ROUTES = {
    "/characters/{character_id}": "character",
    "/corporations/{corporation_id}": "corporation",
    "/alliances/{alliance_id}": "alliance",
    "/universe/regions/{region_id}": "region",
    "/universe/constellations/{constellation_id}": "constellation",
    "/universe/systems/{system_id}": "solar_system",
    "/universe/stations/{station_id}": "station",
    "/universe/types/{type_id}": "inventory_type",
}


def outside_universe(path_params: dict[str, Any]) -> str | None:
    """The path's first id the universe does not hold, named, or None (ESI answers 404)."""
    for field, value in path_params.items():
        kind = universe.KIND_OF_FIELD.get(field)
        entity_id = whole_number(str(value))
        if kind is not None and entity_id is not None and not universe.KINDS[kind].holds(entity_id):
            return f"{field} {entity_id}"
    return None


def shape(path: str, path_params: dict[str, Any], data: Any, language: str = "en") -> Any:
    """Make the data of one route agree with the universe and with itself."""
    if isinstance(data, list):
        return [_history_day(item) if isinstance(item, dict) else item for item in data]
    if not isinstance(data, dict):
        return data
    kind = _ENTITY_ROUTES.get(path.rstrip("/"))
    if kind is not None:
        entity_id = whole_number(str(next(reversed(path_params.values()))))
        if entity_id is not None:
            _entity(kind, entity_id, data, language)
    return data


def _history_day(item: dict[str, Any]) -> dict[str, Any]:
    if all(isinstance(item.get(k), int | float) for k in ("lowest", "average", "highest")):
        item["lowest"], item["average"], item["highest"] = sorted(
            (item["lowest"], item["average"], item["highest"])
        )
    return item


def _entity(kind: str, entity_id: int, data: dict[str, Any], language: str) -> None:
    if "name" in data:
        data["name"] = universe.localised_name(kind, entity_id, language)
    if "ticker" in data:
        data["ticker"] = universe.ticker_of(str(data.get("name", "")), entity_id)
    if kind == "region" and "constellations" in data:
        data["constellations"] = universe.constellations_of(entity_id)
    elif kind == "constellation":
        _set(data, "region_id", universe.region_of_constellation(entity_id))
        _set(data, "systems", universe.systems_of_constellation(entity_id))
    elif kind == "solar_system":
        _set(data, "constellation_id", universe.constellation_of_system(entity_id))
        _set(data, "stations", universe.stations_of_system(entity_id))
        if "security_status" in data:  # a system's, unlike a character's, lies within -1..1
            data["security_status"] = round(random.Random(entity_id).uniform(-1.0, 1.0), 3)
    elif kind == "station":
        _set(data, "system_id", universe.system_of_station(entity_id))


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    if key in data:
        data[key] = value


def names_of_ids(ids: list[int]) -> list[dict[str, Any]] | str:
    """/universe/names: each id with its name and category, or the ids the universe lacks."""
    unknown = [entity_id for entity_id in ids if universe.kind_of_id(entity_id) is None]
    if unknown:
        return f"Ensure all IDs are valid before resolving: {', '.join(map(str, unknown[:10]))}"
    answer = []
    for entity_id in ids:
        kind = universe.kind_of_id(entity_id)
        assert kind is not None
        answer.append(
            {"category": kind.category, "id": entity_id, "name": universe.name_of(kind.category, entity_id)}
        )
    return answer


def ids_of_names(names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """/universe/ids: the names the universe knows, grouped by category (others left out)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        found = universe.named(name)
        if found is None:
            continue
        category, entity_id = found
        kind = universe.KINDS.get(category)
        if kind is not None:
            groups.setdefault(kind.plural, []).append({"id": entity_id, "name": name})
    return groups
