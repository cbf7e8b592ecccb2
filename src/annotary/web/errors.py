"""Errors rendered in one place: our error classes -> HTTP statuses, one body shape.

Every error response is `{"error": {"code", "message", "details": [{"path",
"reason"}], "request_id"}}`, whether it comes from a service (an
`AnnotaryError`), from request validation, from routing (unknown path E712,
wrong method E713), from the request guard (body too large E711, see
`web/middleware.py`) or from a failure nobody planned for (E714, E715: the
server log has the traceback under the same request id). The request id is
also the `X-Request-ID` header of every response.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.types import Scope

from annotary.core.yamlfile import dotted_path
from annotary.errors import (
    E_BODY_TOO_LARGE,
    E_DATABASE_ERROR,
    E_INTERNAL,
    E_METHOD_NOT_ALLOWED,
    E_REQUEST_INVALID,
    E_ROUTE_UNKNOWN,
    AnnotaryError,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
    shorten,
)

LOG = logging.getLogger("annotary.web")
REQUEST_ID_HEADER = "X-Request-ID"
MAX_REASON = 300
"""Longest `reason` of an error detail; what a reason quotes of the input is shorter still."""

STATUS_BY_ERROR: dict[type[AnnotaryError], int] = {
    Invalid: 422,
    NotFound: 404,
    Forbidden: 403,
    Unauthenticated: 401,
    Conflict: 409,
    TooManyRequests: 429,
    Unavailable: 503,
}
"""The one table from error class to HTTP status; anything else is a 400."""
CODE_BY_ROUTING_STATUS = {404: E_ROUTE_UNKNOWN, 405: E_METHOD_NOT_ALLOWED, 413: E_BODY_TOO_LARGE}
"""Codes of the errors Starlette's routing (and the request guard) raise as HTTPException."""


def status_for(error: AnnotaryError) -> int:
    """The HTTP status of an error, by its class (the nearest listed ancestor)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def request_id_of(scope: Scope) -> str:
    """The id the request guard gave this request (a new one if it has none)."""
    state = scope.setdefault("state", {})
    request_id = state.get("request_id")
    if not isinstance(request_id, str):
        request_id = state["request_id"] = uuid.uuid4().hex
    return request_id


def error_response(
    error: AnnotaryError,
    request_id: str,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The JSON response for one error (the request guard adds the X-Request-ID header)."""
    all_headers = dict(headers or {})
    if isinstance(error, Unauthenticated):
        all_headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, TooManyRequests):
        all_headers["Retry-After"] = str(error.retry_after)
    body = error.to_dict()
    body["details"] = [_bounded(detail) for detail in body["details"]]
    body["request_id"] = request_id
    return JSONResponse(
        {"error": body}, status_code=status or status_for(error), headers=all_headers
    )


def unexpected_error_response(exc: BaseException, scope: Scope) -> JSONResponse:
    """Log an exception nobody planned for, with its traceback, and answer 500 (503
    when the database is unreachable or busy) with the request id, never the details."""
    request_id = request_id_of(scope)
    LOG.error(
        "request %s failed: %s %s",
        request_id,
        scope.get("method", ""),
        scope.get("path", ""),
        exc_info=exc,
    )
    where = f"request id {request_id}; the server log has the details"
    error: AnnotaryError
    if _database_unavailable(exc):
        error = Unavailable(E_DATABASE_ERROR, f"the database could not answer; try again ({where})")
        return error_response(error, request_id, headers={"Retry-After": "1"})
    if isinstance(exc, SQLAlchemyError):
        error = AnnotaryError(E_DATABASE_ERROR, f"the database refused the request ({where})")
        return error_response(error, request_id, 500)
    return error_response(AnnotaryError(E_INTERNAL, f"internal error ({where})"), request_id, 500)


def _database_unavailable(exc: BaseException) -> bool:
    """Whether the database failed for want of a connection or a lock (worth a retry),
    rather than because of the request."""
    if isinstance(exc, PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or "database is locked" in str(exc.orig)
    )


def _bounded(detail: dict[str, Any]) -> dict[str, Any]:
    """A detail whose path and reason cannot echo a long input back in full."""
    return {
        **detail,
        "path": shorten(detail["path"], 200),
        "reason": shorten(detail["reason"], MAX_REASON),
    }


async def _annotary_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AnnotaryError)  # registered for this class only
    return error_response(exc, request_id_of(request.scope))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # registered for this class only
    details = [_field_error(err) for err in exc.errors()]
    error = Invalid(E_REQUEST_INVALID, f"the request has {len(details)} invalid field(s)", details)
    return error_response(error, request_id_of(request.scope))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)  # registered for this class only
    message = str(exc.detail)
    if exc.status_code in (404, 405):
        message = (
            f"{message}: {request.method} {shorten(request.url.path, 200)}; "
            "the endpoints are listed at /api/v1/docs"
        )
    code = CODE_BY_ROUTING_STATUS.get(exc.status_code, E_REQUEST_INVALID)
    return error_response(
        AnnotaryError(code, message), request_id_of(request.scope), exc.status_code, exc.headers
    )


def _field_error(err: Any) -> FieldError:
    """A pydantic/FastAPI error as our FieldError: `username`, `query.on_error`, ...

    Keys of the input are part of the path; each is cut short, like a value.
    """
    location = [shorten(part) if isinstance(part, str) else part for part in err.get("loc", ())]
    if location and location[0] == "body":
        location = location[1:]
    path = dotted_path(tuple(location)) or "body"
    return FieldError(path, str(err.get("msg", "invalid")).removeprefix("Value error, "))


def add_exception_handlers(app: FastAPI) -> None:
    """Render our errors, request validation errors and routing errors alike."""
    app.add_exception_handler(AnnotaryError, _annotary_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
