"""Typed errors with stable codes.

Every error the system raises on purpose is an `AnnotaryError`: a stable `code`
(never reused, never renumbered), a human `message` that says what is valid, and
`details` (a list of `FieldError` for invalid input). The CLI prints them without
a traceback; the API maps them to HTTP statuses by class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of an input: where (`path`) and why (`reason`).

    `location` is where the input came from when known, e.g. `project.yaml:14` or
    `data.jsonl:7`.
    """

    path: str
    reason: str
    location: str | None = None

    def __str__(self) -> str:
        where = f"{self.location} " if self.location else ""
        path = f"{self.path}: " if self.path else ""
        return f"{where}{path}{self.reason}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "reason": self.reason}
        if self.location is not None:
            out["location"] = self.location
        return out


@dataclass(eq=False)
class AnnotaryError(Exception):
    """Base of every deliberate error: stable `code`, readable `message`, `details`."""

    code: str
    message: str
    details: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        lines = [f"{self.code}: {self.message}"]
        lines.extend(f"  {d}" for d in self.details)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "details": [d.to_dict() for d in self.details],
        }


class NotFound(AnnotaryError):
    """A named thing does not exist (or the caller may not know it exists)."""


class Forbidden(AnnotaryError):
    """The caller is known but not allowed to do this."""


class Invalid(AnnotaryError):
    """Input failed validation; `details` lists every field error."""


class Conflict(AnnotaryError):
    """The request clashes with the current state (duplicate name, stale version)."""


class Unauthenticated(AnnotaryError):
    """No valid credentials were presented (HTTP 401)."""


class Unavailable(AnnotaryError):
    """A resource the operation needs (database, file) cannot be reached."""


@dataclass(eq=False)
class TooManyRequests(AnnotaryError):
    """The caller must wait `retry_after` seconds before trying again (HTTP 429)."""

    retry_after: int = 60


QUOTE_LIMIT = 40
"""How many characters of a value an error message quotes at most."""


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """`repr(value)` for an error message, cut to `limit` characters with an ellipsis,
    so that an error never echoes a long input back.

    >>> quote("x" * 100, 5)
    "'xxxxx'…"
    >>> quote(42)
    '42'
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}…"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…"


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` itself cut to `limit` characters with an ellipsis (for paths and keys)."""
    return text if len(text) <= limit else f"{text[:limit]}…"


# Stable codes. Add new ones at the end of their block; never renumber.
E_PROJECT_FILE_INVALID = "E101"
E_PROJECT_FILE_UNREADABLE = "E102"
E_TEMPLATE_UNKNOWN = "E103"
E_TARGET_EXISTS = "E104"
E_SETTINGS_INVALID = "E105"
E_ANNOTATION_INVALID = "E201"
E_SCHEMA_INVALID = "E202"
E_IMPORT_ROWS_INVALID = "E301"
E_IMPORT_FORMAT = "E302"
E_IMPORT_MAPPING = "E303"
E_IMPORT_FILE_UNREADABLE = "E304"
E_IMPORT_FILE_CHANGED = "E305"
E_IMPORT_INTERRUPTED = "E306"
E_PROJECT_NOT_FOUND = "E401"
E_PROJECT_EXISTS = "E402"
E_USER_EXISTS = "E403"
E_USER_INVALID = "E404"
E_USER_NOT_FOUND = "E405"
E_PROJECT_NAME_MISMATCH = "E420"
E_ITEM_KIND_LOCKED = "E421"
E_UPDATE_INVALIDATES = "E422"
E_REVISION_NOT_FOUND = "E423"
E_PROJECT_CHANGED = "E424"
E_REWORK_FIELD_UNKNOWN = "E425"
E_LAST_ADMIN = "E406"
E_PASSWORD_WRONG = "E407"
E_ATTRIBUTES_INVALID = "E408"
E_DATABASE_UNREACHABLE = "E501"
E_DATABASE_NOT_MIGRATED = "E502"
E_DATABASE_URL_INVALID = "E503"
E_PORT_IN_USE = "E504"
E_WORKER_FAILED = "E505"
E_UNAUTHENTICATED = "E701"
E_FORBIDDEN = "E702"
E_NOT_MEMBER = "E703"
E_CSRF = "E704"
E_LOGIN_FAILED = "E705"
E_TOKEN_INVALID = "E706"
E_REQUEST_INVALID = "E709"
E_SERVER_UNREACHABLE = "E710"
E_BODY_TOO_LARGE = "E711"
E_ROUTE_UNKNOWN = "E712"
E_METHOD_NOT_ALLOWED = "E713"
E_INTERNAL = "E714"
E_DATABASE_ERROR = "E715"
E_LOGIN_THROTTLED = "E716"
E_LEASE_NOT_FOUND = "E801"
E_PAUSED = "E804"
E_TERMS_REQUIRED = "E805"
E_QUALIFICATION_FAILED = "E806"
E_ITEM_NOT_FOUND = "E807"
E_ITEM_STATE = "E808"
E_ITEM_ROUTED_ELSEWHERE = "E809"
E_CALIBRATION_NOT_FOUND = "E820"
E_CALIBRATION_INVALID = "E821"
E_CALIBRATION_NOT_PARTICIPANT = "E822"
E_CALIBRATION_ORDER = "E823"
E_CALIBRATION_EXISTS = "E824"
E_AGREEMENT_UNDEFINED = "E601"
E_AGREEMENT_INPUT = "E602"
E_PLUGIN_LOAD = "E901"
E_PLUGIN_HOOK_FAILED = "E902"
E_PLUGIN_DESCRIPTOR = "E903"
E_PLUGIN_NAME_TAKEN = "E904"
E_COMPONENT_UNKNOWN = "E905"
E_PLUGIN_RESULT = "E906"
