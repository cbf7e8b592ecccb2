"""Senior work on items (SPEC 4-5): adjudication, escalations, review sampling.

- adjudication: items whose annotators disagreed; a reviewer (or the project's
  adjudication tier) sees every annotation and records the final answer.
- escalations: flagged items; an expert finalizes them or sends them back.
- review: a sample of finalized items; a reviewer confirms or overrides.

Routing holds here too (`core.queue.senior_routes`): an item under a routing
rule is served to, and decided by, only seniors of the rule's tier with one
of its skills (a rule on the item's flag, for escalations); managers and
admins take any item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotary.core.consensus.outcome import ItemConsensus
from annotary.core.queue import TIER_RANK, AnnotatorState, RouteFilter, match_route, senior_routes
from annotary.core.schema.validation import validate_annotation
from annotary.errors import (
    E_ANNOTATION_INVALID,
    E_FORBIDDEN,
    E_ITEM_NOT_FOUND,
    E_ITEM_ROUTED_ELSEWHERE,
    E_ITEM_STATE,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
)
from annotary.services.audit import record_event
from annotary.services.identity.access import (
    EXPERT,
    MANAGER,
    REVIEWER,
    Actor,
    project_for,
    require_role,
)
from annotary.services.projects import current_schema
from annotary.services.queue.finalize import (
    ADJUDICATION,
    ESCALATED,
    FINALIZED,
    QUEUED,
    REVIEW,
    consensus_for,
    finalize_if_complete,
)
from annotary.services.queue.workflow import queue_rules, routes_of
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import (
    Annotation,
    FinalLabel,
    Item,
    ItemFlag,
    Project,
    User,
    utcnow,
)
from annotary.storage.review_store import head_of_senior_queue, skills_of
from annotary.storage.rework_store import last_rework_of

SeniorQueue = Literal["adjudication", "escalated", "review"]
SENIOR = frozenset({REVIEWER, EXPERT, MANAGER})
EXPERTS = frozenset({EXPERT, MANAGER})


@dataclass(frozen=True)
class Case:
    """An item with everything a senior needs to decide on it."""

    item_id: int
    status: str
    kind: str
    content: dict[str, Any]
    metadata: dict[str, Any]
    annotations: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    suggestion: dict[str, Any] | None
    agreement: float | None
    final: dict[str, Any] | None
    rework: dict[str, Any] | None = None
    """The item's last completed rework (SPEC 8): the fields redone, the versions
    and the final label it had before (`previous_final`)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": {
                "id": self.item_id,
                "status": self.status,
                "kind": self.kind,
                "content": self.content,
                "metadata": self.metadata,
            },
            "annotations": self.annotations,
            "flags": self.flags,
            "suggestion": self.suggestion,
            "agreement": self.agreement,
            "final": self.final,
            "rework": self.rework,
        }


def _adjudication_tier(project: Project) -> str:
    tier: str = project.definition.get("workflow", {}).get("adjudication_tier", REVIEWER)
    return tier


def _adjudicators(project: Project) -> frozenset[str]:
    tier = _adjudication_tier(project)
    return frozenset(r for r in SENIOR if r == MANAGER or TIER_RANK[r] >= TIER_RANK[tier])


def next_case(
    db: Database,
    actor: Actor,
    project_name: str,
    queue: Literal["adjudication", "escalated", "review"],
) -> Case | None:
    """The oldest highest-priority item waiting in a senior queue."""
    with read_session(db.sessions) as session:
        project = project_for(session, actor, project_name)
        routes = _senior_filter(session, actor, project, queue)
        item = head_of_senior_queue(session, project.id, queue, routes)
        return _case(session, project, item, db) if item is not None else None


def _senior_filter(session: Session, actor: Actor, project: Project, queue: str) -> RouteFilter:
    """Which items of `queue` the actor may take (403 when none ever)."""
    membership = require_role(session, actor, project, SENIOR)
    rules = routes_of(project.definition.get("workflow", {}))
    if membership is None or actor.is_admin:
        return RouteFilter(base=True, rules=frozenset(range(len(rules))))
    state = AnnotatorState(membership.role, skills_of(session, actor.user_id))
    allowed = senior_routes(state, rules, queue, _adjudication_tier(project))
    if not allowed.base and not allowed.rules:
        raise Forbidden(
            E_FORBIDDEN,
            f"your role {membership.role!r} in {project.name!r} cannot do this; "
            f"needs one of: {', '.join(sorted(_roles_for(project, queue)))}",
        )
    return allowed


