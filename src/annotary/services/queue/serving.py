"""Task serving use cases (SPEC 5): next task, submit, skip.

The policy (what to serve, what a gold answer means) is `core.queue`; the
atomic claims are `storage.queue_store` and `storage.gold_store`; what a
submit does to the annotator's standing is `standing`; rework tasks (an
annotator redoing fields of their own annotation, SPEC 8) are `rework_tasks`;
this module wires them together inside one write transaction per request, in
as few statements as it can: these are the server's hottest paths.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from annotary.core.plugins.registry import Plugins
from annotary.core.queue import (
    FLAGS,
    AnnotatorState,
    QueueRules,
    Refuse,
    ServeGold,
    ServeQualification,
    ServeRework,
    choose_next,
    item_reference,
)
from annotary.core.schema.fields import AnnotationSchema
from annotary.core.schema.validation import validate_annotation
from annotary.errors import (
    E_ANNOTATION_INVALID,
    E_FORBIDDEN,
    E_NOT_MEMBER,
    FieldError,
    Forbidden,
    Invalid,
    quote,
)
from annotary.services.identity.access import WORKERS, Actor, project_for
from annotary.services.projects import schema_at
from annotary.services.queue.finalize import QUEUED, escalate, settle, store_final_label
from annotary.services.queue.rework_tasks import (
    ReworkLease,
    rework_view,
    serve_rework,
    skip_rework,
    submit_rework,
)
from annotary.services.queue.standing import count_and_score, decide_qualification_early
from annotary.services.queue.tasks import SubmitResult, Task, as_utc, lease_not_found
from annotary.services.queue.workflow import lease_timeout, rules_of
from annotary.storage.db import Database, write_connection
from annotary.storage.gold_store import claim_gold
from annotary.storage.models import User, utcnow
from annotary.storage.queue_store import (
    LeasedItem,
    Seat,
    claim_regular,
    leased_item,
    prelabels_of,
    reclaim_expired,
    seat_by_name,
)
from annotary.storage.rework_queue_store import REWORK
from annotary.storage.submit_store import (
    HeldLease,
    TurnIn,
    add_skip,
    answers_of,
    held_lease,
    set_item_state,
    turn_in_lease,
)


def next_task(
    db: Database, actor: Actor, project_name: str, rng: random.Random | None = None
) -> Task | None:
    """Serve the annotator's next task (see `core.queue`); None when nothing is left."""
    with write_connection(db.engine) as conn:
        served = _serve(db, conn, actor, project_name, rng or random.Random())
    # Raised after the commit: a refusal may have recorded a decided qualification.
    if isinstance(served, Refuse):
        raise Forbidden(served.code, served.reason)
    return served


def _serve(
    db: Database, conn: Connection, actor: Actor, project_name: str, rng: random.Random
) -> Task | Refuse | None:
    now = utcnow()
    found = seat_by_name(conn, actor.user_id, project_name, now)
    if found is None:
        _refuse_non_member(conn, actor, project_name)
    seat = found.seat
    _require_worker(seat)
    if _reclaim_due(db, seat.project_id):
        reclaim_expired(conn, seat.project_id, now)  # leaves the live lease, if any
    if found.live_lease is not None:
        live, status = leased_item(conn, found.live_lease)
        rework = rework_view(conn, seat, live.item_id) if status == REWORK else None
        return _task_for(conn, seat, live, rework)
    expires_at = now + lease_timeout(seat.definition)
    claim = _Claim(seat, rng, now, expires_at, db.plugins)
    leased = _claim(conn, claim, found.rework_row)
    if leased is None and reclaim_expired(conn, seat.project_id, now):
        leased = _claim(conn, claim, None)
    if isinstance(leased, ReworkLease):
        return _task_for(conn, seat, leased.leased, leased.view)
    if isinstance(leased, LeasedItem):
        return _task_for(conn, seat, leased)
    return leased


def _refuse_non_member(conn: Connection, actor: Actor, project_name: str) -> NoReturn:
    """Not a member: say so to those who may know the project, deny it exists to others."""
    with Session(bind=conn) as session:
        project = project_for(session, actor, project_name)
    raise Forbidden(E_NOT_MEMBER, f"you are not a member of project {project.name!r}")


