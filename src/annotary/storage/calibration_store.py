"""Reads and writes of calibration rounds: their items, participants and answers.

Calibration lives in its own tables (migration 0008): nothing here touches the
queue's items, annotations or final labels, except reading the gold items a
round is copied from.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotary.storage.models import (
    CalibrationAnswer,
    CalibrationItem,
    CalibrationParticipant,
    CalibrationRound,
    GoldAnswer,
    Item,
    Membership,
    User,
)


@dataclass(frozen=True)
class GoldSource:
    """A gold item a round may copy: its id, external id, content and expert answer."""

    item_id: int
    external_id: str | None
    kind: str
    content: dict[str, Any]
    answer: dict[str, Any]
    reason: str | None


@dataclass(frozen=True)
class RoundCounts:
    """A round with how many items, participants and answers it has."""

    round: CalibrationRound
    items: int
    participants: int
    answers: int


def round_named(session: Session, project_id: int, name: str) -> CalibrationRound | None:
    """The project's round called `name`, if any."""
    return session.scalar(
        select(CalibrationRound).where(
            CalibrationRound.project_id == project_id, CalibrationRound.name == name
        )
    )


def gold_sources(
    session: Session, project_id: int, item_ids: Collection[int], external_ids: Collection[str]
) -> list[GoldSource]:
    """The project's gold items (with their answers) among the given ids or external ids."""
    if not item_ids and not external_ids:
        return []
    rows = session.execute(
        select(
            Item.id, Item.external_id, Item.kind, Item.content, GoldAnswer.answer, GoldAnswer.reason
        )
        .join(GoldAnswer, GoldAnswer.item_id == Item.id)
        .where(
            Item.project_id == project_id,
            Item.is_gold.is_(True),
            Item.id.in_(sorted(item_ids)) | Item.external_id.in_(sorted(external_ids)),
        )
        .order_by(Item.id)
    )
    return [GoldSource(*row) for row in rows]


def members_in_roles(session: Session, project_id: int, roles: Collection[str]) -> list[int]:
    """User ids of the project's active members in `roles`."""
    return list(
        session.scalars(
            select(Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.project_id == project_id,
                Membership.role.in_(sorted(roles)),
                User.is_active.is_(True),
            )
            .order_by(Membership.user_id)
        )
    )


def members_named(session: Session, project_id: int, usernames: Collection[str]) -> dict[str, int]:
    """User id by name of those among `usernames` who are members of the project."""
    rows = session.execute(
        select(User.username, User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project_id, User.username.in_(sorted(usernames)))
    )
    return {str(name): int(user_id) for name, user_id in rows}


def add_round(
    session: Session,
    round_: CalibrationRound,
    items: Sequence[CalibrationItem],
    participant_ids: Sequence[int],
) -> None:
    """Store a new round with its items (positions set here, in order) and participants."""
    session.add(round_)
    session.flush()
    for position, item in enumerate(items):
        item.round_id, item.position = round_.id, position
        session.add(item)
    session.add_all(CalibrationParticipant(round_id=round_.id, user_id=u) for u in participant_ids)
    session.flush()


def rounds_of(session: Session, project_id: int, user_id: int | None = None) -> list[RoundCounts]:
    """The project's rounds, newest first, with their counts; only those `user_id`
    takes part in when given."""

    def count(model: Any) -> Any:
        return (
            select(func.count())
            .select_from(model)
            .where(model.round_id == CalibrationRound.id)
            .scalar_subquery()
        )

    query = select(
        CalibrationRound,
        count(CalibrationItem),
        count(CalibrationParticipant),
        count(CalibrationAnswer),
    ).where(CalibrationRound.project_id == project_id)
    if user_id is not None:
        query = query.where(
            select(CalibrationParticipant.id)
            .where(
                CalibrationParticipant.round_id == CalibrationRound.id,
                CalibrationParticipant.user_id == user_id,
            )
            .exists()
        )
    rows = session.execute(query.order_by(CalibrationRound.id.desc()))
    return [RoundCounts(r, items, people, answers) for r, items, people, answers in rows]


def is_participant(session: Session, round_id: int, user_id: int) -> bool:
    """Whether the user takes part in the round."""
    found = session.scalar(
        select(CalibrationParticipant.id).where(
            CalibrationParticipant.round_id == round_id, CalibrationParticipant.user_id == user_id
        )
    )
    return found is not None


def items_of(session: Session, round_id: int) -> list[CalibrationItem]:
    """The round's items by position."""
    return list(
        session.scalars(
            select(CalibrationItem)
            .where(CalibrationItem.round_id == round_id)
            .order_by(CalibrationItem.position)
        )
    )


def answers_by(session: Session, round_id: int, user_id: int) -> list[CalibrationAnswer]:
    """The user's answers in the round, oldest first."""
    return list(
        session.scalars(
            select(CalibrationAnswer)
            .where(CalibrationAnswer.round_id == round_id, CalibrationAnswer.user_id == user_id)
            .order_by(CalibrationAnswer.id)
        )
    )


def add_answer(session: Session, answer: CalibrationAnswer) -> None:
    """Store one answer (the unique index refuses a second one to the same item)."""
    session.add(answer)
    session.flush()


def participants_of(session: Session, round_id: int) -> list[tuple[int, str]]:
    """`(user id, username)` of the round's participants, by name."""
    rows = session.execute(
        select(User.id, User.username)
        .join(CalibrationParticipant, CalibrationParticipant.user_id == User.id)
        .where(CalibrationParticipant.round_id == round_id)
        .order_by(User.username)
    )
    return [(user_id, name) for user_id, name in rows]


def all_answers(
    session: Session, round_id: int
) -> list[tuple[int, int, dict[str, Any], bool | None]]:
    """`(user id, calibration item id, matches, correct)` of every answer in the round."""
    rows = session.execute(
        select(
            CalibrationAnswer.user_id,
            CalibrationAnswer.calibration_item_id,
            CalibrationAnswer.matches,
            CalibrationAnswer.correct,
        )
        .where(CalibrationAnswer.round_id == round_id)
        .order_by(CalibrationAnswer.id)
    )
    return [(user, item, matches, correct) for user, item, matches, correct in rows]


def own_progress(session: Session, user_id: int, round_ids: Collection[int]) -> dict[int, int]:
    """How many answers the user gave, per round among `round_ids` they take part in."""
    if not round_ids:
        return {}
    answered = (
        select(func.count())
        .select_from(CalibrationAnswer)
        .where(
            CalibrationAnswer.round_id == CalibrationParticipant.round_id,
            CalibrationAnswer.user_id == user_id,
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(CalibrationParticipant.round_id, answered).where(
            CalibrationParticipant.user_id == user_id,
            CalibrationParticipant.round_id.in_(sorted(round_ids)),
        )
    )
    return {int(round_id): int(count) for round_id, count in rows}