def _roles_for(project: Project, queue: str) -> frozenset[str]:
    if queue == ADJUDICATION:
        return _adjudicators(project)
    if queue == ESCALATED:
        return EXPERTS
    return SENIOR


def _case(session: Session, project: Project, item: Item, db: Database) -> Case:
    rows = session.execute(
        select(Annotation, User.username)
        .join(User, User.id == Annotation.user_id)
        .where(Annotation.item_id == item.id)
        .order_by(Annotation.id)
    ).all()
    flags = session.execute(
        select(ItemFlag, User.username)
        .outerjoin(User, User.id == ItemFlag.user_id)
        .where(ItemFlag.item_id == item.id)
        .order_by(ItemFlag.id)
    ).all()
    final = session.scalar(select(FinalLabel).where(FinalLabel.item_id == item.id))
    schema = current_schema(session, project)
    answers = [(annotation.user_id, annotation.payload) for annotation, _ in rows]
    consensus = (
        consensus_for(
            session.connection(),
            queue_rules(project),
            project.id,
            schema,
            answers,
            item.content,
            db.plugins,
        )
        if answers
        else None
    )
    return Case(
        item_id=item.id,
        status=item.status,
        kind=item.kind,
        content=item.content,
        metadata=item.meta,
        annotations=[
            {
                "id": a.id,
                "annotator": username,
                "payload": a.payload,
                "time_spent_ms": a.time_spent_ms,
                "flags": a.flags,
                "schema_version": a.schema_version,
                "guideline_version": a.guideline_version,
            }
            for a, username in rows
        ],
        flags=[
            {"flag": f.flag, "note": f.note, "by": username, "resolved": f.resolved_at is not None}
            for f, username in flags
        ],
        suggestion=_suggestion(consensus, rows) if consensus else None,
        agreement=consensus.agreement if consensus else None,
        final=(
            {
                "payload": final.payload,
                "method": final.method,
                "reason": final.reason,
                "agreement": final.agreement,
                "confidence": final.confidence,
                "fields": final.fields,
            }
            if final
            else None
        ),
        rework=last_rework_of(session, item.id),
    )


def _suggestion(consensus: ItemConsensus, rows: Any) -> dict[str, Any]:
    """The consensus as a starting point: `payload` (a complete answer, free text
    awaiting review filled with its first answer), per-field `fields` (method,
    agreement, threshold, whether it passed), the candidate `texts` of each such
    free-text field (which annotation, who, and the text; per turn for per-turn
    fields) and `problems` (why the combined answer is not a valid annotation)."""
    texts: dict[str, list[dict[str, Any]]] = {}
    for name, outcome in consensus.fields.items():
        if not outcome.needs_review:
            continue
        for annotation, username in rows:
            value = annotation.payload.get(name)
            entries = value.items() if isinstance(value, dict) else [(None, value)]
            for turn, text in entries:
                if isinstance(text, str) and text.strip():
                    candidate = {"annotation_id": annotation.id, "annotator": username}
                    texts.setdefault(name, []).append(
                        {**candidate, **({} if turn is None else {"turn": turn}), "text": text}
                    )
    return {
        "payload": consensus.payload,
        "fields": {
            name: {**outcome.record(), "passed": outcome.passed}
            for name, outcome in consensus.fields.items()
        },
        "texts": texts,
        "problems": list(consensus.problems),
    }


def _locked_item(
    session: Session, actor: Actor, project: Project, item_id: int, status: str
) -> Item:
    """The item, locked, once the actor may decide it (its routing) and it waits in
    the `status` queue."""
    routes = _senior_filter(session, actor, project, status)
    item = session.scalar(
        select(Item).where(Item.id == item_id, Item.project_id == project.id).with_for_update()
    )
    if item is None:
        raise NotFound(E_ITEM_NOT_FOUND, f"no item {item_id} in project {project.name!r}")
    if not routes.allows(item.route_rule):
        raise Forbidden(
            E_ITEM_ROUTED_ELSEWHERE,
            f"item {item_id} is routed to another tier or skill (project routing rule "
            f"{item.route_rule}); a manager or one of its seniors decides it",
        )
    if item.status != status:
        raise Conflict(
            E_ITEM_STATE,
            f"item {item_id} is {item.status!r}, not {status!r}; someone may have decided it",
        )
    return item


