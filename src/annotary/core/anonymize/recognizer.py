"""What a PII recognizer is: the descriptor a `register_pii_recognizers` hook returns.

A recognizer finds typed character spans in a text, each with a score from 0
to 1 (the shape of Presidio's `RecognizerResult`: entity type, start, end,
score). The entity types are the names `privacy.anonymize` uses
(`EMAIL_ADDRESS`, `PERSON`, ...). Anonymization checks every finding with
`finding_problems` before it replaces anything, so a recognizer's mistake is
reported, not applied.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

from annotary.core.plugins.checks import callable_problems, name_problems

ENTITY_TYPE: Final = re.compile(r"^[A-Z][A-Z0-9_]*$")
"""An entity type, as `privacy.anonymize[].entity` writes it."""


@dataclass(frozen=True)
class PiiFinding:
    """One span of PII: characters `start` to `end` (end excluded) of the text."""

    start: int
    end: int
    entity: str
    score: float


@runtime_checkable
class Recognizer(Protocol):
    """A built recognizer."""

    def find(self, text: str, language: str | None = None) -> Sequence[PiiFinding]:
        """Every PII span the recognizer finds in `text` (language: an ISO 639-1 code)."""
        ...


@dataclass(frozen=True)
class RecognizerSpec:
    """A PII recognizer component: its versioned name (`pii.email.v1`), the entity
    types it finds, the languages it reads (empty: any) and its factory, which
    takes the recognizer's options from the project file."""

    name: str
    entities: frozenset[str]
    create: Callable[[Mapping[str, Any]], Recognizer]
    languages: frozenset[str] = frozenset()
    description: str = ""

    def problems(self) -> list[str]:
        """Why this descriptor cannot be registered (empty when it can)."""
        problems = [*name_problems(self.name), *callable_problems("create", self.create)]
        if isinstance(self.entities, str) or not isinstance(self.entities, Collection):
            problems.append("entities must be a set of entity types like {'EMAIL_ADDRESS'}")
        elif not self.entities or not all(
            isinstance(e, str) and ENTITY_TYPE.match(e) for e in self.entities
        ):
            problems.append("entities must be upper-case entity types like 'EMAIL_ADDRESS'")
        if isinstance(self.languages, str) or not isinstance(self.languages, Collection):
            problems.append("languages must be a set of language codes like {'en'}")
        if not isinstance(self.description, str):
            problems.append("description must be a string")
        return problems


def finding_problems(text: str, finding: Any, entities: Collection[str]) -> list[str]:
    """Why `finding` is not a span of `text` of one of `entities` with a score from 0 to 1.

    >>> finding_problems("mail a@b.c", PiiFinding(5, 10, "EMAIL_ADDRESS", 0.9), {"EMAIL_ADDRESS"})
    []
    >>> finding_problems("mail a@b.c", PiiFinding(5, 11, "PHONE", 2.0), {"EMAIL_ADDRESS"})
    ['span 5-11 is outside the text (10 characters)', "entity 'PHONE' is not one it \
registers; valid: EMAIL_ADDRESS", 'score 2.0 is not from 0 to 1']
    """
    if not isinstance(finding, PiiFinding):
        return [f"expected a PiiFinding, got {type(finding).__name__}"]
    problems = []
    start, end = finding.start, finding.end
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        problems.append(f"span {start!r}-{end!r} is outside the text ({len(text)} characters)")
    if finding.entity not in entities:
        valid = ", ".join(sorted(entities))
        problems.append(f"entity {finding.entity!r} is not one it registers; valid: {valid}")
    score = finding.score
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        problems.append(f"score {score!r} is not from 0 to 1")
    return problems
