"""What a registered component's descriptor must satisfy: names, kinds, callables.

Component names are versioned registry names (`prelabel.regex.v1`,
`sft.messages.v1`, `acme.trimmed_mean.v1`): lowercase words joined by dots,
ending in `.v<N>`. A name, once published, keeps its meaning; a change of
behaviour gets a new name (`.v2`) so that project files written for the old one
still mean what they meant. The consensus methods that existed before the
registry keep their bare names (`majority`, `median`, ...): they are version 1
and never change.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any, Final

VERSIONED_NAME: Final = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*\.v\d+$")
"""A versioned registry name, e.g. `sft.messages.v1` (also used for `export.formats`)."""


def name_problems(name: Any, unversioned: Collection[str] = ()) -> list[str]:
    """Why `name` is not a registry name (empty when it is).

    >>> name_problems("acme.trimmed_mean.v1"), name_problems("trimmed")
    ([], ["name 'trimmed' is not a versioned name like 'acme.trimmed_mean.v1'"])
    """
    if not isinstance(name, str):
        return [f"name must be a string, not {type(name).__name__}"]
    if name in unversioned or VERSIONED_NAME.match(name):
        return []
    return [f"name {name!r} is not a versioned name like 'acme.trimmed_mean.v1'"]


def choice_problems(what: str, given: Any, valid: Iterable[str], empty: bool = False) -> list[str]:
    """Why `given` is not a set of values from `valid` (non-empty unless `empty`).

    >>> choice_problems("kinds", "rating", ["rating", "text"])
    ["kinds must be a set of strings like {'rating'}, not a single string"]
    """
    allowed = list(valid)
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        example = f"{{{allowed[0]!r}}}" if allowed else "{...}"
        shape = "a single string" if isinstance(given, str) else type(given).__name__
        return [f"{what} must be a set of strings like {example}, not {shape}"]
    values = list(given)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        return [f"{what}: {unknown[0]!r} is not known; valid: {', '.join(allowed)}"]
    if not values and not empty:
        return [f"{what} is empty; give at least one of: {', '.join(allowed)}"]
    return []


def callable_problems(what: str, given: Any, optional: bool = False) -> list[str]:
    """Why `given` is not a function (None passes when `optional`)."""
    if given is None and optional:
        return []
    return [] if callable(given) else [f"{what} must be callable, not {type(given).__name__}"]


def text_problems(what: str, given: Any, optional: bool = False) -> list[str]:
    """Why `given` is not a non-empty string (None passes when `optional`)."""
    if given is None and optional:
        return []
    if isinstance(given, str) and given.strip():
        return []
    return [f"{what} must be a non-empty string, not {given!r}"[:120]]
