"""The arrays the QA report is computed from: annotations, items, annotators,
gold answers and final-label counts of one project, as loaded by
`services.qa.data`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from annotary.core.project import ProjectRef
from annotary.core.quality.report.values import FieldValues
from annotary.core.schema.fields import AnnotationSchema

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class AnnotationTable:
    """One entry per annotation; `item` and `annotator` are codes into `QaData`."""

    item: IntArray
    annotator: IntArray
    schema_version: IntArray
    guideline_version: IntArray
    seconds: FloatArray
    """Time spent in seconds; NaN when not recorded."""
    created: FloatArray
    """Creation time, seconds since 1970-01-01 UTC."""

    @property
    def size(self) -> int:
        return int(self.item.size)


@dataclass
class ItemTable:
    """The annotated items, by item code (ascending id)."""

    ids: IntArray
    external_ids: list[str | None]
    is_gold: BoolArray
    text_chars: FloatArray
    """Characters to read: the `text` of the item, else its whole content as JSON."""
    metadata_code: IntArray
    """Per item, its metadata as an index into `metadata` (items often share it)."""
    metadata: list[dict[str, Any]]
    """The distinct metadata objects."""


@dataclass
class FinalLabelStats:
    """Final labels decided by one method."""

    method: str
    count: int
    mean_confidence: float | None
    with_confidence: int
    mean_agreement: float | None


@dataclass
class QaData:
    """Everything the QA report reads from the database, as arrays."""

    project: ProjectRef
    total_items: int
    annotations: AnnotationTable
    items: ItemTable
    annotator_ids: IntArray
    annotator_names: list[str]
    annotator_attributes: list[dict[str, Any]]
    fields: list[FieldValues]
    gold_answers: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Gold answer per item code."""
    gold_annotations: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)
    """(item code, annotator code, payload) of every annotation of a gold item."""
    final_labels: list[FinalLabelStats] = field(default_factory=list)
    schemas: dict[int, AnnotationSchema] = field(default_factory=dict)
    """Every stored schema version of the project (version -> schema)."""
