"""Senior queues: adjudication, escalations, review (SPEC 4-5)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from annotary.services.identity.access import Actor
from annotary.services.queue import review
from annotary.storage.db import Database
from annotary.web.deps import current_actor, get_db
from annotary.web.schemas import ERROR_RESPONSES, RowId

router = APIRouter(tags=["review"], responses=ERROR_RESPONSES)
QUEUES: dict[str, review.SeniorQueue] = {
    "adjudication": "adjudication",
    "escalations": "escalated",
    "review": "review",
}


class CaseOut(BaseModel):
    """An item with every annotation, its flags, the suggested consensus and any final label.

    The consensus combines each field with its kind's aggregator: the project's
    vote for label, labels and preference fields; a token vote for spans; the
    lower median for ratings; Borda or Bradley-Terry for rankings. Free text is
    never combined: a reviewer picks one annotation's text or edits it.
    """

    item: dict[str, Any] = Field(description="id, status, kind, content and metadata")
    annotations: list[dict[str, Any]] = Field(
        description="every annotation, oldest first, with its id, annotator and payload"
    )
    flags: list[dict[str, Any]]
    suggestion: dict[str, Any] | None = Field(
        description=(
            "the consensus as a starting point (null without annotations): `payload` (a "
            "complete answer; a free-text field awaiting review holds its first answer), "
            "`fields` (per field: method, measure, agreement, confidence, threshold, passed), "
            "`texts` (per free-text field awaiting review: annotation_id, annotator, turn for "
            "per-turn fields, text) and `problems` (why the combined answer is not a valid "
            "annotation)"
        )
    )
    agreement: float | None = Field(
        description="the smallest agreement over the compared fields (each in its own measure)"
    )
    final: dict[str, Any] | None = Field(
        description=(
            "the final label, if any: payload, method, reason, agreement, confidence and "
            "`fields` (per field: method, measure, agreement, confidence, threshold; empty "
            "for a human decision)"
        )
    )
    rework: dict[str, Any] | None = Field(
        default=None,
        description=(
            "the item's last completed rework, if any: the `fields` redone, the "
            "`schema_version` and `guideline_version` they were redone under, the "
            "`previous_status` and `previous_final` (the final label before the rework; "
            "an item whose redone fields disagree comes to adjudication without one)"
        ),
    )


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any]
    reason: str = Field(min_length=1, max_length=2000)


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["finalize", "requeue"]
    payload: dict[str, Any] | None = None
    reason: str = Field(min_length=1, max_length=2000)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["confirm", "override"]
    payload: dict[str, Any] | None = None
    reason: str = Field(min_length=1, max_length=2000)


def _next(queue_name: str, name: str, actor: Actor, db: Database) -> Any:
    case = review.next_case(db, actor, name, QUEUES[queue_name])
    return Response(status_code=204) if case is None else case.to_dict()


@router.get(
    "/projects/{name}/adjudication/next",
    summary="Next item to adjudicate",
    response_model=CaseOut,
    responses={204: {"description": "Nothing to adjudicate"}},
)
def next_adjudication(
    name: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> Any:
    """An item whose annotators disagreed, with all their annotations."""
    return _next("adjudication", name, actor, db)


@router.get(
    "/projects/{name}/escalations/next",
    summary="Next escalated item",
    response_model=CaseOut,
    responses={204: {"description": "Nothing escalated"}},
)
def next_escalation(
    name: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> Any:
    """A flagged item for an expert."""
    return _next("escalations", name, actor, db)


@router.get(
    "/projects/{name}/review/next",
    summary="Next item to review",
    response_model=CaseOut,
    responses={204: {"description": "Nothing to review"}},
)
def next_review(
    name: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> Any:
    """A finalized item sampled for review."""
    return _next("review", name, actor, db)


@router.post(
    "/projects/{name}/items/{item_id}/adjudicate", summary="Adjudicate an item", status_code=204
)
def adjudicate(
    name: str,
    item_id: RowId,
    body: DecisionIn,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> Response:
    """Record the final answer of an item in adjudication, with a reason: a whole
    annotation, e.g. the suggestion with one candidate's text as it is or edited."""
    review.adjudicate(db, actor, name, item_id, body.payload, body.reason)
    return Response(status_code=204)


@router.post(
    "/projects/{name}/items/{item_id}/resolve", summary="Resolve an escalation", status_code=204
)
def resolve(
    name: str,
    item_id: RowId,
    body: ResolveIn,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> Response:
    """Finalize a flagged item, or send it back to the queue."""
    review.resolve_escalation(db, actor, name, item_id, body.action, body.payload, body.reason)
    return Response(status_code=204)


@router.post(
    "/projects/{name}/items/{item_id}/review", summary="Review a final label", status_code=204
)
def review_final(
    name: str,
    item_id: RowId,
    body: ReviewIn,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> Response:
    """Confirm a sampled final label, or override it with a reason."""
    review.review_item(db, actor, name, item_id, body.verdict, body.payload, body.reason)
    return Response(status_code=204)
