"""What an export format is: the descriptor a `register_exporters` hook returns.

The caller selects the finalized items (filters, splits: SPEC 9) and hands
them to the format's `write` as `ExportRecord`s, in split order (train,
validation, test), each with its final label and the per-field consensus
record. `write` puts its files into an empty directory, laid out as the format
needs (one JSONL per split, a Parquet file, a `datasets` folder), and returns
the paths it wrote; the caller lists them in the dataset card. `check` says
beforehand why a project cannot be exported in the format (e.g. preference
pairs without a preference or ranking field).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from annotary.core.items import ITEM_KINDS
from annotary.core.plugins.checks import callable_problems, choice_problems, name_problems
from annotary.core.schema.fields import AnnotationSchema

Split = Literal["train", "validation", "test"]


@dataclass(frozen=True)
class ExportSetup:
    """What an export is for: the project, its schema and guideline versions, and
    the format's options from the project file or the command line."""

    project: str
    item_kind: str
    schema: AnnotationSchema
    schema_version: int
    guideline_version: int
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportRecord:
    """One finalized item as an export format sees it."""

    item_id: int
    external_id: str | None
    kind: str
    content: Mapping[str, Any]
    metadata: Mapping[str, Any]
    label: Mapping[str, Any]
    """The final label's payload: one value per field."""
    method: str
    """How the label was reached: a consensus method, or `adjudication`, `expert`, `review`."""
    agreement: float | None
    confidence: float | None
    fields: Mapping[str, Mapping[str, Any]]
    """Per field: `method`, `measure`, `agreement`, `confidence`, `threshold`."""
    split: Split


class Writer(Protocol):
    """Write records in a format into `directory`; the paths written."""

    def __call__(
        self, setup: ExportSetup, records: Iterable[ExportRecord], directory: Path
    ) -> Sequence[Path]: ...


@dataclass(frozen=True)
class ExporterSpec:
    """An export format: its versioned name (`sft.messages.v1`), the item kinds it
    takes, its writer and, optionally, a check of whether a project fits it."""

    name: str
    write: Writer
    item_kinds: frozenset[str] = frozenset(ITEM_KINDS)
    check: Callable[[ExportSetup], list[str]] | None = None
    description: str = ""

    def problems(self) -> list[str]:
        """Why this descriptor cannot be registered (empty when it can)."""
        return [
            *name_problems(self.name),
            *callable_problems("write", self.write),
            *choice_problems("item_kinds", self.item_kinds, ITEM_KINDS),
            *callable_problems("check", self.check, optional=True),
            *([] if isinstance(self.description, str) else ["description must be a string"]),
        ]
