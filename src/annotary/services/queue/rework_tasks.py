"""Rework tasks in the queue (SPEC 8): an annotator redoes some fields of their
own annotation under the current schema and guideline versions.

Called inside the queue's write transactions (`serving`), and by the people
use cases when someone stops working on a project (`drop_rework_of`). The
selection of the work and its cancellation are `services.rework`; the pure
steps `core.rework`; the statements `storage.rework_queue_store`.

- serve (after the live lease and the gates, before gold and new items): the
  caller's oldest open rework row; its item is leased like any other (counted
  in `lease_count`, swept when it expires; the row stays open and is served
  again). Routing holds: an author whom the project's routing no longer lets
  take the item has their row dropped instead.
- submit: the answer holds only the row's fields (`core.rework.merge_answer`,
  422 E201 otherwise); the merged annotation replaces the stored one in place
  (current versions; the time spent is added); the row is `done`. Flags are
  recorded and the item stays in rework (as a gold item stays gold); flags
  alone, or a skip, drop the row.
- complete (with the item row locked, once no row of the rework is open):
  see `complete_rework`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from annotary.core.plugins.registry import Plugins
from annotary.core.queue import QueueRules, RouteFilter, sampled_for_review
from annotary.core.rework import merge_answer, refinalize, task_view
from annotary.errors import E_ANNOTATION_INVALID, FieldError, Invalid
from annotary.services.projects import schema_at
from annotary.services.queue.finalize import (
    ADJUDICATION,
    FINALIZED,
    QUEUED,
    REVIEW,
    consensus_for,
    escalate,
    settle,
)
from annotary.services.queue.tasks import as_utc, lease_not_found
from annotary.services.queue.workflow import rules_of
from annotary.storage.models import utcnow
from annotary.storage.queue_store import LeasedItem, Seat, prelabels_of
from annotary.storage.rework_queue_store import (
    DONE,
    DROPPED,
    REWORK,
    ReworkState,
    add_skip_once,
    close_rework_row,
    drop_rework_rows,
    final_label_of,
    finish_rework,
    lease_rework_item,
    lock_items,
    open_rework_row,
    open_rework_row_on,
    open_rework_state,
    redo_annotation,
    replace_final_label,
)
from annotary.storage.submit_store import (
    HeldLease,
    answers_of,
    count_submit,
    set_item_state,
    turn_in_lease,
)

MAX_TIME_SPENT_MS = 2**31 - 1
"""The most an annotation's time, added up over its reworks, can hold (a 32-bit column)."""


@dataclass(frozen=True)
class ReworkLease:
    """A rework task just leased: the lease and what the task shows of the rework."""

    leased: LeasedItem
    view: dict[str, Any]


def serve_rework(
    conn: Connection,
    seat: Seat,
    routes: RouteFilter,
    row_id: int,
    now: datetime,
    expires_at: datetime,
    plugins: Plugins | None,
) -> ReworkLease | None:
    """Lease the item of the caller's open rework row `row_id`; None when there is
    none to serve (the row was closed meanwhile, or routing no longer lets the
    caller take the item: then the row is dropped)."""
    row = open_rework_row(conn, row_id)
    if row is None:
        return None
    if not routes.allows(row.route_rule):
        lock_items(conn, [row.item_id])
        if close_rework_row(conn, row.row_id, DROPPED, now):
            complete_rework(conn, row.rework_id, plugins, now)
        return None
    leased = lease_rework_item(conn, seat, row.item_id, now, expires_at)
    if leased is None:
        return None
    leased = replace(leased, prelabels=prelabels_of(conn, row.item_id))
    schema = schema_at(conn, seat.project_id, seat.schema_version)
    return ReworkLease(leased, task_view(schema, row.fields, row.previous_payload))


def rework_view(conn: Connection, seat: Seat, item_id: int) -> dict[str, Any] | None:
    """What a live rework lease of the caller's shows of its rework, to serve it again."""
    row = open_rework_row_on(conn, item_id, seat.user_id)
    if row is None:
        return None
    schema = schema_at(conn, seat.project_id, seat.schema_version)
    return task_view(schema, row.fields, row.previous_payload)


def submit_rework(
    conn: Connection,
    seat: Seat,
    held: HeldLease,
    annotation: dict[str, Any] | None,
    *,
    time_spent_ms: int | None,
    flags: tuple[str, ...],
    note: str | None,
    plugins: Plugins | None,
) -> int | None:
    """Store a redone annotation (or, for flags alone, drop the row) for a lease on
    an item in rework; the annotation's id (None for flags alone). Refused
    (E801) when the lease or the row is gone, `Invalid` (E201) for an
    answer that is not a valid redo of the row's fields."""
    row = open_rework_row_on(conn, held.item_id, seat.user_id)
    if row is None:
        raise lease_not_found(held.lease_id)
    schema = schema_at(conn, seat.project_id, seat.schema_version)
    merged: dict[str, Any] | None = None
    if annotation is not None:
        fields = task_view(schema, row.fields, row.previous_payload)["fields"]
        merged, problems = merge_answer(schema, row.payload, fields, annotation, held.item_content)
        if problems:
            raise Invalid(
                E_ANNOTATION_INVALID,
                f"the answer is not a valid redo under schema v{seat.schema_version}; "
                f"answer only: {', '.join(fields) or '(no field)'}",
                [
                    FieldError(f"annotation.{p.path}" if p.path else "annotation", p.reason)
                    for p in problems
                ],
            )
    now = utcnow()
    count_submit(
        conn,
        seat.membership_id,
        now,
        annotated=merged is not None,
        gold_correct=None,
        qualifying=False,
    )
    turned = turn_in_lease(conn, held, None)  # locks the item row
    if turned is None or turned.status != REWORK:
        raise lease_not_found(held.lease_id)
    if merged is not None:
        spent = time_spent_ms
        if spent is None:
            spent = int((now - as_utc(held.created_at)).total_seconds() * 1000)
        redo_annotation(
            conn,
            row.annotation_id,
            payload=merged,
            schema_version=seat.schema_version,
            guideline_version=seat.guideline_version,
            time_spent_ms=min((row.time_spent_ms or 0) + max(spent, 0), MAX_TIME_SPENT_MS),
            flags=[*row.flags, *(f for f in flags if f not in row.flags)],
        )
    if not close_rework_row(conn, row.row_id, DONE if merged is not None else DROPPED, now):
        raise lease_not_found(held.lease_id)
    if flags:
        rules = rules_of(seat.definition, seat.secret)
        escalate(
            conn,
            rules.routes,
            held.item_id,
            held.item_metadata,
            REWORK,  # recorded only: the item stays in rework
            turned.route_rule,
            seat.user_id,
            flags,
            note,
        )
    complete_rework(conn, row.rework_id, plugins, now)
    return row.annotation_id if merged is not None else None


