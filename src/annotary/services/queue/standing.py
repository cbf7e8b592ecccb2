"""A member's standing in a project (SPEC 5): what each submit adds to their
counts, gold scoring, pausing and the qualification.

Called inside the queue's write transaction (`serving`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from annotary.core.consensus import gold_matches
from annotary.core.queue import QueueRules, Refuse, after_gold_answer
from annotary.core.schema.fields import AnnotationSchema
from annotary.errors import E_QUALIFICATION_FAILED
from annotary.storage.queue_store import Seat
from annotary.storage.submit_store import HeldLease, count_submit, mark_member, pause_member


def count_and_score(
    conn: Connection,
    seat: Seat,
    rules: QueueRules,
    held: HeldLease,
    schema: AnnotationSchema,
    annotation: dict[str, Any] | None,
    now: datetime,
) -> bool | None:
    """Count the submit on the member and, for an answer to a gold item, score it
    and update the annotator's standing; whether it was right.

    One counter update for every submit, gold or not. A gold answer with no
    comparable field (only free text) cannot be scored: it is stored unscored
    (None) and the gold counts stay as they were, rather than counting it as
    right. Pausing or (dis)qualifying the annotator takes a statement more, at
    the moment their standing changes.
    """
    correct = None
    if held.gold_answer is not None and annotation is not None:
        matches = gold_matches(schema, held.gold_answer, annotation)
        correct = all(matches.values()) if matches else None
    qualifying = rules.qualification_items is not None and not seat.qualified
    counts = count_submit(
        conn,
        seat.membership_id,
        now,
        annotated=annotation is not None,
        gold_correct=correct,
        qualifying=qualifying,
    )
    if correct is None:
        return None
    if qualifying:
        outcome = after_gold_answer(
            rules, True, counts.qualification_answered, counts.qualification_correct
        )
    else:
        outcome = after_gold_answer(rules, False, counts.gold_answered, counts.gold_correct)
    if outcome.qualified:
        mark_member(conn, seat.membership_id, qualified_at=now)
    if outcome.qualification_failed:
        mark_member(conn, seat.membership_id, qualification_failed_at=now)
    if outcome.pause_reason is not None:
        pause_member(conn, seat.membership_id, outcome.pause_reason, now)
    return correct


def decide_qualification_early(
    conn: Connection, seat: Seat, rules: QueueRules, now: datetime
) -> Refuse | None:
    """No qualification items are left: decide on what was answered, if anything."""
    answered = seat.qualification_answered
    if answered == 0:
        return Refuse(
            E_QUALIFICATION_FAILED,
            "this project requires a qualification but has no gold items to serve; "
            "ask a manager to import gold answers",
        )
    if seat.qualification_correct / answered >= rules.qualification_pass_mark:
        mark_member(conn, seat.membership_id, qualified_at=now)
        return None
    mark_member(conn, seat.membership_id, qualification_failed_at=now)
    return Refuse(
        E_QUALIFICATION_FAILED,
        "you did not pass the qualification; ask a manager for another attempt",
    )
