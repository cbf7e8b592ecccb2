"""Errors rendered in one place: our error classes -> HTTP statuses, one body shape.

Every error response is `{"error": {"code", "message", "details": [{"path",
"reason"}]}}`, whether it comes from a service (an `AnnotaryError`), from
request validation or from routing (unknown path, wrong method).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from annotary.core.yamlfile import dotted_path
from annotary.errors import (
    E_REQUEST_INVALID,
    AnnotaryError,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
    Unavailable,
)

STATUS_BY_ERROR: dict[type[AnnotaryError], int] = {
    Invalid: 422,
    NotFound: 404,
    Forbidden: 403,
    Unauthenticated: 401,
    Conflict: 409,
    Unavailable: 503,
}
"""The one table from error class to HTTP status; anything else is a 400."""


def status_for(error: AnnotaryError) -> int:
    """The HTTP status of an error, by its class (the nearest listed ancestor)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def error_response(error: AnnotaryError, status: int | None = None) -> JSONResponse:
    """The JSON response for one error."""
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthenticated) else None
    return JSONResponse(
        {"error": error.to_dict()}, status_code=status or status_for(error), headers=headers
    )


async def _annotary_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AnnotaryError)  # registered for this class only
    return error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # registered for this class only
    details = [_field_error(err) for err in exc.errors()]
    error = Invalid(E_REQUEST_INVALID, f"the request has {len(details)} invalid field(s)", details)
    return error_response(error)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)  # registered for this class only
    message = str(exc.detail)
    if exc.status_code in (404, 405):
        message = (
            f"{message}: {request.method} {request.url.path}; "
            "the endpoints are listed at /api/v1/docs"
        )
    error = AnnotaryError(E_REQUEST_INVALID, message)
    response = error_response(error, exc.status_code)
    response.headers.update(exc.headers or {})
    return response


def _field_error(err: Any) -> FieldError:
    """A pydantic/FastAPI error as our FieldError: `username`, `query.on_error`, ..."""
    location = list(err.get("loc", ()))
    if location and location[0] == "body":
        location = location[1:]
    path = dotted_path(tuple(location)) or "body"
    return FieldError(path, str(err.get("msg", "invalid")).removeprefix("Value error, "))


def add_exception_handlers(app: FastAPI) -> None:
    """Render our errors, request validation errors and routing errors alike."""
    app.add_exception_handler(AnnotaryError, _annotary_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
