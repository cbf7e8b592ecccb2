"""What happens to an item once its annotations are in, or when it is flagged.

Called inside the submitting transaction with the item row locked. The queue's
submit decides the outcome before it writes the item once (`settle`); review
works on ORM items (`finalize_if_complete`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from annotary.core.aggregation import WeightedVote, item_posterior
from annotary.core.consensus import Consensus, majority_consensus
from annotary.core.queue import QueueRules, Route, flag_route, sampled_for_review
from annotary.core.schema.fields import AnnotationSchema
from annotary.services.queue.workflow import queue_rules
from annotary.storage.models import AnnotatorModel, FinalLabel, Item, ItemFlag, Membership, Project
from annotary.storage.queue_store import table_of
from annotary.storage.submit_store import answers_of

QUEUED, FINALIZED, REVIEW, ADJUDICATION, ESCALATED = (
    "queued",
    "finalized",
    "review",
    "adjudication",
    "escalated",
)


@dataclass(frozen=True)
class Settlement:
    """An item's outcome at overlap: its new status and, when final, the label's columns."""

    status: str
    label: dict[str, Any] | None


def settle(
    conn: Connection,
    rules: QueueRules,
    project_id: int,
    item_id: int,
    schema: AnnotationSchema,
    answers: Sequence[tuple[int, dict[str, Any]]],
) -> Settlement:
    """Finalize with the consensus of `answers` (user, payload) if agreement reaches
    the threshold, else send the item to adjudication. A single annotation
    (overlap 1) is final.

    The consensus follows `workflow.aggregation`: `majority`; `weighted` (each
    vote weighs the log-odds of its annotator's smoothed gold accuracy); or
    `dawid_skene`, which labels single-choice fields with the posterior under the
    parameters of the last project-wide fit (`annotary qa aggregate`), and falls
    back to a majority vote until there is one. The agreement compared with the
    threshold is always the plain share of annotations that agree.
    """
    payloads = [payload for _, payload in answers]
    users = [user for user, _ in answers]
    method = "weighted" if rules.aggregation == "weighted" else "majority"
    weights = _gold_weights(conn, project_id, users) if method == "weighted" else None
    consensus = majority_consensus(schema, payloads, weights)
    if rules.aggregation == "dawid_skene":
        refined = dawid_skene_consensus(conn, project_id, consensus, users, payloads)
        if refined is not None:
            method, consensus = "dawid_skene", refined
    agreed = consensus.agreement is not None and consensus.agreement >= rules.agreement_threshold
    if rules.overlap > 1 and not agreed:
        return Settlement(ADJUDICATION, None)
    label = {
        "item_id": item_id,
        "payload": consensus.payload,
        "method": method,
        "confidence": consensus.confidence,
        "agreement": consensus.agreement,
    }
    sampled = sampled_for_review(rules.secret, item_id, rules.review_sampling_rate)
    final = REVIEW if sampled else FINALIZED
    return Settlement(final, label)


def store_final_label(conn: Connection, settlement: Settlement) -> None:
    """Write the settlement's final label, if it has one."""
    if settlement.label is not None:
        conn.execute(insert(table_of(FinalLabel)), settlement.label)


def finalize_if_complete(
    session: Session, project: Project, item: Item, schema: AnnotationSchema
) -> None:
    """Settle a queued ORM item whose annotations reached the overlap (see `settle`)."""
    rules = queue_rules(project)
    if item.status != QUEUED or item.annotation_count < rules.overlap:
        return
    session.flush()
    conn = session.connection()
    settlement = settle(conn, rules, project.id, item.id, schema, answers_of(conn, item.id))
    store_final_label(conn, settlement)
    item.status = settlement.status


_GOLD_COUNTS = select(Membership.user_id, Membership.gold_correct, Membership.gold_answered).where(
    Membership.project_id == bindparam("project_id"),
    Membership.user_id.in_(bindparam("users", expanding=True)),
)


def _gold_weights(conn: Connection, project_id: int, user_ids: list[int]) -> list[float]:
    """Per annotation, its annotator's weight: the log-odds of their gold accuracy,
    Laplace-smoothed (`WeightedVote.from_gold`, two outcomes: right or wrong).

    An annotator without gold answers (accuracy 1/2) or at chance weighs 0; if
    every vote weighs 0 the consensus falls back to a plain majority.
    """
    counts = {
        user: (correct, answered)
        for user, correct, answered in conn.execute(
            _GOLD_COUNTS, {"project_id": project_id, "users": sorted(set(user_ids))}
        )
    }
    correct = [counts.get(u, (0, 0))[0] for u in user_ids]
    answered = [counts.get(u, (0, 0))[1] for u in user_ids]
    weights = WeightedVote.from_gold(correct, answered, n_labels=2).weights
    return [float(w) for w in weights]


def escalate(
    conn: Connection,
    routes: Sequence[Route],
    item_id: int,
    metadata: Mapping[str, Any],
    status: str,
    route_rule: int | None,
    user_id: int,
    flags: Sequence[str],
    note: str | None,
) -> tuple[str, int | None]:
    """Record the flags; the item's new `(status, route_rule)`: queued and
    adjudication items move to the escalation queue; any other item (gold,
    already escalated, final) keeps its status.

    A routing rule on one of the flags (and on the item's `metadata`, if it
    names some) decides who handles it; without one the item keeps its
    metadata routing and experts handle it (`core.queue.senior_routes`).
    """
    conn.execute(
        insert(table_of(ItemFlag)),
        [{"item_id": item_id, "user_id": user_id, "flag": flag, "note": note} for flag in flags],
    )
    if status not in (QUEUED, ADJUDICATION):
        return status, route_rule
    rule = flag_route(routes, flags, metadata)
    return ESCALATED, rule if rule is not None else route_rule


_FITTED = select(AnnotatorModel.field, AnnotatorModel.params).where(
    AnnotatorModel.project_id == bindparam("project_id"),
    AnnotatorModel.method == "dawid_skene",
)


def dawid_skene_consensus(
    conn: Connection,
    project_id: int,
    consensus: Consensus,
    users: list[int],
    payloads: list[dict[str, Any]],
) -> Consensus | None:
    """The majority consensus with every fitted field replaced by its Dawid-Skene
    posterior label; None when the project has no fitted model yet.

    Annotators the fit has not seen get the average confusion matrix of those
    it has; confidence is the smallest posterior of the chosen labels.
    """
    models = conn.execute(_FITTED, {"project_id": project_id}).all()
    if not models:
        return None
    payload = dict(consensus.payload)
    confidence = 1.0
    for field, params in models:
        labels: list[str] = params["labels"]
        known = {int(u): np.asarray(m, dtype=np.float64) for u, m in params["errors"].items()}
        average: npt.NDArray[np.float64] = np.mean(list(known.values()), axis=0)
        votes = [
            (known.get(user, average), labels.index(p[field]))
            for user, p in zip(users, payloads, strict=True)
            if p.get(field) in labels
        ]
        if not votes:
            continue
        posterior = item_posterior(
            params["priors"], [m for m, _ in votes], [label for _, label in votes]
        )
        best = int(np.argmax(posterior))
        payload[field] = labels[best]
        confidence = min(confidence, float(posterior[best]))
    return Consensus(payload, consensus.agreement, consensus.per_field, confidence)
