"""Task serving use cases (SPEC 5): next task, submit, skip.

The policy (what to serve, what a gold answer means) is `core.queue`; the
atomic claims are `storage.queue_store`; this module wires them together inside
one write transaction per request.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotary.core.consensus import gold_matches
from annotary.core.queue import (
    FLAGS,
    AnnotatorState,
    QueueRules,
    Refuse,
    ServeGold,
    ServeQualification,
    after_gold_answer,
    choose_next,
)
from annotary.core.schema.fields import AnnotationSchema
from annotary.core.schema.validation import validate_annotation
from annotary.errors import (
    E_ANNOTATION_INVALID,
    E_LEASE_NOT_FOUND,
    E_QUALIFICATION_FAILED,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
)
from annotary.services.access import WORKERS, Actor, worker_membership
from annotary.services.finalize import escalate_item, finalize_if_complete
from annotary.services.projects import current_schema
from annotary.services.workflow import lease_timeout, queue_rules
from annotary.storage.db import Database, write_transaction
from annotary.storage.models import (
    Annotation,
    GoldAnswer,
    Item,
    Lease,
    Membership,
    Prelabel,
    Project,
    Skip,
    User,
    utcnow,
)
from annotary.storage.queue_store import (
    claim_gold,
    claim_regular,
    create_lease,
    live_lease,
    reclaim_expired,
)


@dataclass(frozen=True)
class Task:
    """What an annotator is served: the item, its schema version and a lease."""

    lease_id: int
    expires_at: datetime
    item_id: int
    kind: str
    content: dict[str, Any]
    metadata: dict[str, Any]
    schema_version: int
    guideline_version: int
    prelabels: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lease_id": self.lease_id,
            "expires_at": as_utc(self.expires_at).isoformat(),
            "item": {
                "id": self.item_id,
                "kind": self.kind,
                "content": self.content,
                "metadata": self.metadata,
            },
            "schema_version": self.schema_version,
            "guideline_version": self.guideline_version,
            "prelabels": self.prelabels,
        }


@dataclass(frozen=True)
class SubmitResult:
    """What a submit did: the stored annotation and the item's new status."""

    annotation_id: int | None
    item_status: str


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def next_task(
    db: Database, actor: Actor, project_name: str, rng: random.Random | None = None
) -> Task | None:
    """Serve the annotator's next task (see `core.queue`); None when nothing is left."""
    draw_source = rng or random.Random()
    with write_transaction(db.sessions) as session:
        project, membership = worker_membership(session, actor, WORKERS, name=project_name)
        now = utcnow()
        if _reclaim_due(db, project.id):
            reclaim_expired(session, project.id, now)
        lease = live_lease(session, project.id, actor.user_id, now)
        if lease is not None:
            return _task_for(session, project, lease, None)
        item = _claim(session, project, membership, draw_source)
        if item is None and reclaim_expired(session, project.id, now):
            item = _claim(session, project, membership, draw_source)
        if item is None:
            return None
        lease = create_lease(
            session, project.id, item.id, actor.user_id, now + lease_timeout(project)
        )
        return _task_for(session, project, lease, item)


def _reclaim_due(db: Database, project_id: int) -> bool:
    """Expired leases are swept at most once a second per process and project (and
    whenever nothing else is left to serve), not on every request."""
    if db.recent_sweeps.get(project_id) is not None:
        return False
    db.recent_sweeps.put(project_id, True)
    return True


def _claim(
    session: Session, project: Project, membership: Membership, rng: random.Random
) -> Item | None:
    rules = queue_rules(project)
    skills: frozenset[str] = frozenset()
    if any(route.skills for route in rules.routes):
        user = session.get(User, membership.user_id)
        skills = frozenset(user.skills if user else ())
    state = AnnotatorState(
        role=membership.role,
        skills=skills,
        terms_accepted=membership.terms_accepted_at is not None,
        paused=membership.paused_at is not None,
        pause_reason=membership.pause_reason,
        qualified=membership.qualified_at is not None,
        qualification_failed=membership.qualification_failed_at is not None,
    )
    decision = choose_next(state, rules, rng.random())
    if isinstance(decision, Refuse):
        raise Forbidden(decision.code, decision.reason)
    if isinstance(decision, ServeQualification):
        found = claim_gold(session, project.id, membership.user_id, rng, qualification=True)
        if found is not None:
            return session.get(Item, found)
        _decide_qualification_early(membership, rules)
        return _claim(session, project, membership, rng)
    if isinstance(decision, ServeGold):
        found = claim_gold(session, project.id, membership.user_id, rng)
        if found is not None:
            return session.get(Item, found)
        routes = decision.regular
    else:
        routes = decision.routes
    return claim_regular(session, project.id, membership.user_id, rules.overlap, routes)


def _decide_qualification_early(membership: Membership, rules: QueueRules) -> None:
    """No qualification items are left: decide on what was answered, if anything."""
    answered = membership.qualification_answered
    if answered == 0:
        raise Forbidden(
            E_QUALIFICATION_FAILED,
            "this project requires a qualification but has no gold items to serve; "
            "ask a manager to import gold answers",
        )
    passed = membership.qualification_correct / answered >= rules.qualification_pass_mark
    if passed:
        membership.qualified_at = utcnow()
    else:
        membership.qualification_failed_at = utcnow()
        raise Forbidden(
            E_QUALIFICATION_FAILED,
            "you did not pass the qualification; ask a manager for another attempt",
        )


