"""What a pre-labeler is: the descriptor a `register_prelabelers` hook returns.

A pre-labeler suggests an annotation for an item, with the id of the model that
made it and a confidence (SPEC 7). The caller builds one per project with
`create(setup)` and calls `predict` with batches of item contents; each
suggestion is a `core.ingest.prelabels.PrelabelRow`, the same record an import
attaches, so it is checked against the schema and stored the same way
(invalid suggestions are reported and dropped, never shown). A pre-labeler
never downloads a model: models ship in packages or are given by path or
endpoint in its options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from annotary.core.items import ITEM_KINDS
from annotary.core.plugins.checks import callable_problems, choice_problems, name_problems
from annotary.core.schema.fields import FIELD_KINDS, AnnotationSchema

if TYPE_CHECKING:
    from annotary.core.ingest.prelabels import PrelabelRow  # (the ingest package is heavy)


@dataclass(frozen=True)
class PrelabelSetup:
    """What a pre-labeler is built for: the project's schema and guidelines, its
    options from the project file, and the folder relative paths in them start from."""

    schema: AnnotationSchema
    guidelines: str
    options: Mapping[str, Any] = field(default_factory=dict)
    base_dir: Path | None = None


@runtime_checkable
class Prelabeler(Protocol):
    """A built pre-labeler."""

    model: str
    """The model id recorded with each suggestion, e.g. `prelabel.regex.v1:3f2a9c`
    (the component's name and a digest of its rules, weights or endpoint model)."""

    def predict(self, contents: Sequence[Mapping[str, Any]]) -> Sequence[PrelabelRow | None]:
        """One suggestion per item content (None: no suggestion), in order.

        A suggestion's `annotation` holds values for some of the schema's
        fields; `confidence` is from 0 to 1, or None when the model gives none.
        """
        ...


@runtime_checkable
class TrainablePrelabeler(Prelabeler, Protocol):
    """A pre-labeler that learns from the project's finalized labels."""

    def fit(
        self, contents: Sequence[Mapping[str, Any]], labels: Sequence[Mapping[str, Any]]
    ) -> None:
        """Learn from finalized items: their contents and final labels, pairwise."""
        ...


@dataclass(frozen=True)
class PrelabelerSpec:
    """A pre-labeler component: its versioned name (`prelabel.regex.v1`), the
    field kinds it can fill, the item kinds it reads, and its factory.

    `trainable` says that what `create` returns is a `TrainablePrelabeler`.
    """

    name: str
    kinds: frozenset[str]
    create: Callable[[PrelabelSetup], Prelabeler]
    item_kinds: frozenset[str] = frozenset(ITEM_KINDS)
    trainable: bool = False
    description: str = ""

    def problems(self) -> list[str]:
        """Why this descriptor cannot be registered (empty when it can)."""
        return [
            *name_problems(self.name),
            *choice_problems("kinds", self.kinds, FIELD_KINDS),
            *callable_problems("create", self.create),
            *choice_problems("item_kinds", self.item_kinds, ITEM_KINDS),
            *([] if isinstance(self.trainable, bool) else ["trainable must be True or False"]),
            *([] if isinstance(self.description, str) else ["description must be a string"]),
        ]
