"""Re-aggregate a project's machine-made final labels with Dawid-Skene.

The fit is `core.aggregation.refit`; this use case loads the annotations,
stores the fitted parameters and rewrites the machine-made final labels. Until
the next refit the queue labels completing items with the stored parameters
(the E-step for one item), and by majority vote before the first fit. Human
decisions (adjudication, expert, review) are never overwritten, and items
still waiting for a human are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotary.core.aggregation.refit import ProjectFit, refit_dawid_skene
from annotary.core.schema.fields import AnnotationSchema, LabelField
from annotary.services.audit import record_event
from annotary.services.identity.access import MANAGER, Actor, project_for, require_role
from annotary.services.projects import current_schema, get_project
from annotary.storage.db import Database, write_transaction
from annotary.storage.models import FinalLabel
from annotary.storage.qa_store import (
    machine_final_labels,
    regular_annotations,
    store_annotator_model,
)

MACHINE_METHODS = ("majority", "weighted", "dawid_skene")


@dataclass(frozen=True)
class AggregateReport:
    """What a re-aggregation did."""

    fields: list[str]
    items_relabelled: int
    labels_changed: int
    converged: bool


def aggregate_project(
    db: Database, project_name: str, actor: Actor | None = None
) -> AggregateReport:
    """Refit Dawid-Skene on every single-choice field and rewrite machine-made
    final labels (method `dawid_skene`, confidence = the smallest posterior of
    the chosen labels). `actor` None means the trusted local CLI."""
    with write_transaction(db.sessions) as session:
        if actor is None:
            ref = get_project(session, project_name)
            project_id, schema = ref.id, ref.schema
        else:
            project = project_for(session, actor, project_name)
            require_role(session, actor, project, frozenset({MANAGER}))
            project_id, schema = project.id, current_schema(session, project)
        fields = single_choice_fields(schema)
        names = [name for name, _ in fields]
        rows = regular_annotations(session, project_id)
        finals = machine_final_labels(session, project_id, MACHINE_METHODS)
        if not rows or not fields or not finals:
            return AggregateReport(names, 0, 0, True)
        fit = refit_dawid_skene(rows, fields)
        for field_fit in fit.fits:
            store_annotator_model(session, project_id, field_fit.field, field_fit.params())
        relabelled, changed = _relabel(finals, fit)
        record_event(
            session,
            "items.aggregate",
            actor_id=actor.user_id if actor else None,
            project_id=project_id,
            target=f"project:{project_name}",
            details={"method": "dawid_skene", "items": relabelled, "changed": changed},
            source=actor.source if actor else "cli",
        )
        return AggregateReport(names, relabelled, changed, fit.converged)


def single_choice_fields(schema: AnnotationSchema) -> list[tuple[str, list[str]]]:
    """`(name, labels)` of the fields Dawid-Skene models: single-choice, not per turn."""
    return [
        (f.name, f.label_names())
        for f in schema.fields
        if isinstance(f, LabelField) and not f.per_turn
    ]


def _relabel(finals: dict[int, FinalLabel], fit: ProjectFit) -> tuple[int, int]:
    """Write the fitted labels into the machine-made final labels; (items, changed values)."""
    relabelled = changed = 0
    for item_id, per_field in fit.chosen.items():
        final = finals.get(item_id)
        if final is None:
            continue
        payload = dict(final.payload)
        for name, (value, _) in per_field.items():
            changed += payload.get(name) != value
            payload[name] = value
        final.payload = payload
        final.method = "dawid_skene"
        final.confidence = min(p for _, p in per_field.values())
        relabelled += 1
    return relabelled, changed