def _task_for(session: Session, project: Project, lease: Lease, item: Item | None) -> Task:
    item = item or session.get(Item, lease.item_id)
    assert item is not None  # a lease always points at an existing item (foreign key)
    prelabels = session.execute(
        select(Prelabel.model, Prelabel.annotation, Prelabel.confidence)
        .where(Prelabel.item_id == item.id)
        .order_by(Prelabel.id)
    ).all()
    return Task(
        lease_id=lease.id,
        expires_at=lease.expires_at,
        item_id=item.id,
        kind=item.kind,
        content=item.content,
        metadata=item.meta,
        schema_version=project.schema_version,
        guideline_version=project.guideline_version,
        prelabels=[
            {"model": model, "annotation": annotation, "confidence": confidence}
            for model, annotation, confidence in prelabels
        ],
    )


def _own_lease(session: Session, actor: Actor, lease_id: int) -> tuple[Lease, Item]:
    """The caller's lease and its item, both locked for the rest of the transaction."""
    row = session.execute(
        select(Lease, Item)
        .join(Item, Item.id == Lease.item_id)
        .where(Lease.id == lease_id)
        .with_for_update()
    ).first()
    if row is None or row[0].user_id != actor.user_id:
        raise NotFound(
            E_LEASE_NOT_FOUND,
            f"task {lease_id} is not leased to you (it may have expired and gone to someone "
            "else); ask for the next task",
        )
    return row[0], row[1]


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
    finalized or sent to adjudication; flags escalate the item to experts.
    """
    errors = _check_flags(flags)
    if annotation is None and not flags:
        errors.append(FieldError("annotation", "is required unless the task is flagged"))
    if errors:
        raise Invalid(E_ANNOTATION_INVALID, "the submission is invalid", errors)
    with write_transaction(db.sessions) as session:
        lease, item = _own_lease(session, actor, lease_id)
        project, membership = worker_membership(
            session, actor, WORKERS, project_id=lease.project_id
        )
        schema = current_schema(session, project)
        if annotation is not None:
            problems = validate_annotation(schema, annotation, item.content)
            if problems:
                raise Invalid(
                    E_ANNOTATION_INVALID,
                    f"the annotation does not match schema v{project.schema_version}",
                    [
                        FieldError(f"annotation.{p.path}" if p.path else "annotation", p.reason)
                        for p in problems
                    ],
                )
        now = utcnow()
        spent = time_spent_ms
        if spent is None:
            spent = int((now - as_utc(lease.created_at)).total_seconds() * 1000)
        session.delete(lease)
        item.lease_count -= 1
        stored: Annotation | None = None
        if annotation is not None:
            gold_correct = _score_gold(session, project, membership, item, schema, annotation)
            stored = Annotation(
                item_id=item.id,
                user_id=actor.user_id,
                project_id=project.id,
                payload=annotation,
                schema_version=project.schema_version,
                guideline_version=project.guideline_version,
                time_spent_ms=max(spent, 0),
                flags=list(flags),
                gold_correct=gold_correct,
            )
            session.add(stored)
            item.annotation_count += 1
        session.flush()
        if flags and not item.is_gold:
            escalate_item(session, project, item, actor, flags, note)
        elif not item.is_gold:
            finalize_if_complete(session, project, item, schema)
        return SubmitResult(stored.id if stored else None, item.status)


def _check_flags(flags: tuple[str, ...]) -> list[FieldError]:
    return [
        FieldError(f"flags[{i}]", f"unknown flag {flag!r}; valid: {', '.join(FLAGS)}")
        for i, flag in enumerate(flags)
        if flag not in FLAGS
    ]


def _score_gold(
    session: Session,
    project: Project,
    membership: Membership,
    item: Item,
    schema: AnnotationSchema,
    annotation: dict[str, Any],
) -> bool | None:
    """Score an answer to a gold item and update the annotator's standing.

    A gold answer with no comparable field (only free text) cannot be scored:
    the answer is stored unscored (None) and the annotator's counts stay as
    they were, rather than counting it as right.
    """
    if not item.is_gold:
        return None
    gold = session.scalar(select(GoldAnswer).where(GoldAnswer.item_id == item.id))
    assert gold is not None  # gold items are created with their answer
    matches = gold_matches(schema, gold.answer, annotation)
    if not matches:
        return None
    correct = all(matches.values())
    rules = queue_rules(project)
    qualifying = rules.qualification_items is not None and membership.qualified_at is None
    if qualifying:
        membership.qualification_answered += 1
        membership.qualification_correct += int(correct)
        answered, right = membership.qualification_answered, membership.qualification_correct
    else:
        membership.gold_answered += 1
        membership.gold_correct += int(correct)
        answered, right = membership.gold_answered, membership.gold_correct
    outcome = after_gold_answer(rules, qualifying, answered, right)
    if outcome.qualified:
        membership.qualified_at = utcnow()
    if outcome.qualification_failed:
        membership.qualification_failed_at = utcnow()
    if outcome.pause_reason is not None and membership.paused_at is None:
        membership.paused_at = utcnow()
        membership.pause_reason = outcome.pause_reason
    return correct


def skip_task(db: Database, actor: Actor, lease_id: int, reason: str) -> None:
    """Give a task back with a reason; it is not served to this annotator again."""
    if not reason.strip():
        raise Invalid(
            E_ANNOTATION_INVALID,
            "a skip needs a reason",
            [FieldError("reason", "must not be empty")],
        )
    with write_transaction(db.sessions) as session:
        lease, item = _own_lease(session, actor, lease_id)
        session.delete(lease)
        item.lease_count -= 1
        session.add(Skip(item_id=item.id, user_id=actor.user_id, reason=reason.strip()[:500]))
