"""Calibration rounds, the participants' side (SPEC 4): the next item of a round,
answering it, and the feedback on one's answers.

Feedback comes right after each answer: the expert answer, the reason and,
per field, whether one matched. Calibration is practice, and the reason is
worth most while the item is fresh in mind; an answer is final once given
(one per item), so seeing the expert's cannot change the answer it is
compared with, and nobody sees the expert answer of an item before answering
it. Items come one at a time in the participant's order: an item is answered
only when it is their next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotary.core.calibration import compare_with_expert, next_position, participant_order
from annotary.core.schema.validation import validate_annotation
from annotary.errors import (
    E_ANNOTATION_INVALID,
    E_CALIBRATION_NOT_PARTICIPANT,
    E_CALIBRATION_ORDER,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
)
from annotary.services.identity.access import ALL_ROLES, Actor, project_for, require_role
from annotary.services.identity.calibration import round_of
from annotary.services.projects import schema_at
from annotary.storage.calibration_store import add_answer, answers_by, is_participant, items_of
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import CalibrationAnswer, CalibrationItem, CalibrationRound, utcnow


@dataclass(frozen=True)
class CalibrationTask:
    """The next item of a round for a participant (`number` of `total`, 1-based)."""

    round: str
    item_id: int
    number: int
    total: int
    kind: str
    content: dict[str, Any]
    schema_version: int
    guideline_version: int


@dataclass(frozen=True)
class Feedback:
    """One's answer to a calibration item next to the expert answer and its reason."""

    round: str
    item_id: int
    number: int
    total: int
    answer: dict[str, Any]
    expert_answer: dict[str, Any]
    reason: str
    matches: dict[str, bool]
    correct: bool | None
    remaining: int


@dataclass(frozen=True)
class _Seat:
    round: CalibrationRound
    items: list[CalibrationItem]
    order: list[int]
    """Item positions in the participant's order."""
    answers: list[CalibrationAnswer]


def _seat(session: Session, actor: Actor, project_name: str, round_name: str) -> _Seat:
    """The round as the actor takes part in it (members who are participants only)."""
    project = project_for(session, actor, project_name)
    require_role(session, actor, project, ALL_ROLES, admin_passes=False)
    round_ = round_of(session, project, round_name)
    if not is_participant(session, round_.id, actor.user_id):
        raise Forbidden(
            E_CALIBRATION_NOT_PARTICIPANT,
            f"you do not take part in calibration round {round_name!r}",
        )
    items = items_of(session, round_.id)
    order = participant_order(
        [item.position for item in items], round_.seed, actor.user_id, round_.shuffle
    )
    return _Seat(round_, items, order, answers_by(session, round_.id, actor.user_id))


def _next_item(seat: _Seat) -> CalibrationItem | None:
    by_id = {item.id: item for item in seat.items}
    answered = {by_id[a.calibration_item_id].position for a in seat.answers}
    position = next_position(seat.order, answered)
    return None if position is None else seat.items[position]


def _number(seat: _Seat, item: CalibrationItem) -> int:
    return seat.order.index(item.position) + 1


def next_calibration_item(
    db: Database, actor: Actor, project_name: str, round_name: str
) -> CalibrationTask | None:
    """The actor's next item in the round; None once they answered every one."""
    with read_session(db.sessions) as session:
        seat = _seat(session, actor, project_name, round_name)
        item = _next_item(seat)
        if item is None:
            return None
        return CalibrationTask(
            seat.round.name,
            item.id,
            _number(seat, item),
            len(seat.items),
            item.kind,
            item.content,
            seat.round.schema_version,
            seat.round.guideline_version,
        )


def answer_calibration_item(
    db: Database,
    actor: Actor,
    project_name: str,
    round_name: str,
    item_id: int,
    annotation: dict[str, Any],
    time_spent_ms: int | None = None,
) -> Feedback:
    """Record the actor's answer to their next item of the round (E823 for any other
    item) and return it with the expert answer, the reason and the per-field match."""
    try:
        with write_transaction(db.sessions) as session:
            seat = _seat(session, actor, project_name, round_name)
            item = _next_item(seat)
            if item is None or item.id != item_id:
                raise _not_next(item_id, item)
            schema = schema_at(
                session.connection(), seat.round.project_id, seat.round.schema_version
            )
            problems = validate_annotation(schema, annotation, item.content)
            if problems:
                raise Invalid(
                    E_ANNOTATION_INVALID,
                    f"the annotation does not match schema v{seat.round.schema_version}",
                    [
                        FieldError(f"annotation.{p.path}" if p.path else "annotation", p.reason)
                        for p in problems
                    ],
                )
            comparison = compare_with_expert(schema, item.answer, annotation)
            add_answer(
                session,
                CalibrationAnswer(
                    round_id=seat.round.id,
                    calibration_item_id=item.id,
                    user_id=actor.user_id,
                    payload=annotation,
                    matches=comparison.matches,
                    correct=comparison.correct,
                    time_spent_ms=time_spent_ms,
                    created_at=utcnow(),
                ),
            )
            remaining = len(seat.items) - len(seat.answers) - 1
            return Feedback(
                seat.round.name,
                item.id,
                _number(seat, item),
                len(seat.items),
                annotation,
                item.answer,
                item.reason,
                comparison.matches,
                comparison.correct,
                remaining,
            )
    except IntegrityError as exc:  # the same answer sent twice at once
        raise Conflict(
            E_CALIBRATION_ORDER, f"you have answered calibration item {item_id} already"
        ) from exc


def _not_next(item_id: int, expected: CalibrationItem | None) -> Conflict:
    if expected is None:
        return Conflict(E_CALIBRATION_ORDER, "you have answered every item of this round")
    return Conflict(
        E_CALIBRATION_ORDER,
        f"item {item_id} is not your next calibration item (answered already, or not yet "
        f"due); your next one is item {expected.id}",
    )


def my_feedback(db: Database, actor: Actor, project_name: str, round_name: str) -> list[Feedback]:
    """The actor's answers in the round so far, each with the expert answer and reason."""
    with read_session(db.sessions) as session:
        seat = _seat(session, actor, project_name, round_name)
    by_id = {item.id: item for item in seat.items}
    remaining = len(seat.items) - len(seat.answers)
    out = []
    for answer in seat.answers:
        item = by_id[answer.calibration_item_id]
        out.append(
            Feedback(
                seat.round.name,
                item.id,
                _number(seat, item),
                len(seat.items),
                answer.payload,
                item.answer,
                item.reason,
                {str(k): bool(v) for k, v in answer.matches.items()},
                answer.correct,
                remaining,
            )
        )
    return out