def _require_worker(seat: Seat) -> None:
    if seat.role not in WORKERS:
        raise Forbidden(
            E_FORBIDDEN,
            f"your role {seat.role!r} in {seat.project_name!r} cannot do this; "
            f"needs one of: {', '.join(sorted(WORKERS))}",
        )


def _reclaim_due(db: Database, project_id: int) -> bool:
    """Expired leases are swept at most once a second per process and project (and
    whenever nothing else is left to serve), not on every request."""
    if db.recent_sweeps.get(project_id) is not None:
        return False
    db.recent_sweeps.put(project_id, True)
    return True


@dataclass(frozen=True)
class _Claim:
    """Who claims, when, and for how long."""

    seat: Seat
    rng: random.Random
    now: datetime
    expires_at: datetime
    plugins: Plugins | None


def _claim(
    conn: Connection, claim: _Claim, rework_row: int | None
) -> LeasedItem | ReworkLease | Refuse | None:
    seat, rng, now, expires_at = claim.seat, claim.rng, claim.now, claim.expires_at
    rules = rules_of(seat.definition, seat.secret)
    skills: frozenset[str] = frozenset()
    if any(route.skills for route in rules.routes):
        user_skills = conn.execute(select(User.skills).where(User.id == seat.user_id)).scalar()
        skills = frozenset(user_skills or ())
    state = AnnotatorState(
        role=seat.role,
        skills=skills,
        terms_accepted=seat.terms_accepted,
        paused=seat.paused,
        pause_reason=seat.pause_reason,
        qualified=seat.qualified,
        qualification_failed=seat.qualification_failed,
        rework_waiting=rework_row is not None,
    )
    decision = choose_next(state, rules, rng.random())
    if isinstance(decision, Refuse):
        return decision
    if isinstance(decision, ServeQualification):
        gold = claim_gold(conn, seat, rng.random(), now, expires_at, qualification=True)
        if gold is not None:
            return gold
        refusal = decide_qualification_early(conn, seat, rules, now)
        qualified = replace(claim, seat=replace(seat, qualified=True))
        return refusal or _claim(conn, qualified, rework_row)
    if isinstance(decision, ServeRework):
        assert rework_row is not None  # decided on it
        rework = serve_rework(
            conn, seat, decision.routes, rework_row, now, expires_at, claim.plugins
        )
        if rework is not None:
            return rework
        decision = decision.then
    if isinstance(decision, ServeGold):
        gold = claim_gold(conn, seat, rng.random(), now, expires_at)
        if gold is not None:
            return gold
        routes = decision.regular
    else:
        routes = decision.routes
    return claim_regular(conn, seat, rules.overlap, routes, now, expires_at)


def _task_for(
    conn: Connection, seat: Seat, leased: LeasedItem, rework: dict[str, Any] | None = None
) -> Task:
    prelabels = leased.prelabels
    if prelabels is None:
        prelabels = prelabels_of(conn, leased.item_id)
    ref = item_reference(bytes.fromhex(seat.secret), leased.item_id)
    return Task(leased, ref, seat.schema_version, seat.guideline_version, prelabels, rework)


def _hold(conn: Connection, actor: Actor, lease_id: int) -> HeldLease:
    """The caller's lease, its item and the caller's seat."""
    held = held_lease(conn, actor.user_id, lease_id)
    if held is None:
        raise lease_not_found(lease_id)
    return held


