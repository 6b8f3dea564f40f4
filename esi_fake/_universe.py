"""The fake's universe: which ids exist, how they nest, and what they are called.

Ids sit in EVE's own ranges (characters 90,000,000+, systems 30,000,001+, ...). The map is
arithmetic: 70 regions of 16 constellations of 4 systems of 3 stations, so a region's systems and
a station's system follow from the ids. Names are made from the id (the same every time) and
look like names; every name handed out is remembered so `/universe/ids` can find it again.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

REGIONS, CONSTELLATIONS_PER_REGION, SYSTEMS_PER_CONSTELLATION, STATIONS_PER_SYSTEM = 70, 16, 4, 3
FIRST_REGION, FIRST_CONSTELLATION, FIRST_SYSTEM, FIRST_STATION = (
    10_000_001,
    20_000_001,
    30_000_001,
    60_000_001,
)
SYSTEMS_PER_REGION = CONSTELLATIONS_PER_REGION * SYSTEMS_PER_CONSTELLATION


@dataclass(frozen=True)
class Kind:
    category: str  # as /universe/names says it
    plural: str  # as /universe/ids groups it
    ranges: tuple[tuple[int, int], ...]  # inclusive

    def holds(self, entity_id: int) -> bool:
        return any(low <= entity_id <= high for low, high in self.ranges)

    def pick(self, rng: random.Random) -> int:
        low, high = self.ranges[0]
        return rng.randint(low, min(high, low + 9_999_999))


_LAST_CONSTELLATION = FIRST_CONSTELLATION + REGIONS * CONSTELLATIONS_PER_REGION - 1
_LAST_SYSTEM = FIRST_SYSTEM + REGIONS * SYSTEMS_PER_REGION - 1
_LAST_STATION = FIRST_STATION + REGIONS * SYSTEMS_PER_REGION * STATIONS_PER_SYSTEM - 1

KINDS = {
    "character": Kind("character", "characters", ((90_000_000, 97_999_999), (2_112_000_000, 2_129_999_999))),
    "corporation": Kind("corporation", "corporations", ((98_000_000, 98_999_999), (1_000_001, 1_000_300))),
    "alliance": Kind("alliance", "alliances", ((99_000_000, 99_999_999),)),
    "faction": Kind("faction", "factions", ((500_001, 500_030),)),
    "region": Kind("region", "regions", ((FIRST_REGION, FIRST_REGION + REGIONS - 1),)),
    "constellation": Kind("constellation", "constellations", ((FIRST_CONSTELLATION, _LAST_CONSTELLATION),)),
    "solar_system": Kind("solar_system", "systems", ((FIRST_SYSTEM, _LAST_SYSTEM),)),
    "station": Kind("station", "stations", ((FIRST_STATION, _LAST_STATION),)),
    "inventory_type": Kind("inventory_type", "inventory_types", ((0, 999_999),)),
}

# What an id named so in a path or a field is (ids of other things are not checked).
KIND_OF_FIELD = {
    "character_id": "character",
    "corporation_id": "corporation",
    "alliance_id": "alliance",
    "faction_id": "faction",
    "region_id": "region",
    "constellation_id": "constellation",
    "system_id": "solar_system",
    "solar_system_id": "solar_system",
    "station_id": "station",
    "type_id": "inventory_type",
}


def kind_of_id(entity_id: int) -> Kind | None:
    return next((kind for kind in KINDS.values() if kind.holds(entity_id)), None)


def constellations_of(region_id: int) -> list[int]:
    first = FIRST_CONSTELLATION + (region_id - FIRST_REGION) * CONSTELLATIONS_PER_REGION
    return list(range(first, first + CONSTELLATIONS_PER_REGION))


def region_of_constellation(constellation_id: int) -> int:
    return FIRST_REGION + (constellation_id - FIRST_CONSTELLATION) // CONSTELLATIONS_PER_REGION


def systems_of_constellation(constellation_id: int) -> list[int]:
    first = FIRST_SYSTEM + (constellation_id - FIRST_CONSTELLATION) * SYSTEMS_PER_CONSTELLATION
    return list(range(first, first + SYSTEMS_PER_CONSTELLATION))


def constellation_of_system(system_id: int) -> int:
    return FIRST_CONSTELLATION + (system_id - FIRST_SYSTEM) // SYSTEMS_PER_CONSTELLATION


def systems_of_region(region_id: int) -> list[int]:
    first = FIRST_SYSTEM + (region_id - FIRST_REGION) * SYSTEMS_PER_REGION
    return list(range(first, first + SYSTEMS_PER_REGION))


def stations_of_system(system_id: int) -> list[int]:
    first = FIRST_STATION + (system_id - FIRST_SYSTEM) * STATIONS_PER_SYSTEM
    return list(range(first, first + STATIONS_PER_SYSTEM))


def system_of_station(station_id: int) -> int:
    return FIRST_SYSTEM + (station_id - FIRST_STATION) // STATIONS_PER_SYSTEM


_SYLLABLE_TEXT = (
    "ka ri to an el mar ven sol dra ith or ul sen ta vo ra ne ko lu mi "
    "thar ges bor qui ast ron dal fen ur ze ly ca der hal"
)
_SYLLABLES = tuple(_SYLLABLE_TEXT.split())
_CORPORATE = ("Corporation", "Industries", "Holdings", "Enterprises", "Logistics", "Syndicate")
_ALLIANCE = ("Alliance", "Coalition", "Federation", "Collective")


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(syllables)).capitalize()


def _made_name(category: str, entity_id: int, language: str = "en") -> str:
    rng = random.Random(f"name:{category}:{entity_id}" + ("" if language == "en" else f":{language}"))
    if category == "character":
        return f"{_word(rng, 2)} {_word(rng, rng.randint(2, 3))}"
    if category == "corporation":
        return f"{_word(rng, 2)} {_word(rng, 2)} {rng.choice(_CORPORATE)}"
    if category == "alliance":
        return f"{_word(rng, 3)} {rng.choice(_ALLIANCE)}"
    if category == "solar_system":
        return _word(rng, rng.randint(2, 3))
    if category == "station":
        system = system_of_station(entity_id)
        return f"{name_of('solar_system', system)} {rng.randint(1, 9)} - {_word(rng, 2)} Station"
    return f"{_word(rng, 2)} {_word(rng, 2)}"


_named: dict[str, tuple[str, int]] = {}  # every name handed out -> (category, id)
_named_lock = threading.Lock()


def name_of(category: str, entity_id: int) -> str:
    """The name of an entity: the same on every route that shows it."""
    name = _made_name(category, entity_id)
    if category in KINDS:
        with _named_lock:
            if len(_named) > 200_000:
                _named.clear()
            _named.setdefault(name, (category, entity_id))
    return name


def localised_name(category: str, entity_id: int, language: str) -> str:
    """The name in another language (items and places have translated names; people do not)."""
    if language == "en" or category in ("character", "corporation", "alliance"):
        return name_of(category, entity_id)
    return _made_name(category, entity_id, language)


def named(name: str) -> tuple[str, int] | None:
    """(category, id) of a name the fake has handed out, as /universe/ids finds it."""
    with _named_lock:
        return _named.get(name)


def ticker_of(name: str, entity_id: int) -> str:
    """Up to 5 capitals, as EVE's tickers are: the name's initials, then digits of the id."""
    initials = "".join(word[0] for word in name.split() if word[:1].isalpha()).upper()
    return (initials + str(entity_id)[-2:])[:5]