def _checked_payload(session: Session, project: Project, item: Item, payload: Any) -> None:
    schema = current_schema(session, project)
    if not isinstance(payload, dict):
        raise Invalid(
            E_ANNOTATION_INVALID,
            "the decision needs an annotation object",
            [FieldError("payload", "must be an annotation object")],
        )
    problems = validate_annotation(schema, payload, item.content)
    if problems:
        raise Invalid(
            E_ANNOTATION_INVALID,
            "the decision does not match the schema",
            [FieldError(f"payload.{p.path}" if p.path else "payload", p.reason) for p in problems],
        )


def _set_final(
    session: Session, item: Item, payload: dict[str, Any], method: str, actor: Actor, reason: str
) -> None:
    final = session.scalar(select(FinalLabel).where(FinalLabel.item_id == item.id))
    if final is None:
        final = FinalLabel(item_id=item.id)
        session.add(final)
    final.payload = payload
    final.method = method
    final.decided_by = actor.user_id
    final.reason = reason
    final.confidence = 1.0
    final.fields = {}  # a human decision: no machine per-field record stands
    item.status = FINALIZED


def adjudicate(
    db: Database, actor: Actor, project_name: str, item_id: int, payload: Any, reason: str
) -> None:
    """Record the final answer of an item whose annotators disagreed."""
    with write_transaction(db.sessions) as session:
        project = project_for(session, actor, project_name)
        item = _locked_item(session, actor, project, item_id, ADJUDICATION)
        _checked_payload(session, project, item, payload)
        _set_final(session, item, payload, "adjudication", actor, reason)
        _audit(session, actor, project, item, "item.adjudicate", reason)


def resolve_escalation(
    db: Database,
    actor: Actor,
    project_name: str,
    item_id: int,
    action: Literal["finalize", "requeue"],
    payload: Any,
    reason: str,
) -> None:
    """An expert decides a flagged item, or sends it back to the queue."""
    with write_transaction(db.sessions) as session:
        project = project_for(session, actor, project_name)
        item = _locked_item(session, actor, project, item_id, ESCALATED)
        if action == "finalize":
            _checked_payload(session, project, item, payload)
            _set_final(session, item, payload, "expert", actor, reason)
        else:
            # Back under the rule its metadata matches: routing holds after a flag.
            item.status = QUEUED
            rules = routes_of(project.definition.get("workflow", {}))
            item.route_rule = match_route(rules, item.meta)
            schema = current_schema(session, project)
            finalize_if_complete(session, project, item, schema, db.plugins)
        for flag in session.scalars(
            select(ItemFlag).where(ItemFlag.item_id == item.id, ItemFlag.resolved_at.is_(None))
        ):
            flag.resolved_at = utcnow()
            flag.resolved_by = actor.user_id
        _audit(session, actor, project, item, f"item.escalation.{action}", reason)


def review_item(
    db: Database,
    actor: Actor,
    project_name: str,
    item_id: int,
    verdict: Literal["confirm", "override"],
    payload: Any,
    reason: str,
) -> None:
    """Confirm a sampled final label, or replace it."""
    with write_transaction(db.sessions) as session:
        project = project_for(session, actor, project_name)
        item = _locked_item(session, actor, project, item_id, REVIEW)
        if verdict == "override":
            _checked_payload(session, project, item, payload)
            _set_final(session, item, payload, "review", actor, reason)
        else:
            item.status = FINALIZED
        _audit(session, actor, project, item, f"item.review.{verdict}", reason)


def _audit(
    session: Session, actor: Actor, project: Project, item: Item, action: str, reason: str
) -> None:
    record_event(
        session,
        action,
        actor_id=actor.user_id,
        project_id=project.id,
        target=f"item:{item.id}",
        details={"reason": reason},
        source=actor.source,
    )