def submit_annotation(
    db: Database,
    actor: Actor,
    lease_id: int,
    annotation: dict[str, Any] | None,
    *,
    time_spent_ms: int | None = None,
    flags: tuple[str, ...] = (),
    note: str | None = None,
) -> SubmitResult:
    """Store an annotation (and/or flags) for a leased task, in one transaction.

    Gold items are scored and the annotator's accuracy updated (pausing or
    (dis)qualifying them); an item that reaches its overlap is aggregated and
    finalized or sent to adjudication; flags escalate the item to experts (on
    a gold item they are recorded, and the item stays gold). Everything that
    needs no lock comes first: the item row is locked only from the moment the
    annotation is counted on it to the commit.

    A gold and a normal item take the same statements and give the same
    answer; only completing an item's overlap, or a change in the annotator's
    standing (pause, qualification), takes more.
    """
    errors = _check_flags(flags)
    if annotation is None and not flags:
        errors.append(FieldError("annotation", "is required unless the task is flagged"))
    if errors:
        raise Invalid(E_ANNOTATION_INVALID, "the submission is invalid", errors)
    with write_connection(db.engine) as conn:
        held = _hold(conn, actor, lease_id)
        seat = held.seat
        if seat is None:
            raise Forbidden(E_NOT_MEMBER, "you are not a member of this project")
        _require_worker(seat)
        if held.item_status == REWORK:
            return SubmitResult(
                submit_rework(
                    conn,
                    seat,
                    held,
                    annotation,
                    time_spent_ms=time_spent_ms,
                    flags=flags,
                    note=note,
                    plugins=db.plugins,
                )
            )
        schema = schema_at(conn, seat.project_id, seat.schema_version)
        if annotation is not None:
            _check_annotation(schema, seat, annotation, held.item_content)
        now = utcnow()
        rules = rules_of(seat.definition, seat.secret)
        gold_correct = count_and_score(conn, seat, rules, held, schema, annotation, now)
        row = None
        if annotation is not None:
            spent = time_spent_ms
            if spent is None:
                spent = int((now - as_utc(held.created_at)).total_seconds() * 1000)
            row = {
                "user_id": actor.user_id,
                "project_id": seat.project_id,
                "payload": annotation,
                "schema_version": seat.schema_version,
                "guideline_version": seat.guideline_version,
                "time_spent_ms": max(spent, 0),
                "flags": list(flags),
                "gold_correct": gold_correct,
                "created_at": now,
            }
        turned = turn_in_lease(conn, held, row)
        if turned is None:
            raise lease_not_found(lease_id)
        if flags:
            # A gold item keeps its status (`escalate` moves queued and
            # adjudication items only) but its flags are recorded.
            status, rule = escalate(
                conn,
                rules.routes,
                held.item_id,
                held.item_metadata,
                turned.status,
                turned.route_rule,
                actor.user_id,
                flags,
                note,
            )
            set_item_state(conn, held.item_id, status, rule)
        elif annotation is not None and _completes(held, turned, rules):
            answers = answers_of(conn, held.item_id)
            settlement = settle(
                conn, rules, seat.project_id, held.item_id, schema, answers, db.plugins
            )
            set_item_state(conn, held.item_id, settlement.status, turned.route_rule)
            store_final_label(conn, settlement)
        return SubmitResult(turned.annotation_id)


def _completes(held: HeldLease, turned: TurnIn, rules: QueueRules) -> bool:
    """Whether a queued regular item just reached its overlap."""
    queued = turned.status == QUEUED and not held.is_gold
    return queued and turned.annotation_count >= rules.overlap


def _check_annotation(
    schema: AnnotationSchema, seat: Seat, annotation: dict[str, Any], content: dict[str, Any]
) -> None:
    problems = validate_annotation(schema, annotation, content)
    if problems:
        raise Invalid(
            E_ANNOTATION_INVALID,
            f"the annotation does not match schema v{seat.schema_version}",
            [
                FieldError(f"annotation.{p.path}" if p.path else "annotation", p.reason)
                for p in problems
            ],
        )


def _check_flags(flags: tuple[str, ...]) -> list[FieldError]:
    return [
        FieldError(f"flags[{i}]", f"unknown flag {quote(flag)}; valid: {', '.join(FLAGS)}")
        for i, flag in enumerate(flags)
        if flag not in FLAGS
    ]


def skip_task(db: Database, actor: Actor, lease_id: int, reason: str) -> None:
    """Give a task back with a reason; it is not served to this annotator again."""
    if not reason.strip():
        raise Invalid(
            E_ANNOTATION_INVALID,
            "a skip needs a reason",
            [FieldError("reason", "must not be empty")],
        )
    with write_connection(db.engine) as conn:
        held = _hold(conn, actor, lease_id)
        if held.item_status == REWORK:
            skip_rework(conn, held, actor.user_id, reason.strip()[:500], db.plugins)
            return
        if turn_in_lease(conn, held, None) is None:
            raise lease_not_found(lease_id)
        add_skip(conn, held.item_id, actor.user_id, reason.strip()[:500])
