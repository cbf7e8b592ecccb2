"""What happens to an item once its annotations are in, or when it is flagged.

Called inside the submitting transaction with the item row locked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotary.core.aggregation import WeightedVote, item_posterior
from annotary.core.consensus import Consensus, majority_consensus
from annotary.core.queue import flag_route, sampled_for_review
from annotary.core.schema.fields import AnnotationSchema
from annotary.services.access import Actor
from annotary.services.workflow import queue_rules, routes_of
from annotary.storage.models import (
    Annotation,
    AnnotatorModel,
    FinalLabel,
    Item,
    ItemFlag,
    Membership,
    Project,
)

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

    The consensus follows `workflow.aggregation`: `majority`; `weighted` (each
    vote weighs the log-odds of its annotator's smoothed gold accuracy); or
    `dawid_skene`, which labels single-choice fields with the posterior under the
    parameters of the last project-wide fit (`annotary qa aggregate`), and falls
    back to a majority vote until there is one. The agreement compared with the
    threshold is always the plain share of annotations that agree.
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
    users = [user for user, _ in rows]
    method = "weighted" if rules.aggregation == "weighted" else "majority"
    weights = _gold_weights(session, project, users) if method == "weighted" else None
    consensus = majority_consensus(schema, payloads, weights)
    if rules.aggregation == "dawid_skene":
        refined = dawid_skene_consensus(session, project, consensus, users, payloads)
        if refined is not None:
            method, consensus = "dawid_skene", refined
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


def dawid_skene_consensus(
    session: Session,
    project: Project,
    consensus: Consensus,
    users: list[int],
    payloads: list[dict[str, Any]],
) -> Consensus | None:
    """The majority consensus with every fitted field replaced by its Dawid-Skene
    posterior label; None when the project has no fitted model yet.

    Annotators the fit has not seen get the average confusion matrix of those
    it has; confidence is the smallest posterior of the chosen labels.
    """
    models = session.scalars(
        select(AnnotatorModel).where(
            AnnotatorModel.project_id == project.id, AnnotatorModel.method == "dawid_skene"
        )
    ).all()
    if not models:
        return None
    payload = dict(consensus.payload)
    confidence = 1.0
    for model in models:
        params = model.params
        labels: list[str] = params["labels"]
        known = {int(u): np.asarray(m, dtype=np.float64) for u, m in params["errors"].items()}
        average: npt.NDArray[np.float64] = np.mean(list(known.values()), axis=0)
        votes = [
            (known.get(user, average), labels.index(p[model.field]))
            for user, p in zip(users, payloads, strict=True)
            if p.get(model.field) in labels
        ]
        if not votes:
            continue
        posterior = item_posterior(
            params["priors"], [m for m, _ in votes], [label for _, label in votes]
        )
        best = int(np.argmax(posterior))
        payload[model.field] = labels[best]
        confidence = min(confidence, float(posterior[best]))
    return Consensus(payload, consensus.agreement, consensus.per_field, confidence)
