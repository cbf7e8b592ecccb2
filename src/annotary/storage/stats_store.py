"""Reads behind an annotator's own statistics: their annotations in a project,
their scored gold answers, and their answers next to the items' final labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotary.storage.models import Annotation, FinalLabel


def annotation_times(
    session: Session, project_id: int, user_id: int
) -> list[tuple[datetime, int | None]]:
    """`(submitted at, time spent in ms)` of each of the user's annotations in the project."""
    rows = session.execute(
        select(Annotation.created_at, Annotation.time_spent_ms)
        .where(Annotation.project_id == project_id, Annotation.user_id == user_id)
        .order_by(Annotation.id)
    )
    return [(at, spent) for at, spent in rows]


def gold_outcomes(session: Session, project_id: int, user_id: int, before: datetime) -> list[bool]:
    """Whether each of the user's scored gold answers submitted before `before` was right."""
    return [
        bool(correct)
        for correct in session.scalars(
            select(Annotation.gold_correct).where(
                Annotation.project_id == project_id,
                Annotation.user_id == user_id,
                Annotation.gold_correct.is_not(None),
                Annotation.created_at < before,
            )
        )
    ]


def answers_with_final_labels(
    session: Session, project_id: int, user_id: int
) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """`(schema version, the user's answer, the final label)` for each item the user
    annotated that has a final label."""
    rows = session.execute(
        select(Annotation.schema_version, Annotation.payload, FinalLabel.payload)
        .join(FinalLabel, FinalLabel.item_id == Annotation.item_id)
        .where(Annotation.project_id == project_id, Annotation.user_id == user_id)
        .order_by(Annotation.id)
    )
    return [(version, own, final) for version, own, final in rows]
