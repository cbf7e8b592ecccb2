"""What happens to an item once its annotations are in, or when it is flagged.

Called inside the submitting transaction with the item row locked. The queue's
submit decides the outcome before it writes the item once (`settle`); review
works on ORM items (`finalize_if_complete`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from annotary.core.aggregation import WeightedVote
from annotary.core.consensus import field_rules
from annotary.core.consensus.aggregator import DAWID_SKENE_FITS, GOLD_WEIGHTS
from annotary.core.consensus.item import item_consensus
from annotary.core.consensus.outcome import ItemConsensus, Voters
from annotary.core.consensus.settings import aggregators_of
from annotary.core.plugins.registry import Plugins
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
    plugins: Plugins | None = None,
) -> Settlement:
    """Finalize with the consensus of `answers` (user, payload) when every compared
    field agrees enough, else send the item to adjudication. A single annotation
    (overlap 1) is final.

    Each field is combined by its kind's aggregator (`core.consensus`) and
    compared with its own threshold (`workflow.consensus`, default
    `workflow.agreement_threshold`); a non-blank free-text answer always waits
    for a reviewer unless the field is `omit`ted. The final label records the
    method, agreement and confidence of every field. The methods are those
    `plugins` registers (None: the default plugins).
    """
    content = item_content(conn, item_id) if any(f.per_turn for f in schema.fields) else None
    consensus = consensus_for(conn, rules, project_id, schema, answers, content, plugins)
    if rules.overlap > 1 and not consensus.agreed:
        return Settlement(ADJUDICATION, None)
    label = {
        "item_id": item_id,
        "payload": consensus.payload,
        "method": consensus.method,
        "confidence": consensus.confidence,
        "agreement": consensus.agreement,
        "fields": consensus.record(),
    }
    sampled = sampled_for_review(rules.secret, item_id, rules.review_sampling_rate)
    final = REVIEW if sampled else FINALIZED
    return Settlement(final, label)


def consensus_for(
    conn: Connection,
    rules: QueueRules,
    project_id: int,
    schema: AnnotationSchema,
    answers: Sequence[tuple[int, dict[str, Any]]],
    content: dict[str, Any] | None = None,
    plugins: Plugins | None = None,
) -> ItemConsensus:
    """The consensus of an item's annotations under the project's settings
    (checked against the item's `content` when given).

    `weighted` votes weigh the log-odds of each annotator's gold accuracy;
    `dawid_skene` fields take the posterior under the last project-wide fit
    (`annotary qa aggregate`) and are voted by majority until there is one.
    Gold counts and fits are read only when a field's method `uses` them.
    """
    users = tuple(user for user, _ in answers)
    plan = field_rules(
        schema, rules.aggregation, rules.agreement_threshold, rules.consensus, plugins
    )
    aggregators = aggregators_of(plugins)
    uses = {need for rule in plan.values() for need in aggregators[rule.method].uses}
    weights = tuple(_gold_weights(conn, project_id, list(users))) if GOLD_WEIGHTS in uses else None
    fits = dawid_skene_fits(conn, project_id) if DAWID_SKENE_FITS in uses else {}
    voters = Voters(users, weights, fits)
    payloads = [payload for _, payload in answers]
    return item_consensus(schema, plan, payloads, voters, content, plugins)


_CONTENT = select(Item.content).where(Item.id == bindparam("item"))


def item_content(conn: Connection, item_id: int) -> dict[str, Any]:
    """The item's content: what a per-turn field's turns are checked against."""
    return dict(conn.execute(_CONTENT, {"item": item_id}).scalar_one())


def store_final_label(conn: Connection, settlement: Settlement) -> None:
    """Write the settlement's final label, if it has one."""
    if settlement.label is not None:
        conn.execute(insert(table_of(FinalLabel)), settlement.label)


def finalize_if_complete(
    session: Session,
    project: Project,
    item: Item,
    schema: AnnotationSchema,
    plugins: Plugins | None = None,
) -> None:
    """Settle a queued ORM item whose annotations reached the overlap (see `settle`)."""
    rules = queue_rules(project)
    if item.status != QUEUED or item.annotation_count < rules.overlap:
        return
    session.flush()
    conn = session.connection()
    answers = answers_of(conn, item.id)
    settlement = settle(conn, rules, project.id, item.id, schema, answers, plugins)
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
    every vote weighs 0 the vote falls back to a plain majority.
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


def dawid_skene_fits(conn: Connection, project_id: int) -> dict[str, dict[str, Any]]:
    """The stored Dawid-Skene parameters of the project, by field (empty before the
    first `annotary qa aggregate`)."""
    return dict(conn.execute(_FITTED, {"project_id": project_id}).tuples().all())
