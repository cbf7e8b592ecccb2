"""The gold section of the QA report: accuracy per annotator and field, and the
gold items most often answered wrongly."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np

from annotary.core.consensus import comparable_fields, gold_matches
from annotary.core.quality.gold import gold_accuracy, gold_difficulty
from annotary.core.quality.report.agreement_rows import finite
from annotary.core.quality.report.tables import QaData

GOLD_ITEMS_SHOWN: Final = 20
"""Gold items listed, hardest first."""


@dataclass
class GoldAccuracyRow:
    """One annotator's accuracy on one field of the gold items, with a Wilson 95% interval."""

    annotator: str
    field: str
    answered: int
    correct: int
    accuracy: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass
class GoldItemRow:
    """How often a gold item was answered wrongly (any compared field differs)."""

    item_id: int
    external_id: str | None
    answered: int
    wrong: int
    difficulty: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass
class GoldReport:
    """Accuracy per annotator and field, and the hardest gold items."""

    gold_items: int
    answers: int
    accuracy: list[GoldAccuracyRow] = field(default_factory=list)
    hardest_items: list[GoldItemRow] = field(default_factory=list)
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gold_report(data: QaData) -> GoldReport:
    """Compare every answer to a gold item with its gold answer, field by field.

    Values are compared by their canonical form (`core.consensus.value_key`):
    label sets as sets, spans regardless of order, free text never.
    """
    specs = comparable_fields(data.project.schema)
    field_code = {spec.name: i for i, spec in enumerate(specs)}
    gold_items = sorted(data.gold_answers)
    gold_position = {item: i for i, item in enumerate(gold_items)}
    annotators: list[int] = []
    fields: list[int] = []
    correct: list[bool] = []
    answer_item: list[int] = []
    answer_right: list[bool] = []
    for item, annotator, payload in data.gold_annotations:
        matches = gold_matches(data.project.schema, data.gold_answers[item], payload)
        if not matches:
            continue
        for name, matched in matches.items():
            annotators.append(annotator)
            fields.append(field_code[name])
            correct.append(matched)
        answer_item.append(gold_position[item])
        answer_right.append(all(matches.values()))
    report = GoldReport(len(gold_items), len(answer_item))
    if not answer_item:
        report.note = "no annotation of a gold item yet" if gold_items else "no gold items"
        return report
    accuracy = gold_accuracy(
        np.array(annotators, dtype=np.int64),
        np.array(fields, dtype=np.int64),
        np.array(correct, dtype=np.bool_),
        len(data.annotator_names),
        len(specs),
    )
    for a, f in zip(*np.nonzero(accuracy.answered), strict=True):
        report.accuracy.append(
            GoldAccuracyRow(
                data.annotator_names[a],
                specs[f].name,
                int(accuracy.answered[a, f]),
                int(accuracy.correct[a, f]),
                finite(accuracy.accuracy[a, f]),
                finite(accuracy.ci_low[a, f]),
                finite(accuracy.ci_high[a, f]),
            )
        )
    difficulty = gold_difficulty(
        np.array(answer_item, dtype=np.int64),
        np.array(answer_right, dtype=np.bool_),
        len(gold_items),
    )
    answered = np.flatnonzero(difficulty.answered)
    ranked = answered[
        np.lexsort((-difficulty.answered[answered], -difficulty.difficulty[answered]))
    ]
    for position in ranked[:GOLD_ITEMS_SHOWN]:
        item = gold_items[position]
        report.hardest_items.append(
            GoldItemRow(
                int(data.items.ids[item]),
                data.items.external_ids[item],
                int(difficulty.answered[position]),
                int(difficulty.wrong[position]),
                finite(difficulty.difficulty[position]),
                finite(difficulty.ci_low[position]),
                finite(difficulty.ci_high[position]),
            )
        )
    return report
