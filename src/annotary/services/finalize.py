"""What happens to an item once its annotations are in, or when it is flagged.

Called inside the submitting transaction with the item row locked.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotary.core.consensus import majority_consensus
from annotary.core.queue import flag_route, sampled_for_review
from annotary.core.schema.fields import AnnotationSchema
from annotary.services.access import Actor
from annotary.services.workflow import queue_rules, routes_of
from annotary.storage.models import Annotation, FinalLabel, Item, ItemFlag, Project

QUEUED, FINALIZED, REVIEW, ADJUDICATION, ESCALATED = (
    "queued",
    "finalized",
    "review",
    "adjudication",
    "escalated",
)


def finalize_if_complete(
    session: Session, project: Project, item: Item, schema: AnnotationSchema
) -> None:
    """At overlap: finalize with the consensus if agreement reaches the threshold,
    else send the item to adjudication. A single annotation (overlap 1) is final."""
    rules = queue_rules(project)
    if item.status != QUEUED or item.annotation_count < rules.overlap:
        return
    payloads = session.scalars(
        select(Annotation.payload).where(Annotation.item_id == item.id).order_by(Annotation.id)
    ).all()
    consensus = majority_consensus(schema, payloads)
    agreed = consensus.agreement is not None and consensus.agreement >= rules.agreement_threshold
    if rules.overlap > 1 and not agreed:
        item.status = ADJUDICATION
        return
    session.add(
        FinalLabel(
            item_id=item.id,
            payload=consensus.payload,
            method="majority",
            confidence=consensus.agreement,
            agreement=consensus.agreement,
        )
    )
    item.status = REVIEW if sampled_for_review(item.id, rules.review_sampling_rate) else FINALIZED


def escalate_item(
    session: Session,
    project: Project,
    item: Item,
    actor: Actor,
    flags: Sequence[str],
    note: str | None,
) -> None:
    """Record the flags and move the item to the escalation queue.

    A routing rule on one of the flags decides who handles it; without one,
    experts do.
    """
    for flag in flags:
        session.add(ItemFlag(item_id=item.id, user_id=actor.user_id, flag=flag, note=note))
    if item.status in (QUEUED, ADJUDICATION):
        item.status = ESCALATED
        rule = flag_route(routes_of(project.definition.get("workflow", {})), flags)
        if rule is not None:
            item.route_rule = rule
