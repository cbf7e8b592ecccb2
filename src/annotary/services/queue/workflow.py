"""A stored project's workflow settings, as the queue policy needs them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from annotary.core.consensus.settings import settings_of
from annotary.core.queue import QueueRules, Route
from annotary.storage.models import Project


def queue_rules(project: Project) -> QueueRules:
    """The queue settings of a stored project (its secret is loaded on first use)."""
    return rules_of(project.definition, project.secret_row.secret)


def rules_of(definition: dict[str, Any], secret: str = "") -> QueueRules:
    """The queue settings of a stored project definition and its secret (hex).

    Without the secret the rules serve everything but the review sample and item
    references, which refuse to work (`core.queue._keyed`): re-aggregation, for
    one, needs only the consensus settings."""
    workflow: dict[str, Any] = definition.get("workflow", {})
    qualification = workflow.get("qualification")
    return QueueRules(
        overlap=workflow.get("overlap", 1),
        gold_rate=workflow.get("gold_rate", 0.0),
        min_gold_accuracy=workflow.get("min_gold_accuracy", 0.0),
        min_gold_count=workflow.get("min_gold_count", 10),
        qualification_items=qualification["min_items"] if qualification else None,
        qualification_pass_mark=qualification["pass_mark"] if qualification else 0.8,
        terms_required=bool(workflow.get("confidentiality_terms")),
        routes=routes_of(workflow),
        agreement_threshold=workflow.get("agreement_threshold", 0.66),
        review_sampling_rate=workflow.get("review_sampling_rate", 0.0),
        aggregation=workflow.get("aggregation", "majority"),
        consensus=settings_of(workflow.get("consensus")),
        secret=bytes.fromhex(secret),
    )


def routes_of(workflow: dict[str, Any]) -> tuple[Route, ...]:
    """Routing rules from a workflow section."""
    return tuple(
        Route(
            metadata=rule.get("metadata") or {},
            flag=rule.get("flag"),
            tier=rule.get("tier"),
            skills=frozenset(rule.get("skills") or ()),
        )
        for rule in workflow.get("routing", [])
    )


def lease_timeout(definition: dict[str, Any]) -> timedelta:
    """How long a task stays leased to an annotator (default 15 minutes)."""
    return timedelta(seconds=definition.get("workflow", {}).get("lease_timeout", 900))