def skip_rework(
    conn: Connection, held: HeldLease, user_id: int, reason: str, plugins: Plugins | None
) -> None:
    """Give a rework task back: the row is dropped (the annotation stays as it
    was) and the reason recorded as a skip. Refused (E801) when the lease or the row is gone."""
    row = open_rework_row_on(conn, held.item_id, user_id)
    if row is None:
        raise lease_not_found(held.lease_id)
    now = utcnow()
    turned = turn_in_lease(conn, held, None)
    if turned is None or turned.status != REWORK:
        raise lease_not_found(held.lease_id)
    if not close_rework_row(conn, row.row_id, DROPPED, now):
        raise lease_not_found(held.lease_id)
    add_skip_once(conn, held.item_id, user_id, reason)
    complete_rework(conn, row.rework_id, plugins, now)


def drop_rework_of(
    conn: Connection,
    user_ids: list[int],
    *,
    project_id: int | None = None,
    plugins: Plugins | None = None,
) -> int:
    """Drop the users' open rework rows (in one project, when given), completing the
    reworks that waited only for them; how many reworks lost a row. For people
    who stop working (deactivated, removed): no rework waits for them."""
    now = utcnow()
    dropped = drop_rework_rows(conn, user_ids, now, project_id)
    lock_items(conn, dropped.values())
    for rework_id in sorted(dropped):
        complete_rework(conn, rework_id, plugins, now)
    return len(dropped)


def complete_rework(
    conn: Connection, rework_id: int, plugins: Plugins | None, now: datetime
) -> str | None:
    """Complete the rework if none of its rows is open (the item row locked by the
    caller); the item's new status, or None when it is not complete.

    - every row dropped: the item goes back to the status it had, final label
      untouched;
    - it was queued: back to the queue (settled at once if it already holds
      `overlap` annotations);
    - it was in adjudication: settled over all its annotations, as at overlap;
    - it was final (finalized or in review): the consensus of the redone
      annotations over the rework's fields (`core.rework.refinalize`) replaces
      those fields of the final label, the others keep theirs; finalized, or
      in review when the project's keyed sample picks it. Below a redone
      field's threshold the item goes to adjudication without a final label
      (the case shows the one it had).
    """
    state = open_rework_state(conn, rework_id)
    if state is None or state.open_rows or not finish_rework(conn, rework_id, now):
        return None
    rules = rules_of(state.definition, state.secret)
    status = state.previous_status
    at_overlap = status == QUEUED and state.annotation_count >= rules.overlap
    if at_overlap or (state.done and status == ADJUDICATION):
        status = _settle(conn, rules, state, plugins)
    elif state.done and status in (FINALIZED, REVIEW):
        status = _refinalize(conn, rules, state, plugins)
    set_item_state(conn, state.item_id, status, state.route_rule)
    return status


def _settle(
    conn: Connection, rules: QueueRules, state: ReworkState, plugins: Plugins | None
) -> str:
    schema = schema_at(conn, state.project_id, state.schema_version)
    answers = answers_of(conn, state.item_id)
    settlement = settle(conn, rules, state.project_id, state.item_id, schema, answers, plugins)
    replace_final_label(conn, state.item_id, settlement.label)
    return settlement.status


def _refinalize(
    conn: Connection, rules: QueueRules, state: ReworkState, plugins: Plugins | None
) -> str:
    schema = schema_at(conn, state.project_id, state.schema_version)
    consensus = consensus_for(
        conn, rules, state.project_id, schema, state.done, state.content, plugins
    )
    final = final_label_of(conn, state.item_id)
    previous: dict[str, Any] | None
    record: dict[str, Any]
    if final is not None:
        previous, record = final
    else:
        previous, record = (state.previous_final or {}).get("payload"), {}
    outcome = refinalize(
        schema,
        previous,
        record,
        consensus,
        state.fields,
        state.content,
        single=rules.overlap <= 1,
    )
    if not outcome.agreed:
        replace_final_label(conn, state.item_id, None)
        return ADJUDICATION
    label = {
        "payload": outcome.payload,
        "method": outcome.method,
        "confidence": outcome.confidence,
        "agreement": outcome.agreement,
        "fields": outcome.fields,
        "decided_by": None,
        "reason": None,
    }
    replace_final_label(conn, state.item_id, label)
    sampled = sampled_for_review(rules.secret, state.item_id, rules.review_sampling_rate)
    return REVIEW if sampled else FINALIZED
