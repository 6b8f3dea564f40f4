"""Who the client says it is and which ESI it talks to."""

from __future__ import annotations

import functools

from attrs import frozen

from esi_client.configuration import ESI_BASE_URL
from esi_client.errors import ConfigurationError

__all__ = ["ESI_BASE_URL"]
DEFAULT_TENANT = "tranquility"
LANGUAGES = ("en", "de", "fr", "ja", "ru", "zh", "ko", "es")


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


@functools.cache  # the installed distribution's metadata is read once: ~2 ms each time
def _esikit_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("esikit")
    except PackageNotFoundError:
        return "0"


@frozen
class Identity:
    """The User-Agent parts CCP asks every app to send: a name and a way to reach its author."""

    app_name: str
    contact: str
    app_version: str | None = None

    def user_agent(self) -> str:
        name = f"{self.app_name}/{self.app_version}" if self.app_version else self.app_name
        return f"{name} ({self.contact}) esikit/{_esikit_version()}"


def make_identity(app_name: str | None, contact: str | None, app_version: str | None) -> Identity:
    if not contact or not contact.strip():
        raise ConfigurationError(
            "ESIClient needs contact=... (an email address, URL or in-game name CCP can reach you at; or "
            "ESI_CONTACT, or contact in the config file): ESI asks every app to identify itself in its "
            "User-Agent and may block anonymous ones"
        )
    if not app_name or not app_name.strip():
        raise ConfigurationError(
            "ESIClient needs app_name=... (or ESI_APP_NAME, or app_name in the config file) "
            "for its User-Agent"
        )
    if any(ch in app_name + contact for ch in "\r\n"):
        raise ConfigurationError("app_name and contact must be one line each")
    return Identity(app_name.strip(), contact.strip(), app_version)


def check_language(language: str | None) -> str | None:
    if language is not None and language not in LANGUAGES:
        raise ConfigurationError(
            f"language {language!r} is not one ESI serves; choose from {', '.join(LANGUAGES)}"
        )
    return language


def pinned_compatibility_date() -> str:
    """The compatibility date of the generated client (the spec pin it was generated from)."""
    try:
        from esi_client.api import COMPATIBILITY_DATE
    except ImportError:
        raise ConfigurationError(
            "the generated client is missing: run `esi generate` (or pass compatibility_date=...)"
        ) from None
    return str(COMPATIBILITY_DATE)


def check_limits(
    *,
    timeout: float,
    max_concurrency: int,
    error_threshold: int,
    max_wait: float,
    deadline: float | None,
    max_body_bytes: int,
) -> None:
    """Refuse settings that would hang, wait for ever or never send (ConfigurationError)."""
    from esi_client.runtime.limits.local import ASSUMED_BUDGET

    problems = []
    if not isinstance(max_concurrency, int) or max_concurrency < 1:
        problems.append(f"max_concurrency must be a whole number ≥ 1 (got {max_concurrency!r})")
    if not isinstance(error_threshold, int) or not 0 <= error_threshold < ASSUMED_BUDGET:
        problems.append(
            f"error_threshold must be from 0 to {ASSUMED_BUDGET - 1}: ESI allows {ASSUMED_BUDGET} "
            f"errors a window (got {error_threshold!r})"
        )
    if not timeout > 0:
        problems.append(f"timeout must be more than 0 seconds (got {timeout!r})")
    if not max_wait >= 0:
        problems.append(f"max_wait must be 0 seconds or more (got {max_wait!r})")
    if deadline is not None and not deadline > 0:
        problems.append(f"deadline must be more than 0 seconds, or None (got {deadline!r})")
    if not isinstance(max_body_bytes, int) or max_body_bytes < 1:
        problems.append(f"max_body_bytes must be a whole number ≥ 1 (got {max_body_bytes!r})")
    if problems:
        raise ConfigurationError("; ".join(problems))
