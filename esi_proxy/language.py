"""A client's Accept-Language read as ESI reads it: the supported language it prefers most, so
`en-US,en;q=0.9` and `en` share one cached answer, and `*` asks for ESI's default."""

from __future__ import annotations

from esi_client.client.settings import LANGUAGES


def negotiated_language(header: str | None) -> str | None:
    """The supported language with the highest q-value (`de-DE` is `de`; the first of equals);
    None when the header names none ESI serves."""
    best, best_weight = None, 0.0
    for position, part in enumerate((header or "")[:200].split(",")[:20]):
        tag, _, parameters = part.strip().partition(";")
        weight = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                continue
        primary = tag.split("-")[0].strip().lower()
        weight -= position * 1e-6  # of equal weights, the first listed wins
        if primary in LANGUAGES and weight > best_weight:
            best, best_weight = primary, weight
    return best
