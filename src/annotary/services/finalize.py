"""What happens to an item once its annotations are in, or when it is flagged.

Called inside the submitting transaction with the item row locked.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotary.core.aggregation import WeightedVote
from annotary.core.consensus import majority_consensus
from annotary.core.queue import flag_route, sampled_for_review
from annotary.core.schema.fields import AnnotationSchema
from annotary.services.access import Actor
from annotary.services.workflow import queue_rules, routes_of
from annotary.storage.models import Annotation, FinalLabel, Item, ItemFlag, Membership, Project

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
    else send the item to adjudication. A single annotation (overlap 1) is final.

    The consensus follows `workflow.aggregation`: `majority`, or `weighted`
    (each vote weighs the log-odds of its annotator's smoothed gold accuracy).
    `dawid_skene` needs the whole project, so items complete by majority vote
    and `annotary qa aggregate` refits Dawid-Skene and relabels them later.
    """
    rules = queue_rules(project)
    if item.status != QUEUED or item.annotation_count < rules.overlap:
        return
    rows = session.execute(
        select(Annotation.user_id, Annotation.payload)
        .where(Annotation.item_id == item.id)
        .order_by(Annotation.id)
    ).all()
    payloads = [payload for _, payload in rows]
    method = "weighted" if rules.aggregation == "weighted" else "majority"
    weights = (
        _gold_weights(session, project, [u for u, _ in rows]) if method == "weighted" else None
    )
    consensus = majority_consensus(schema, payloads, weights)
    agreed = consensus.agreement is not None and consensus.agreement >= rules.agreement_threshold
    if rules.overlap > 1 and not agreed:
        item.status = ADJUDICATION
        return
    session.add(
        FinalLabel(
            item_id=item.id,
            payload=consensus.payload,
            method=method,
            confidence=consensus.confidence,
            agreement=consensus.agreement,
        )
    )
    item.status = REVIEW if sampled_for_review(item.id, rules.review_sampling_rate) else FINALIZED


def _gold_weights(session: Session, project: Project, user_ids: list[int]) -> list[float]:
    """Per annotation, its annotator's weight: the log-odds of their gold accuracy,
    Laplace-smoothed (`WeightedVote.from_gold`, two outcomes: right or wrong).

    An annotator without gold answers (accuracy 1/2) or at chance weighs 0; if
    every vote weighs 0 the consensus falls back to a plain majority.
    """
    counts = {
        user: (correct, answered)
        for user, correct, answered in session.execute(
            select(Membership.user_id, Membership.gold_correct, Membership.gold_answered).where(
                Membership.project_id == project.id, Membership.user_id.in_(set(user_ids))
            )
        )
    }
    correct = [counts.get(u, (0, 0))[0] for u in user_ids]
    answered = [counts.get(u, (0, 0))[1] for u in user_ids]
    weights = WeightedVote.from_gold(correct, answered, n_labels=2).weights
    return [float(w) for w in weights]


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
