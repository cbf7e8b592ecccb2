"""Calibration rounds (SPEC 4): managers make rounds and read the results;
participants take the items one by one and get the expert answer and the
reason back after each answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field

from annotary.core.calibration import MAX_REASON, MAX_ROUND_ITEMS
from annotary.services.identity import calibration, calibration_work
from annotary.services.identity.access import Actor
from annotary.storage.db import Database
from annotary.web.deps import current_actor, get_db
from annotary.web.schemas import ERROR_RESPONSES, Input

router = APIRouter(tags=["calibration"], responses=ERROR_RESPONSES)
RoundPath = Annotated[str, Path(min_length=1, max_length=63, description="Round name")]
MAX_TIME_SPENT_MS = 86_400_000


class CalibrationItemIn(Input):
    content: dict[str, Any] = Field(description="The item, shaped as the project's item_kind")
    answer: dict[str, Any] = Field(description="The expert answer, valid under the schema")
    reason: str = Field(min_length=1, max_length=MAX_REASON, description="Why it is the answer")


class NewRoundIn(Input):
    name: str = Field(max_length=63, description="Lower-case letters, digits, '.', '_', '-'")
    gold_items: list[str] = Field(
        default_factory=list,
        max_length=MAX_ROUND_ITEMS,
        description="Gold items to copy, by external id (the import's id column) or item id",
    )
    items: list[CalibrationItemIn] = Field(default_factory=list, max_length=MAX_ROUND_ITEMS)
    participants: list[str] = Field(
        default_factory=list,
        max_length=10_000,
        description="Members by name; default: every active annotator, reviewer and expert",
    )
    shuffle: bool = Field(default=False, description="Each participant gets their own order")


class RoundOut(BaseModel):
    name: str
    shuffle: bool
    items: int
    participants: int
    answers: int | None = Field(description="All answers so far (managers only)")
    your_answers: int | None = Field(description="Your answers, when you take part")
    schema_version: int
    guideline_version: int
    created_at: datetime


class CalibrationTaskOut(BaseModel):
    round: str
    item_id: int
    number: int = Field(description="This item's place in your order, from 1")
    total: int
    kind: str
    content: dict[str, Any]
    schema_version: int
    guideline_version: int


class AnswerIn(Input):
    item_id: int = Field(ge=1, le=2**63 - 1)
    annotation: dict[str, Any]
    time_spent_ms: int | None = Field(default=None, ge=0, le=MAX_TIME_SPENT_MS)


class FeedbackOut(BaseModel):
    round: str
    item_id: int
    number: int
    total: int
    answer: dict[str, Any] = Field(description="Yours")
    expert_answer: dict[str, Any]
    reason: str
    matches: dict[str, bool] = Field(description="Per compared field: did yours match?")
    correct: bool | None = Field(description="Every compared field matched (null: none to compare)")
    remaining: int


class ParticipantResultOut(BaseModel):
    username: str
    answered: int
    correct: int
    accuracy: float | None
    fields: dict[str, float]


class ItemResultOut(BaseModel):
    item_id: int
    position: int
    gold_item_id: int | None
    answered: int
    correct: int
    accuracy: float | None
    fields: dict[str, float]


class RoundResultsOut(BaseModel):
    round: str
    items: int
    participants: list[ParticipantResultOut]
    per_item: list[ItemResultOut]


@router.post(
    "/projects/{name}/calibration",
    summary="Make a calibration round",
    status_code=201,
    response_model=RoundOut,
)
def create_round(
    name: str,
    body: NewRoundIn,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> calibration.RoundInfo:
    """A fixed set of items with expert answers and reasons, from gold items and/or
    given items, for every annotator of the project (or the participants named).
    Everything is checked against the current schema (422 E821 lists each problem).
    Managers and admins."""
    new = calibration.NewRound(
        name=body.name,
        gold_items=tuple(body.gold_items),
        items=tuple(
            calibration.NewCalibrationItem(i.content, i.answer, i.reason) for i in body.items
        ),
        participants=tuple(body.participants),
        shuffle=body.shuffle,
    )
    return calibration.create_round(db, name, new, actor)


@router.get(
    "/projects/{name}/calibration", summary="List calibration rounds", response_model=list[RoundOut]
)
def list_rounds(
    name: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> list[calibration.RoundInfo]:
    """Managers and admins: every round; other members: the rounds they take part in."""
    return calibration.list_rounds(db, name, actor)


@router.get(
    "/projects/{name}/calibration/{round}/next",
    summary="My next calibration item",
    response_model=CalibrationTaskOut,
    responses={204: {"description": "You have answered every item of the round"}},
)
def next_item(
    name: str,
    round: RoundPath,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> Any:
    """Your next item of the round (participants); 204 when you are done."""
    task = calibration_work.next_calibration_item(db, actor, name, round)
    return Response(status_code=204) if task is None else task


@router.post(
    "/projects/{name}/calibration/{round}/answer",
    summary="Answer a calibration item",
    response_model=FeedbackOut,
)
def answer(
    name: str,
    round: RoundPath,
    body: AnswerIn,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> calibration_work.Feedback:
    """Answer your next item (409 E823 for any other); the reply holds the expert
    answer, the reason and, per field, whether yours matched."""
    return calibration_work.answer_calibration_item(
        db, actor, name, round, body.item_id, body.annotation, body.time_spent_ms
    )


@router.get(
    "/projects/{name}/calibration/{round}/feedback",
    summary="My answers with the expert answers",
    response_model=list[FeedbackOut],
)
def feedback(
    name: str,
    round: RoundPath,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> list[calibration_work.Feedback]:
    """Your answers in the round so far, each with the expert answer and its reason."""
    return calibration_work.my_feedback(db, actor, name, round)


@router.get(
    "/projects/{name}/calibration/{round}/results",
    summary="Results of a calibration round",
    response_model=RoundResultsOut,
)
def results(
    name: str,
    round: RoundPath,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> calibration.RoundResults:
    """Per participant and per item: answers, how many matched the expert on every
    field, and the share matching per field. Managers and admins."""
    return calibration.round_results(db, name, round, actor)
