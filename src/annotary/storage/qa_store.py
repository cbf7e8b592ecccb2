"""Reads and writes of the QA use cases that are not bulk report loads:
re-aggregation's annotations, final labels and fitted annotator models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotary.storage.models import Annotation, AnnotatorModel, FinalLabel, Item, utcnow


def regular_annotations(session: Session, project_id: int) -> list[tuple[int, int, dict[str, Any]]]:
    """`(item id, user id, payload)` of every annotation of the project's non-gold items."""
    rows = session.execute(
        select(Annotation.item_id, Annotation.user_id, Annotation.payload)
        .join(Item, Item.id == Annotation.item_id)
        .where(Item.project_id == project_id, Item.is_gold.is_(False))
    )
    return [(item, user, payload) for item, user, payload in rows]


def machine_final_labels(
    session: Session, project_id: int, methods: Sequence[str]
) -> dict[int, FinalLabel]:
    """The project's final labels decided by one of `methods`, by item id (ORM rows:
    changes are written with the session)."""
    return {
        final.item_id: final
        for final in session.scalars(
            select(FinalLabel)
            .join(Item, Item.id == FinalLabel.item_id)
            .where(Item.project_id == project_id, FinalLabel.method.in_(methods))
        )
    }


def store_annotator_model(
    session: Session, project_id: int, field: str, params: dict[str, Any]
) -> None:
    """Keep a field's fitted Dawid-Skene parameters: the queue labels items that
    complete before the next refit with them (`finalize.consensus_for`)."""
    stored = session.scalar(
        select(AnnotatorModel).where(
            AnnotatorModel.project_id == project_id,
            AnnotatorModel.field == field,
            AnnotatorModel.method == "dawid_skene",
        )
    )
    if stored is None:
        session.add(
            AnnotatorModel(project_id=project_id, field=field, method="dawid_skene", params=params)
        )
    else:
        stored.params = params
        stored.fitted_at = utcnow()
