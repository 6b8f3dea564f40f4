"""The schemathesis run (`nox -s schemathesis`) allows only what its docstring names: each
allowance is narrow, and any other failed check fails the run."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.schemathesis_fake import Failure, allowed, errors

NEWEST = "2026-08-04"
DATE_ENUM = "violates `enum` at /properties/X-Compatibility-Date"


def test_only_the_named_exceptions_are_allowed() -> None:
    union = Failure("ST108", "GET /sovereignty/systems", "x is valid under more than one of the schemas "
                    "listed in the 'oneOf' keyword", 200, NEWEST)  # fmt: skip
    missing = Failure("ST203", "GET /status", "missing required 'X-Compatibility-Date' header", 200, None)
    older = Failure("ST201", "GET /status", DATE_ENUM, 200, "2025-01-01")
    assert allowed(union, NEWEST) and allowed(missing, NEWEST) and allowed(older, NEWEST)
    future = Failure("ST201", "GET /status", DATE_ENUM, 200, "2099-01-01")
    garbage = Failure("ST201", "GET /status", "X-Compatibility-Date: Incorrect type", 200, "{}")
    language = Failure("ST201", "GET /status", "violates `enum` at /properties/Accept-Language", 200, NEWEST)
    other_schema = Failure("ST108", "GET /status", "'players' is a required property", 200, NEWEST)
    server_error = Failure("ST101", "GET /status", "Server error", 500, NEWEST)
    undocumented = Failure("ST103", "GET /status", "Received: 418", 418, NEWEST)
    for failure in (future, garbage, language, other_schema, server_error, undocumented):
        assert allowed(failure, NEWEST) is None, failure


def test_a_304_is_allowed_only_as_the_answer_to_a_conditional_get() -> None:
    def answered(code: str, status: int, conditional: bool) -> Failure:
        return Failure(code, "GET /status", "not JSON", status, NEWEST, None, conditional)

    assert allowed(answered("ST109", 304, True), NEWEST)
    assert allowed(answered("ST104", 304, True), NEWEST)
    assert allowed(answered("ST109", 304, False), NEWEST) is None  # a 304 nobody asked for
    assert allowed(answered("ST109", 200, True), NEWEST) is None  # a 200 that is not JSON
    assert allowed(answered("ST108", 304, True), NEWEST) is None  # another check altogether


def test_only_a_delete_of_listed_members_may_leave_its_list_behind() -> None:
    gone = "The API did not return a `HTTP 404 Not Found` response (got `HTTP 200 OK`)"

    def deleted(operation: str, code: str = "ST301") -> Failure:
        return Failure(code, operation, gone, 200, NEWEST)

    assert allowed(deleted("DELETE /characters/{character_id}/contacts"), NEWEST)
    # one member named by its path must be gone afterwards
    assert allowed(deleted("DELETE /characters/{character_id}/mail/{mail_id}"), NEWEST) is None
    assert allowed(deleted("DELETE /fleets/{fleet_id}/wings/{wing_id}"), NEWEST) is None
    assert allowed(deleted("GET /characters/{character_id}/contacts"), NEWEST) is None
    assert allowed(deleted("DELETE /characters/{character_id}/contacts", "ST108"), NEWEST) is None


def test_a_connection_error_with_the_fake_fails_the_run(tmp_path: Path) -> None:
    events = tmp_path / "events.ndjson"
    lines = [
        {"NonFatalError": {"label": "GET /status", "info": "ConnectionError: RemoteDisconnected('closed')"}},
        {"NonFatalError": {"label": "POST /ui/openwindow/newmail", "info": "FlakyFailure: Inconsistent"}},
    ]
    events.write_text("\n".join(json.dumps(line) for line in lines))
    [(first, _, fault), (second, _, generation_fault)] = errors(events)
    assert (first, fault) == ("GET /status", True)
    assert (second, generation_fault) == ("POST /ui/openwindow/newmail", False)
