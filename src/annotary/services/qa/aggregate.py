"""Re-aggregate a project's machine-made final labels with Dawid-Skene.

The fit is `core.aggregation.refit`; this use case loads the annotations,
stores the fitted parameters and rewrites the machine-made final labels. Until
the next refit the queue labels completing items with the stored parameters
(the E-step for one item), and by majority vote before the first fit. Human
decisions (adjudication, expert, review) are never overwritten, and items
still waiting for a human are left alone. Every rewritten field's record in
the final label (`fields`) is rewritten with it: method `dawid_skene`, the
posterior as confidence, and the share of the item's annotations that gave the
new label as agreement; the item's agreement and confidence are the smallest
over its fields again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotary.core.aggregation.refit import ProjectFit, refit_dawid_skene
from annotary.core.consensus import FieldSetting, field_rules
from annotary.core.schema.fields import AnnotationSchema, LabelField
from annotary.services.audit import record_event
from annotary.services.identity.access import MANAGER, Actor, project_for, require_role
from annotary.services.projects import current_schema, get_project
from annotary.services.queue.workflow import rules_of
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
            project_id, schema, definition = ref.id, ref.schema, ref.definition
        else:
            project = project_for(session, actor, project_name)
            require_role(session, actor, project, frozenset({MANAGER}))
            project_id, schema = project.id, current_schema(session, project)
            definition = project.definition
        rules = rules_of(definition)
        fields = single_choice_fields(schema, rules.consensus)
        names = [name for name, _ in fields]
        rows = regular_annotations(session, project_id)
        finals = machine_final_labels(session, project_id, MACHINE_METHODS)
        if not rows or not fields or not finals:
            return AggregateReport(names, 0, 0, True)
        fit = refit_dawid_skene(rows, fields)
        for field_fit in fit.fits:
            store_annotator_model(session, project_id, field_fit.field, field_fit.params())
        plan = field_rules(
            schema, rules.aggregation, rules.agreement_threshold, rules.consensus, db.plugins
        )
        thresholds = {name: rule.threshold for name, rule in plan.items()}
        relabelled, changed = _relabel(finals, fit, _given(rows, names), thresholds)
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


def single_choice_fields(
    schema: AnnotationSchema, settings: Mapping[str, FieldSetting] | None = None
) -> list[tuple[str, list[str]]]:
    """`(name, labels)` of the fields Dawid-Skene models: single-choice, not per turn,
    and not set to another method in `workflow.consensus`."""
    settings = settings or {}
    return [
        (f.name, f.label_names())
        for f in schema.fields
        if isinstance(f, LabelField)
        and not f.per_turn
        and settings.get(f.name, FieldSetting()).method in (None, "dawid_skene")
    ]


@dataclass
class _Given:
    """How many annotations an item has, and how many gave each value of each field."""

    annotations: int = 0
    values: dict[str, Counter[Any]] = field(default_factory=dict)

    def share(self, name: str, value: Any) -> float | None:
        """Share of the item's annotations that gave `value` for `name`."""
        return self.values[name][value] / self.annotations if self.annotations else None


def _given(rows: Sequence[tuple[int, int, dict[str, Any]]], names: list[str]) -> dict[int, _Given]:
    out: dict[int, _Given] = {}
    for item, _, payload in rows:
        given = out.setdefault(item, _Given(values={name: Counter() for name in names}))
        given.annotations += 1
        for name in names:
            given.values[name][payload.get(name)] += 1
    return out


def _relabel(
    finals: dict[int, FinalLabel],
    fit: ProjectFit,
    given: dict[int, _Given],
    thresholds: Mapping[str, float],
) -> tuple[int, int]:
    """Write the fitted labels and their records into the machine-made final labels;
    (items, changed values)."""
    relabelled = changed = 0
    for item_id, per_field in fit.chosen.items():
        final = finals.get(item_id)
        if final is None:
            continue
        counts = given.get(item_id, _Given(values={name: Counter() for name in per_field}))
        payload = dict(final.payload)
        record = {name: dict(entry) for name, entry in (final.fields or {}).items()}
        for name, (value, posterior) in per_field.items():
            changed += payload.get(name) != value
            payload[name] = value
            record[name] = {
                "method": "dawid_skene",
                "measure": "share",
                "agreement": counts.share(name, value),
                "confidence": posterior,
                "threshold": record.get(name, {}).get("threshold", thresholds.get(name)),
            }
        final.payload = payload
        final.fields = record
        final.method = "dawid_skene"
        final.confidence = _smallest(record, "confidence")
        final.agreement = _smallest(record, "agreement")
        relabelled += 1
    return relabelled, changed


def _smallest(record: dict[str, dict[str, Any]], key: str) -> float | None:
    values = [entry[key] for entry in record.values() if entry.get(key) is not None]
    return min(values) if values else None
