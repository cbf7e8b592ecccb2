"""Checks schemathesis runs on every response of the served API (loaded by the
`st` command through SCHEMATHESIS_HOOKS; see test_schemathesis.py)."""

from __future__ import annotations

from typing import Any

import schemathesis

ERROR_KEYS = {"code", "message", "details", "request_id"}


@schemathesis.check
def annotary_error_body(ctx: Any, response: Any, case: Any) -> None:
    """Every error is our JSON error body, with the request id of its header."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(
            f"{response.status_code} error is not JSON: {response.text[:200]!r}"
        ) from None
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        raise AssertionError(f"not an annotary error body: {response.text[:200]!r}")
    error = body["error"]
    if set(error) != ERROR_KEYS:
        raise AssertionError(f"error keys {sorted(error)}, expected {sorted(ERROR_KEYS)}")
    if not isinstance(error["code"], str) or not error["code"].startswith("E"):
        raise AssertionError(f"error code {error['code']!r} is not an annotary code")
    if response.headers.get("x-request-id") != [error["request_id"]]:
        raise AssertionError("the X-Request-ID header differs from the body's request_id")
