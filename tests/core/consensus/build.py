"""Build a schema and run the consensus of a few annotations, for the core tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from annotary.core.consensus import FieldSetting, field_rules
from annotary.core.consensus.item import item_consensus
from annotary.core.consensus.outcome import ItemConsensus, Voters
from annotary.core.schema.fields import AnnotationSchema


def schema_of(*fields: dict[str, Any]) -> AnnotationSchema:
    return AnnotationSchema.model_validate({"fields": list(fields)})


def consensus(
    schema: AnnotationSchema,
    payloads: Sequence[dict[str, Any]],
    *,
    aggregation: str = "majority",
    threshold: float = 0.66,
    settings: Mapping[str, FieldSetting] | None = None,
    weights: Sequence[float] | None = None,
    fits: Mapping[str, Mapping[str, Any]] | None = None,
) -> ItemConsensus:
    rules = field_rules(schema, aggregation, threshold, settings or {})
    users = tuple(range(1, len(payloads) + 1))
    voters = Voters(users, tuple(weights) if weights is not None else None, fits or {})
    return item_consensus(schema, rules, payloads, voters)
