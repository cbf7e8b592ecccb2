"""Coercions of single record values: JSON text, ids, priorities, JSON-ness.

Each takes the raw value and the row's `reasons` list, appends a reason when
the value is unusable, and returns the coerced value (or a neutral default).
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from annotary.errors import quote


def decoded(value: Any, key: str, reasons: list[str]) -> Any:
    """`value` itself, or the JSON it holds when it is text (a CSV cell)."""
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        reasons.append(f"{key} is not valid JSON: {exc}")
        return None


def decoded_list(value: Any) -> Any:
    """A list given as JSON text becomes the list; anything else is left for validation."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def external_id_value(value: Any, key: str, reasons: list[str]) -> str | None:
    """The external id as text: a non-empty string, or an integer (also as a float)."""
    if isinstance(value, str):
        if value.strip():
            return value
    elif isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    elif isinstance(value, float) and value.is_integer():
        return str(int(value))
    reasons.append(f"{key} must be a non-empty string or an integer, got {quote(value)}")
    return None


def priority_value(value: Any, reasons: list[str]) -> float:
    """A finite number, or numeric text (a CSV cell); 0 after a reason otherwise."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        reasons.append(f"priority must be a number, got {quote(value)}")
        return 0.0
    return number


def json_problem(value: Any) -> str | None:
    """Why `value` cannot be stored as JSON, or None when it can."""
    if value is None or isinstance(value, str | bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "must be a finite number"
    if isinstance(value, list):
        for item in value:
            problem = json_problem(item)
            if problem is not None:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return "must have string keys"
            problem = json_problem(item)
            if problem is not None:
                return problem
        return None
    return (
        "must be a JSON value (string, number, boolean, null, array or object), "
        f"got {type(value).__name__}"
    )
