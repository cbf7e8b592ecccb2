"""Load QA vectors from tests/data/qa_vectors and encode their long-format annotations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

VECTORS = Path(__file__).resolve().parents[2] / "data" / "qa_vectors"


def load_vector(name: str) -> dict[str, Any]:
    """The parsed JSON of one QA vector."""
    data: dict[str, Any] = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    return data


@dataclass
class Encoded:
    """Annotations as codes; names sorted so code order is sorted label order."""

    items: list[Any]
    workers: list[Any]
    labels: list[Any]
    item_codes: np.ndarray
    worker_codes: np.ndarray
    label_codes: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.items), len(self.workers), len(self.labels)


def encode(annotations: list[list[Any]], labels: list[Any] | None = None) -> Encoded:
    """Code items, workers and labels by their sorted order."""
    items = sorted({row[0] for row in annotations})
    workers = sorted({row[1] for row in annotations})
    label_list = sorted({row[2] for row in annotations}) if labels is None else list(labels)
    index = [{v: i for i, v in enumerate(values)} for values in (items, workers, label_list)]
    codes = [np.array([ix[row[k]] for row in annotations]) for k, ix in enumerate(index)]
    return Encoded(items, workers, label_list, *codes)
