"""The annotation queue: next task, submit, skip (SPEC 5)."""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from annotary.services.identity.access import Actor
from annotary.services.queue import serving as queue
from annotary.storage.db import Database
from annotary.web.deps import current_actor, get_db, run_in_queue_threads
from annotary.web.schemas import ERROR_RESPONSES, MAX_TIME_SPENT_MS, RowId

router = APIRouter(tags=["tasks"], responses=ERROR_RESPONSES)


class ItemOut(BaseModel):
    """The item to annotate. `ref` is an opaque, stable name for it (not its id)."""

    ref: str
    kind: str
    content: dict[str, Any]
    metadata: dict[str, Any]


class PrelabelOut(BaseModel):
    model: str
    annotation: dict[str, Any]
    confidence: float | None


class ReworkOut(BaseModel):
    """A rework task: redo only `fields` of your earlier annotation (`previous`
    holds your values of them); submit an annotation of those fields alone."""

    fields: list[str]
    previous: dict[str, Any]


class TaskOut(BaseModel):
    """A task: the item to annotate under a lease that expires at `expires_at`;
    `rework` is null except on a rework task."""

    lease_id: int
    expires_at: str
    item: ItemOut
    schema_version: int
    guideline_version: int
    prelabels: list[PrelabelOut]
    rework: ReworkOut | None = None


class SubmitIn(BaseModel):
    """An annotation (validated against the schema), or flags alone to escalate."""

    model_config = ConfigDict(extra="forbid")

    annotation: dict[str, Any] | None = None
    time_spent_ms: int | None = Field(default=None, ge=0, le=MAX_TIME_SPENT_MS)
    flags: list[str] = Field(default_factory=list)
    note: str | None = Field(default=None, max_length=2000)


class SubmitOut(BaseModel):
    """The stored annotation's id (null for flags alone). The same answer for every
    kind of item: nothing in it says what becomes of the item."""

    annotation_id: int | None


class SkipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


@router.post(
    "/projects/{name}/tasks/next",
    summary="Get the next task",
    response_model=TaskOut,
    responses={204: {"description": "Nothing left to annotate for you"}},
)
async def next_task(
    name: str,
    request: Request,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> Any:
    """Your live task again, or a new one; 204 when nothing is left for you."""
    task = await run_in_queue_threads(request, partial(queue.next_task, db, actor, name))
    if task is None:
        return Response(status_code=204)
    # The hottest route: serialize once with orjson instead of re-validating the
    # dict against TaskOut (which still documents the shape in OpenAPI).
    return Response(orjson.dumps(task.to_dict()), media_type="application/json")


@router.post("/tasks/{lease_id}/submit", summary="Submit a task", response_model=SubmitOut)
async def submit(
    lease_id: RowId,
    body: SubmitIn,
    request: Request,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> Any:
    """Store the annotation (422 lists every field error); flags escalate the item."""
    work = partial(
        queue.submit_annotation,
        db,
        actor,
        lease_id,
        body.annotation,
        time_spent_ms=body.time_spent_ms,
        flags=tuple(body.flags),
        note=body.note,
    )
    result = await run_in_queue_threads(request, work)
    payload = {"annotation_id": result.annotation_id}
    return Response(orjson.dumps(payload), media_type="application/json")


@router.post("/tasks/{lease_id}/skip", summary="Skip a task", status_code=204)
async def skip(
    lease_id: RowId,
    body: SkipIn,
    request: Request,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> Response:
    """Give the task back with a reason; it is not served to you again."""
    await run_in_queue_threads(request, partial(queue.skip_task, db, actor, lease_id, body.reason))
    return Response(status_code=204)
